using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace SessionTrail.Ui.Tests;

/// <summary>
/// The web UI in a real Chromium against a real, seeded server: sign-in, every page without console or page errors,
/// dashboard numbers equal to the API's, the session page's player and timeline, the viewer refused a recording,
/// keyboard use. Each page is screenshotted to TestResults/screenshots/.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class WebUiTests(SeededServer server, Browser browser, ITestOutputHelper output)
{
    private static readonly string RecordedPath = "/sessions/" + Uri.EscapeDataString(SeededServer.RecordedSession);

    [Fact]
    public async Task Signing_in_shows_the_dashboard_and_signing_out_returns_to_the_sign_in_page()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.Page.GotoAsync("/sessions");
        await Expect(ui.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?next=%2Fsessions$"));
        await ui.ScreenshotAsync("01-signin", output);

        await ui.Page.GetByLabel("User name").FillAsync("alice");
        await ui.Page.GetByLabel("Password").FillAsync("wrong password");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(ui.Page.Locator("#signin-error")).ToHaveTextAsync("wrong user name or password");

        await ui.Page.GetByLabel("Password").FillAsync(SeededServer.Password);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(ui.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/sessions$"));
        await Expect(ui.Page.Locator("#who-role")).ToHaveTextAsync("auditor");
        var cookie = (await ui.Context.CookiesAsync()).Single(c => c.Name == "st_session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);

        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to SessionTrail" })).ToBeVisibleAsync();
        var me = await ui.Page.APIRequest.GetAsync("/api/v1/auth/me");
        Assert.Equal(HttpStatusCode.OK, (HttpStatusCode)me.Status);
        Assert.False((await me.JsonAsync())!.Value.GetProperty("signedIn").GetBoolean());
        // The wrong password is a 401 that Chromium logs as a failed resource.
        ui.AssertNoErrors("status of 401");
    }

    [Fact]
    public async Task A_session_ended_on_the_server_returns_to_sign_in_and_then_to_the_page()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("alice");
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        // Signed out elsewhere: the server deletes the session (logout needs the CSRF header the page holds).
        var status = await ui.Page.EvaluateAsync<int>(
            "async () => (await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'X-CSRF-Token': (await (await fetch('/api/v1/auth/me')).json()).csrf } })).status");
        Assert.Equal(204, status);
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "Sessions", Exact = true }).ClickAsync();
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to SessionTrail" })).ToBeVisibleAsync();
        await Expect(ui.Page.Locator("#flash")).ToHaveTextAsync("Your session has ended; please sign in again.");
        await Expect(ui.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?next=%2Fsessions$"));
        await ui.Page.GetByLabel("User name").FillAsync("alice");
        await ui.Page.GetByLabel("Password").FillAsync(SeededServer.Password);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Sessions" })).ToBeVisibleAsync();
        ui.AssertNoErrors("status of 401");
    }

    [Fact]
    public async Task The_dashboard_shows_the_dashboard_api_numbers_and_each_chart_has_its_table_and_csv()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("alice");
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Dashboard" })).ToBeVisibleAsync();
        await ui.ScreenshotAsync("02-dashboard", output);

        var api = await JsonAsync(ui, "/api/v1/dashboard?top=10");
        Assert.Equal(api.GetProperty("activeSessions").GetInt32().ToString(CultureInfo.InvariantCulture),
            await ui.Page.Locator("#active-sessions .stat-value").GetAttributeAsync("data-value"));
        Assert.True(api.GetProperty("activeSessions").GetInt32() >= 1, "the seed leaves one session running");
        Assert.Equal(api.GetProperty("activeUsers").GetInt32().ToString(CultureInfo.InvariantCulture),
            await ui.Page.Locator("#active-users .stat-value").GetAttributeAsync("data-value"));

        foreach (var (part, keys) in new[]
        {
            ("topByTime", new[] { "app", "seconds", "runs", "users" }),
            ("topByLaunches", new[] { "app", "launches", "users" }),
            ("perDay", new[] { "day", "sessions", "users", "runs", "seconds" }),
            ("peakConcurrency", new[] { "app", "peak", "day", "peakRuns" }),
        })
        {
            var expected = api.GetProperty(part).EnumerateArray().Select(r => string.Join("|", keys.Select(k => Text(r.GetProperty(k))))).ToList();
            Assert.NotEmpty(expected);
            var card = ui.Page.Locator($"#{part}");
            var table = card.Locator("table");
            await Expect(table).ToBeHiddenAsync();
            await card.GetByRole(AriaRole.Button, new() { Name = "Table" }).ClickAsync();
            await Expect(table).ToBeVisibleAsync();
            var shown = await table.Locator("tbody tr").EvaluateAllAsync<string[]>(
                "(rows, keys) => rows.map(r => keys.map(k => r.querySelector(`td[data-key='${k}']`).dataset.value).join('|'))", keys);
            Assert.Equal(expected, shown);
            Assert.Equal(expected.Count, await card.Locator("svg rect.bar").CountAsync());

            var href = await card.GetByRole(AriaRole.Link, new() { Name = "CSV" }).GetAttributeAsync("href");
            var csv = await ui.Page.APIRequest.GetAsync(href!);
            Assert.Equal(200, csv.Status);
            Assert.StartsWith("text/csv", csv.Headers["content-type"], StringComparison.Ordinal);
            var lines = (await csv.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(expected.Count + 1, lines.Length);
        }

        // The same numbers as the report API: top applications by time and by launches.
        var topApps = await JsonAsync(ui, "/api/v1/reports/top-apps");
        var bySeconds = topApps.EnumerateArray().ToDictionary(r => r.GetProperty("app").GetString()!, r => r.GetProperty("seconds").GetDouble());
        foreach (var row in api.GetProperty("topByTime").EnumerateArray())
        {
            var app = row.GetProperty("app").GetString()!;
            Assert.True(bySeconds.TryGetValue(app, out var seconds), $"{app} is not in reports/top-apps: {string.Join(", ", bySeconds.Keys)}");
            Assert.Equal(seconds, row.GetProperty("seconds").GetDouble(), 3);
        }

        // Filters go to the API: one user's dashboard.
        await ui.Page.GetByLabel("User", new() { Exact = true }).FillAsync("bob");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(ui.Page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("user=bob"));
        var bob = await JsonAsync(ui, "/api/v1/dashboard?top=10&user=bob");
        await ui.Page.Locator("#topByLaunches").GetByRole(AriaRole.Button, new() { Name = "Table" }).ClickAsync();
        var launches = await ui.Page.Locator("#topByLaunches td[data-key='launches']").EvaluateAllAsync<string[]>("tds => tds.map(t => t.dataset.value)");
        Assert.Equal(bob.GetProperty("topByLaunches").EnumerateArray().Select(r => Text(r.GetProperty("launches"))), launches);
        ui.AssertNoErrors();
    }

    [Fact]
    public async Task The_sessions_list_searches_sorts_and_pages_on_the_server()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("alice", path: "/sessions");
        await Expect(ui.Page.Locator("#sessions-count")).ToHaveTextAsync("1–50 of 62");
        await ui.ScreenshotAsync("03-sessions", output);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Next ›" }).ClickAsync();
        await Expect(ui.Page.Locator("#sessions-count")).ToHaveTextAsync("51–62 of 62");

        await ui.Page.GetByLabel("Search (id, user, host)").FillAsync("as-rec-0001");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(ui.Page.Locator("#sessions-count")).ToHaveTextAsync("1–1 of 1");
        var row = ui.Page.Locator("table.sessions tbody tr");
        await Expect(row).ToContainTextAsync("recorded");
        await Expect(row).ToContainTextAsync("winword.exe");

        await ui.Page.GetByLabel("Search (id, user, host)").FillAsync("");
        await ui.Page.GetByLabel("Recording").SelectOptionAsync("true");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        await Expect(ui.Page.Locator("#sessions-count")).ToHaveTextAsync("1–2 of 2");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();
        // A date range: the recorded sessions' day, as the API counts it with the same bounds.
        var day = server.T0.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        await ui.Page.GetByLabel("From (UTC day)").FillAsync(day);
        await ui.Page.GetByLabel("To (UTC day)").FillAsync(day);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Apply" }).ClickAsync();
        var dayTotal = (await JsonAsync(ui, $"/api/v1/sessions?from={day}T00:00:00.000Z&to={server.T0.UtcDateTime.AddDays(1):yyyy-MM-dd}T00:00:00.000Z&limit=1")).GetProperty("total").GetInt32();
        Assert.InRange(dayTotal, 3, 61);
        await Expect(ui.Page.Locator("#sessions-count")).ToHaveTextAsync($"1–{Math.Min(dayTotal, 50)} of {dayTotal}");
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Duration" }).ClickAsync();
        await Expect(ui.Page.Locator("th[aria-sort='ascending']")).ToContainTextAsync("Duration");
        var api = await JsonAsync(ui, "/api/v1/sessions?sort=duration&limit=50");
        var ids = await ui.Page.Locator("table.sessions tbody a.sid").AllInnerTextsAsync();
        Assert.Equal(api.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetString()), ids);

        ui.AssertNoErrors();
    }

    [Fact]
    public async Task The_session_page_plays_the_recording_and_the_timeline_seeks_it()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("alice", path: RecordedPath);
        var page = ui.Page;
        var video = page.Locator("video");
        await Expect(video).ToBeVisibleAsync();
        Assert.Equal($"/api/v1/sessions/{SeededServer.RecordedSession}/recordings/0", new Uri(await video.EvaluateAsync<string>("v => v.currentSrc")).AbsolutePath);
        await page.WaitForFunctionAsync("() => document.querySelector('video').readyState >= 1");

        // Play: the time advances, no media error, the cursor moves across the timeline.
        await video.EvaluateAsync("v => v.play()");
        await page.WaitForFunctionAsync("() => document.querySelector('video').currentTime > 0.8");
        var cursor1 = await page.Locator(".tl-cursor").GetAttributeAsync("data-time");
        var left1 = await page.Locator(".tl-cursor").EvaluateAsync<double>("c => c.getBoundingClientRect().left");
        await page.WaitForFunctionAsync("() => document.querySelector('video').currentTime > 2.0");
        var cursor2 = await page.Locator(".tl-cursor").GetAttributeAsync("data-time");
        var left2 = await page.Locator(".tl-cursor").EvaluateAsync<double>("c => c.getBoundingClientRect().left");
        Assert.True(DateTimeOffset.Parse(cursor2!, CultureInfo.InvariantCulture) > DateTimeOffset.Parse(cursor1!, CultureInfo.InvariantCulture), $"{cursor1} → {cursor2}");
        Assert.True(left2 > left1, $"the cursor did not move right: {left1} → {left2}");
        Assert.Null(await video.EvaluateAsync<object?>("v => v.error && v.error.message"));
        await ui.ScreenshotAsync("04-session-playing", output);
        await video.EvaluateAsync("v => v.pause()");

        // Click a run: winword starts at T0+11 s, 1 s into segment 1 (T0+10..16 s).
        await page.GetByRole(AriaRole.Button, new() { Name = "Play from winword.exe" }).ClickAsync();
        await AssertAtAsync(page, segment: 1, seconds: 1.0);
        // notepad starts at T0+1 s, before the recording (T0+2 s): the start of segment 0.
        await page.GetByRole(AriaRole.Button, new() { Name = "Play from notepad.exe" }).ClickAsync();
        await AssertAtAsync(page, segment: 0, seconds: 0.0);
        // excel at T0+12 s: 2 s into segment 1.
        await page.GetByRole(AriaRole.Button, new() { Name = "Play from excel.exe" }).ClickAsync();
        await AssertAtAsync(page, segment: 1, seconds: 2.0);
        // A log record at T0+4 s: 2 s into segment 0.
        await page.GetByRole(AriaRole.Button, new() { Name = "Play from 08:00:04: Document opened: report.txt" }).ClickAsync();
        await AssertAtAsync(page, segment: 0, seconds: 2.0);

        // The end of segment 0 goes on with segment 1.
        await video.EvaluateAsync("v => { v.currentTime = 5.2; return v.play(); }");
        await page.WaitForFunctionAsync("() => document.querySelector('video').dataset.segment === '1' && document.querySelector('video').currentTime > 0.3",
            null, new() { Timeout = 15_000 });
        Assert.EndsWith("/recordings/1", await video.EvaluateAsync<string>("v => v.currentSrc"), StringComparison.Ordinal);

        // The gap and the error-code run are on the timeline.
        await Expect(page.Locator(".tl-gap")).ToHaveCountAsync(1);
        await Expect(page.Locator(".tl-run.run-fail")).ToContainTextAsync("winword.exe");
        await Expect(page.Locator(".tl-run.run-session-end")).ToContainTextAsync("excel.exe");
        await Expect(page.Locator(".rec-facts")).ToContainTextAsync("Hash chain verified.");
        await video.EvaluateAsync("v => v.pause()");
        await ui.ScreenshotAsync("05-session-seeked", output);
        ui.AssertNoErrors();
    }

    [Fact]
    public async Task A_broken_chain_is_marked_on_the_timeline_and_named()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("alice", path: "/sessions/" + SeededServer.BrokenSession);
        var page = ui.Page;
        var bad = page.Locator(".tl-seg.tl-bad");
        await Expect(bad).ToHaveCountAsync(1);
        await Expect(bad).ToHaveAttributeAsync("data-state", "chain-broken");
        await Expect(bad).ToHaveAttributeAsync("data-index", "1");
        await Expect(page.Locator(".tl-seg:not(.tl-bad)")).ToHaveCountAsync(1);
        await Expect(page.Locator(".rec-facts [role=alert]")).ToContainTextAsync("segment 1: chain-broken");
        await ui.ScreenshotAsync("10-session-broken-chain", output);
        ui.AssertNoErrors();
    }

    [Fact]
    public async Task Keyboard_tab_reaches_the_runs_and_enter_seeks()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("alice", path: RecordedPath);
        var page = ui.Page;
        await page.WaitForFunctionAsync("() => document.querySelector('video') && document.querySelector('video').readyState >= 1");
        await page.Locator("h1").ClickAsync();
        string? focused = null;
        for (var i = 0; i < 60 && focused != "winword.exe"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            focused = await page.EvaluateAsync<string?>("() => document.activeElement.classList.contains('tl-run') ? document.activeElement.textContent : null");
        }

        Assert.Equal("winword.exe", focused);
        var outline = await page.EvaluateAsync<string>("() => getComputedStyle(document.activeElement).outlineStyle");
        Assert.NotEqual("none", outline);
        await page.Keyboard.PressAsync("Enter");
        await AssertAtAsync(page, segment: 1, seconds: 1.0);
        ui.AssertNoErrors();
    }

    [Fact]
    public async Task A_viewer_sees_the_session_but_is_refused_the_recording()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("victor", path: RecordedPath);
        var page = ui.Page;
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Session {SeededServer.RecordedSession}" })).ToBeVisibleAsync();
        await Expect(page.Locator(".tl-run")).ToHaveCountAsync(3);
        await Expect(page.Locator("#player-message")).ToContainTextAsync("You may not watch this recording");
        await Expect(page.Locator("#player-message")).ToContainTextAsync("auditor");
        Assert.Equal(0, await page.Locator("video").CountAsync());
        var bytes = await page.APIRequest.GetAsync($"/api/v1/sessions/{SeededServer.RecordedSession}/recordings/0");
        Assert.Equal(403, bytes.Status);
        await ui.ScreenshotAsync("06-session-viewer-refused", output);
        // The page's own probe of the segment is the refused (logged) resource.
        ui.AssertNoErrors("status of 403");
    }

    [Fact]
    public async Task The_logs_page_searches_filters_by_a_field_expands_a_record_and_links_to_its_session()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("alice", path: "/logs");
        var page = ui.Page;
        await Expect(page.Locator("ol.records > li").First).ToBeVisibleAsync();
        await ui.ScreenshotAsync("07-logs", output);

        await page.GetByLabel("Full-text query").FillAsync("crashed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(page.Locator("ol.records > li")).ToHaveCountAsync(1);
        var record = page.Locator("ol.records > li").First;
        var expand = record.Locator("button.expand");
        await Expect(expand).ToHaveAttributeAsync("aria-expanded", "false");
        await expand.ClickAsync();
        await Expect(expand).ToHaveAttributeAsync("aria-expanded", "true");
        await Expect(record.Locator("dl.fields")).ToContainTextAsync("fields.Document");
        await Expect(record.Locator("dl.fields")).ToContainTextAsync("report.txt");
        await ui.ScreenshotAsync("08-logs-expanded", output);
        await record.GetByRole(AriaRole.Link, new() { Name = "session" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(RecordedPath + "$"));

        await page.GotoAsync("/logs");
        await page.GetByRole(AriaRole.Button, new() { Name = "Only host h-rec" }).ClickAsync();
        await Expect(page.Locator(".chips")).ToContainTextAsync("host: h-rec");
        await Expect(page.Locator("ol.records > li")).ToHaveCountAsync(3);
        Assert.All(await page.Locator("ol.records .src").AllInnerTextsAsync(), host => Assert.Equal("h-rec", host));

        // Level, provider and event id filter too (columns of their own in the logs API).
        await page.GetByRole(AriaRole.Button, new() { Name = "Only level Error" }).ClickAsync();
        await Expect(page.Locator(".chips")).ToContainTextAsync("level: Error");
        await Expect(page.Locator("ol.records > li")).ToHaveCountAsync(1);
        await Expect(page.Locator("ol.records > li").First).ToContainTextAsync("winword crashed");
        ui.AssertNoErrors();
    }

    [Fact]
    public async Task An_admin_manages_users_and_others_do_not_see_the_page()
    {
        await using var ui = await UiPage.OpenAsync(browser, server);
        await ui.SignInAsync("ada", path: "/users");
        var page = ui.Page;
        await Expect(page.Locator("table.accounts tbody tr")).ToHaveCountAsync(3);
        await page.GetByLabel("User name").FillAsync("newcomer");
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync("a long enough password");
        await page.Locator("form[aria-label='Add a user'] select").SelectOptionAsync("auditor");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add user" }).ClickAsync();
        await Expect(page.Locator("table.accounts tbody tr")).ToHaveCountAsync(4);
        await page.GetByLabel("Role of newcomer").SelectOptionAsync("viewer");
        await page.Locator("tr", new() { HasText = "newcomer" }).GetByRole(AriaRole.Button, new() { Name = "Save role" }).ClickAsync();
        await Expect(page.Locator("#flash")).ToHaveTextAsync("newcomer is now viewer.");
        var users = await JsonAsync(ui, "/api/v1/users");
        var list = users.ValueKind == JsonValueKind.Array ? users : users.GetProperty("users");
        Assert.Equal("viewer", list.EnumerateArray().Single(u => u.GetProperty("user").GetString() == "newcomer").GetProperty("role").GetString());
        await page.GetByLabel("New password for newcomer").FillAsync("another long password");
        await page.Locator("tr", new() { HasText = "newcomer" }).GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(page.Locator("#flash")).ToHaveTextAsync("Password of newcomer changed.");
        await using (var newcomer = await UiPage.OpenAsync(browser, server))
        {
            await newcomer.SignInAsync("newcomer", "another long password");
            await Expect(newcomer.Page.Locator("#who-role")).ToHaveTextAsync("viewer");
        }

        // A token for an agent: shown once; it may not read sessions (403); revoked, it is refused (401).
        await page.GetByLabel("Token name").FillAsync("ui-agent");
        await page.GetByLabel("Token role").SelectOptionAsync("agent");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
        var token = await page.Locator("#new-token").InnerTextAsync();
        Assert.True(token.Length >= 20, token);
        await Expect(page.Locator("table.tokens")).ToContainTextAsync("ui-agent");
        using var agent = new HttpClient { BaseAddress = server.BaseAddress };
        agent.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/v1/sessions")).StatusCode);
        await ui.ScreenshotAsync("09-users", output);
        page.Dialog += (_, d) => d.AcceptAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke token ui-agent" }).ClickAsync();
        await Expect(page.Locator("#flash")).ToHaveTextAsync("Token ui-agent revoked.");
        Assert.Equal(HttpStatusCode.Unauthorized, (await agent.GetAsync("/api/v1/sessions")).StatusCode);
        await page.Locator("tr", new() { HasText = "newcomer" }).GetByRole(AriaRole.Button, new() { Name = "Remove" }).ClickAsync();
        await Expect(page.Locator("table.accounts tbody tr")).ToHaveCountAsync(3);
        ui.AssertNoErrors();

        await using var other = await UiPage.OpenAsync(browser, server);
        await other.SignInAsync("alice");
        await Expect(other.Page.Locator("#nav-users")).ToBeHiddenAsync();
    }

    /// <summary>Waits until the player shows <paramref name="segment"/> at <paramref name="seconds"/> (±0.5 s); fails naming where it is.</summary>
    private static async Task AssertAtAsync(IPage page, int segment, double seconds)
    {
        try
        {
            await page.WaitForFunctionAsync(
                "([seg, t]) => { const v = document.querySelector('video'); return v.dataset.segment === String(seg) && v.readyState >= 1 && !v.seeking && Math.abs(v.currentTime - t) <= 0.5; }",
                new object[] { segment, seconds }, new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            var at = await page.Locator("video").EvaluateAsync<string>("v => `segment ${v.dataset.segment} at ${v.currentTime} s (src ${v.currentSrc}, readyState ${v.readyState}, error ${v.error && v.error.message})`");
            Assert.Fail($"expected segment {segment} at {seconds} ± 0.5 s; the player is on {at}");
        }

        var src = await page.Locator("video").EvaluateAsync<string>("v => v.currentSrc");
        Assert.EndsWith($"/recordings/{segment}", src, StringComparison.Ordinal);
        Assert.Null(await page.Locator("video").EvaluateAsync<object?>("v => v.error && v.error.message"));
    }

    private static async Task<JsonElement> JsonAsync(UiPage ui, string url)
    {
        var response = await ui.Page.APIRequest.GetAsync(url);
        Assert.True(response.Ok, $"{url}: {response.Status} {await response.TextAsync()}");
        return JsonDocument.Parse(await response.TextAsync()).RootElement.Clone();
    }

    private static string Text(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Number => e.GetDouble().ToString(CultureInfo.InvariantCulture),
        JsonValueKind.Null => "",
        _ => e.GetRawText(),
    };
}
