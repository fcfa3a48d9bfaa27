using Microsoft.Playwright;

namespace SessionTrail.Ui.Tests;

/// <summary>Debian's Chromium (/usr/bin/chromium) driven by Playwright's bundled driver; no browser is downloaded.</summary>
public sealed class Browser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private IPlaywright? playwright;

    public IBrowser Chromium { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: apt-get install chromium (.ci/run does)");
        playwright = await Playwright.CreateAsync();
        Chromium = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            // The closed network here refuses Chromium's background connections; autoplay lets the tests press play from script.
            Args = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--autoplay-policy=no-user-gesture-required"],
        });
    }

    public async Task DisposeAsync()
    {
        if (Chromium is not null)
        {
            await Chromium.DisposeAsync();
        }

        playwright?.Dispose();
    }
}

/// <summary>One server and one browser for every UI test (seeding makes a real recording, which takes a few seconds).</summary>
[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<SeededServer>, ICollectionFixture<Browser>
{
    public const string Name = "ui";
}

/// <summary>
/// A browser context (its own cookies) with one page whose console errors and uncaught exceptions are collected;
/// <see cref="AssertNoErrorsAsync"/> fails the test on any that is not expected.
/// </summary>
public sealed class UiPage : IAsyncDisposable
{
    private readonly List<string> errors = [];

    private UiPage(IBrowserContext context, IPage page, Uri baseAddress)
    {
        Context = context;
        Page = page;
        BaseAddress = baseAddress;
        page.Console += (_, m) =>
        {
            if (m.Type is "error" or "warning")
            {
                lock (errors)
                {
                    errors.Add($"console {m.Type}: {m.Text} ({m.Location})");
                }
            }
        };
        page.PageError += (_, e) =>
        {
            lock (errors)
            {
                errors.Add($"page error: {e}");
            }
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    public Uri BaseAddress { get; }

    public static async Task<UiPage> OpenAsync(Browser browser, SeededServer server)
    {
        var context = await browser.Chromium.NewContextAsync(new() { BaseURL = server.BaseAddress.ToString().TrimEnd('/'), ViewportSize = new() { Width = 1400, Height = 1000 } });
        return new UiPage(context, await context.NewPageAsync(), server.BaseAddress);
    }

    /// <summary>Goes to /signin, fills the form and waits for the shell to show the user.</summary>
    public async Task SignInAsync(string user, string password = SeededServer.Password, string path = "/")
    {
        await Page.GotoAsync("/signin?next=" + Uri.EscapeDataString(path));
        await Page.GetByLabel("User name").FillAsync(user);
        await Page.GetByLabel("Password").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(Page.Locator("#who-name")).ToHaveTextAsync(user);
    }

    /// <summary>Saves a full-page screenshot under TestResults/screenshots/ and prints its path.</summary>
    public async Task<string> ScreenshotAsync(string name, Xunit.Abstractions.ITestOutputHelper? output = null)
    {
        Directory.CreateDirectory(SeededServer.ScreenshotDir);
        var path = Path.Combine(SeededServer.ScreenshotDir, name + ".png");
        await Page.ScreenshotAsync(new() { Path = path, FullPage = true });
        output?.WriteLine($"screenshot: {path}");
        Console.WriteLine($"screenshot: {path}");
        return path;
    }

    /// <summary>Fails on any console error/warning or page error, except those matching one of <paramref name="expected"/>.</summary>
    public void AssertNoErrors(params string[] expected)
    {
        List<string> unexpected;
        lock (errors)
        {
            unexpected = errors.Where(e => !expected.Any(x => e.Contains(x, StringComparison.Ordinal))).ToList();
        }

        Assert.True(unexpected.Count == 0, "browser errors:\n" + string.Join('\n', unexpected));
    }

    public async ValueTask DisposeAsync() => await Context.DisposeAsync();
}
