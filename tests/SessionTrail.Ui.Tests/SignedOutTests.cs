using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SessionTrail.Ui.Tests;

/// <summary>
/// Signed out is a normal state, not an error: the page `up` tells people to open shows the sign-in form without a
/// console message (of any level), a failed request or an HTTP error answer — also with a cookie of a session that ended.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class SignedOutTests(SeededServer server, Browser browser)
{
    /// <summary>Every console message, request failure and HTTP answer ≥ 400 of a page.</summary>
    private sealed class Trouble
    {
        private readonly List<string> seen = [];

        public Trouble(IPage page)
        {
            page.Console += (_, m) => Add($"console {m.Type}: {m.Text} ({m.Location})");
            page.PageError += (_, e) => Add($"page error: {e}");
            page.RequestFailed += (_, r) => Add($"request failed: {r.Method} {r.Url}: {r.Failure}");
            page.Response += (_, r) =>
            {
                if (r.Status >= 400)
                {
                    Add($"HTTP {r.Status}: {r.Request.Method} {r.Url}");
                }
            };
        }

        public void AssertNone()
        {
            lock (seen)
            {
                Assert.True(seen.Count == 0, "expected a quiet page, got:\n" + string.Join('\n', seen));
            }
        }

        private void Add(string what)
        {
            lock (seen)
            {
                seen.Add(what);
            }
        }
    }

    [Theory]
    [InlineData("/", "%2F")]
    [InlineData("/sessions", "%2Fsessions")]
    public async Task Opening_a_page_signed_out_shows_the_sign_in_form_quietly(string path, string next)
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        var trouble = new Trouble(ui.Page);

        await ui.Page.GotoAsync(path);

        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to SessionTrail" })).ToBeVisibleAsync();
        await Expect(ui.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/signin\\?next={next}$"));
        await Expect(ui.Page.GetByLabel("User name")).ToBeFocusedAsync();
        await Expect(ui.Page.Locator("#top")).ToBeHiddenAsync();
        await ui.Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        trouble.AssertNone();
    }

    [Fact]
    public async Task Opening_the_page_with_the_cookie_of_an_ended_session_shows_the_sign_in_form_quietly_and_drops_the_cookie()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.Context.AddCookiesAsync([new Cookie { Name = "st_session", Value = "ended-long-ago", Url = server.BaseAddress.ToString() }]);
        var trouble = new Trouble(ui.Page);

        await ui.Page.GotoAsync("/");

        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to SessionTrail" })).ToBeVisibleAsync();
        await ui.Page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        trouble.AssertNone();
        Assert.DoesNotContain(await ui.Context.CookiesAsync(), c => c.Name == "st_session");

        // Signing in from there works as usual.
        await ui.Page.GetByLabel("User name").FillAsync("alice");
        await ui.Page.GetByLabel("Password").FillAsync(SeededServer.Password);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(ui.Page.Locator("#who-name")).ToHaveTextAsync("alice");
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        trouble.AssertNone();
    }
}
