using BanActors.Server.Tests.Gateway;
using BanActors.Server.Tests.Support;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using Xunit.Abstractions;

namespace BanActors.Server.Tests.OperatorConsole;

/// <summary>
/// The console in a real headless Chromium against a real Kestrel, with a real WebSocket IM session: sign in, ban
/// through the form, the list, the kick, the live feed, unban; and the refusals. Screenshots go to TestResults/console/.
/// </summary>
public sealed class ConsoleBrowserSpecs(ConsoleServer fixture, ITestOutputHelper output) : IClassFixture<ConsoleServer>
{
    private ServerHost Server => fixture.Server;

    private string ConsoleUrl => new Uri(Server.Address, "/console").ToString();

    [SkippableFact]
    public async Task An_operator_bans_a_connected_user_through_the_form_sees_the_kick_and_the_feed_then_unbans()
    {
        Browser.SkipUnlessAvailable();
        const string user = "web-user-1";
        var api = Server.Client(TestApps.A);
        var token = (await api.PostAsync("/user/getToken.json", ("userId", user))).Json.GetProperty("token").GetString()!;
        await using var session = await ImClient.ConnectAsync(Server.Address, token);
        await session.ExpectConnectedAsync(user);

        using var driver = Browser.Start();
        driver.Navigate().GoToUrl(ConsoleUrl);
        SignIn(driver, ConsoleServer.Alice, ConsoleServer.AlicePassword);
        driver.WaitFor(d => d.FindElement(By.Id("console-view")).Displayed, "the console shows after sign-in");
        driver.WaitFor(d => d.TextOf("feed-state").StartsWith("Live", StringComparison.Ordinal), "the live feed connects");

        // The user's page: online now, not banned.
        Type(driver, "lookup-user", user);
        driver.FindElement(By.CssSelector("#lookup-form button")).Click();
        driver.WaitFor(d => d.TextOf("user-online").StartsWith("Online", StringComparison.Ordinal), "the user's page shows the live session");
        Assert.Equal("Not banned", driver.TextOf("user-banned"));

        // Ban through the form with a preset, using only the keyboard for the duration.
        driver.FindElement(By.Id("user-fill")).Click();
        Assert.Equal(user, driver.FindElement(By.Id("change-userIds")).GetAttribute("value"));
        driver.FindElement(By.Id("preset-60")).SendKeys(Keys.Space);
        Assert.Equal("60", driver.FindElement(By.Id("change-minutes")).GetAttribute("value"));
        Type(driver, "change-reason", "spam in the lobby");
        driver.FindElement(By.Id("change-ban")).Click();
        driver.WaitFor(d => d.TextOf("status").Contains($"Banned {user} for 1 hour", StringComparison.Ordinal), "the ban is confirmed");

        // The live WebSocket session is closed, and the page shows the user banned and offline.
        await session.ExpectFrameAsync("kicked");
        await session.ExpectCloseAsync(4009);
        driver.WaitFor(d =>
        {
            if (d.TextOf("user-banned") == "Banned" && d.TextOf("user-online") == "Offline") return true;
            d.FindElement(By.Id("user-refresh")).Click();
            return false;
        }, "the user's page shows banned and offline");
        Assert.Contains("spam in the lobby", driver.TextOf("history-body"));
        Assert.Contains(ConsoleServer.Alice, driver.TextOf("history-body"));

        // The ban arrives in the live feed, from the event feed's stream.
        // Elements are found again for each read: the page re-renders its lists as events arrive (a kept reference goes stale).
        var blocked = By.CssSelector($"#feed li[data-type='user.blocked'][data-user='{user}']");
        Assert.Contains("by alice", driver.WaitFor(d => d.FindElement(blocked).Text, "the ban arrives in the live feed"));

        // The list of active bans has the user, with the time left counting down.
        driver.FindElement(By.Id("user-back")).Click();
        var timeLeft = By.CssSelector($"#bans-body tr[data-user='{user}'] [data-until]");
        var first = driver.WaitFor(d => d.FindElement(timeLeft).Text is { Length: > 0 } t ? t : null, "the user is in the list");
        Assert.Matches(@"^(59|60) min \d\d s$|^1 h 00 min 00 s$", first);
        driver.WaitFor(d => d.FindElement(timeLeft).Text != first, "the time left counts down");
        Assert.Contains("1 active ban", driver.TextOf("bans-total"));
        driver.WaitFor(d => d.FindElements(By.CssSelector("#chart .bar")).Count == 24, "the chart has 24 hours");
        var shot = driver.Screenshot("console-bans");
        output.WriteLine($"screenshot: {shot}");

        // A change without the antiforgery token is refused, even with the sign-in cookie.
        var refused = (IReadOnlyDictionary<string, object>)driver.ExecuteAsyncScript("""
            const done = arguments[arguments.length - 1];
            fetch('/console/api/apps/appA/unbans', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ userIds: 'web-user-1' }) })
              .then(async r => done({ status: r.status, code: (await r.json()).code }));
            """)!;
        Assert.Equal(403L, refused["status"]);
        Assert.Equal(1006L, refused["code"]);
        Assert.True((await Server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, user))).IsBanned);

        // Unban through the form.
        Type(driver, "change-userIds", user);
        driver.FindElement(By.Id("change-unban")).Click();
        driver.WaitFor(d => d.TextOf("status").Contains($"Unbanned {user}", StringComparison.Ordinal), "the unban is confirmed");
        driver.WaitFor(d => d.FindElement(By.CssSelector($"#feed li[data-type='user.unblocked'][data-user='{user}']")), "the unban arrives in the feed");
        driver.WaitFor(d => d.FindElements(By.CssSelector($"#bans-body tr[data-user='{user}']")).Count == 0,
            "the user leaves the list");
        Assert.False((await Server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, user))).IsBanned);
        driver.Screenshot("console-unbanned");
    }

    [SkippableFact]
    public void A_wrong_password_is_refused_in_words_next_to_the_field_and_a_bad_duration_too()
    {
        Browser.SkipUnlessAvailable();
        using var driver = Browser.Start();
        // A phone's viewport: a desktop window cannot be made that narrow.
        driver.ExecuteCdpCommand("Emulation.setDeviceMetricsOverride", new Dictionary<string, object?>
        {
            ["width"] = 360, ["height"] = 800, ["deviceScaleFactor"] = 1, ["mobile"] = true,
        });
        driver.Navigate().GoToUrl(ConsoleUrl);
        SignIn(driver, ConsoleServer.Alice, "wrong password");
        var error = driver.WaitFor(d => d.FindElement(By.Id("signin-password-error")).Text is { Length: > 0 } t ? t : null,
            "the wrong password is refused");
        Assert.Equal("Wrong operator name or password.", error);
        Assert.Equal("true", driver.FindElement(By.Id("signin-password")).GetAttribute("aria-invalid"));
        Assert.False(driver.FindElement(By.Id("console-view")).Displayed);
        driver.Screenshot("console-signin-refused-360");

        SignIn(driver, ConsoleServer.Alice, ConsoleServer.AlicePassword);
        driver.WaitFor(d => d.FindElement(By.Id("console-view")).Displayed, "the console shows after sign-in");
        Type(driver, "change-userIds", "web-user-2");
        Type(driver, "change-minutes", "50000");
        driver.FindElement(By.Id("change-ban")).Click();
        var minutes = driver.WaitFor(d => d.FindElement(By.Id("change-minutes-error")).Text is { Length: > 0 } t ? t : null,
            "the duration is refused");
        Assert.Contains("1 to 43200 minutes", minutes);

        // Readable at 360 pixels: nothing wider than the screen but the tables' own scroll areas.
        var width = (long)driver.ExecuteScript("return document.documentElement.scrollWidth;")!;
        var viewport = (long)driver.ExecuteScript("return window.innerWidth;")!;
        Assert.Equal(360, viewport);
        Assert.True(width <= 360, $"the page is {width} px wide at 360");
        driver.Screenshot("console-360");
    }

    private static void SignIn(ChromeDriver driver, string name, string password)
    {
        driver.WaitFor(d => d.FindElement(By.Id("signin-view")).Displayed, "the sign-in form shows");
        Type(driver, "signin-name", name);
        Type(driver, "signin-password", password);
        driver.FindElement(By.Id("signin-password")).SendKeys(Keys.Enter);
    }

    private static void Type(IWebDriver driver, string id, string text)
    {
        var field = driver.FindElement(By.Id(id));
        field.Clear();
        field.SendKeys(text);
    }
}
