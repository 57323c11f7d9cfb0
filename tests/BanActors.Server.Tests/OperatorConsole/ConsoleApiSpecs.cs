using System.Net;
using BanActors.Server.OperatorConsole;
using BanActors.Server.Tests.Support;
using Microsoft.AspNetCore.Identity;

namespace BanActors.Server.Tests.OperatorConsole;

/// <summary>The console's API over HTTP, without a browser: sign-in, lockout, antiforgery, per-app permission.</summary>
public sealed class ConsoleApiSpecs(ConsoleServer fixture) : IClassFixture<ConsoleServer>
{
    private static readonly string[] BothUsers = ["api-u1", "api-u2"];

    private ServerHost Server => fixture.Server;

    private ConsoleClient NewClient() => new(Server.Address);

    [Fact]
    public async Task The_page_and_its_assets_are_served_from_the_server_itself_with_a_strict_content_security_policy()
    {
        foreach (var (path, type) in new[] { ("/console", "text/html"), ("/console/console.js", "text/javascript"), ("/console/console.css", "text/css") })
        {
            using var response = await Server.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith(type, response.Content.Headers.ContentType?.ToString());
            Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.NotEmpty(await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Every_api_call_without_a_sign_in_is_refused_with_1004_as_json()
    {
        using var client = NewClient();
        foreach (var path in new[] { "/console/api/me", $"/console/api/apps/{TestApps.A.AppKey}/bans", $"/console/api/apps/{TestApps.A.AppKey}/users/u1" })
        {
            var answer = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
            Assert.Equal(1004, answer.Code);
            Assert.StartsWith("application/json", answer.ContentType);
        }
        Assert.Equal(1002, (await client.GetAsync("/console/api/nothing-here")).Code);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_and_the_right_one_signs_in_with_the_apps_the_operator_may_manage_and_no_secret()
    {
        using var client = NewClient();
        var wrong = await client.SignInAsync(ConsoleServer.Alice, "not-it");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.Status);
        Assert.Equal(1004, wrong.Code);
        Assert.Equal("password", wrong.Field());
        Assert.Equal(1004, (await client.GetAsync("/console/api/me")).Code);

        var signedIn = await client.SignInAsync(ConsoleServer.Alice, ConsoleServer.AlicePassword);
        Assert.Equal(200, signedIn.Code);
        Assert.Equal([TestApps.A.AppKey], signedIn.Json.GetProperty("apps").EnumerateArray().Select(a => a.GetString()));
        var me = await client.GetAsync("/console/api/me");
        Assert.Equal(ConsoleServer.Alice, me.Json.GetProperty("operator").GetString());
        Assert.DoesNotContain(TestApps.A.AppSecret, signedIn.Body + me.Body);
        Assert.DoesNotContain(Server.Logs.Lines, line => line.Contains(ConsoleServer.AlicePassword) || line.Contains("not-it"));
    }

    [Fact]
    public async Task Sign_in_without_the_antiforgery_token_is_refused_with_403()
    {
        using var client = NewClient();
        var answer = await client.PostAsync("/console/api/signin", new { name = ConsoleServer.Alice, password = ConsoleServer.AlicePassword }, withToken: false);
        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal(1006, answer.Code);
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_operator_for_five_minutes_on_the_server_clock()
    {
        using var client = NewClient();
        for (var i = 0; i < 4; i++) Assert.Equal(1004, (await client.SignInAsync(ConsoleServer.Bob, "guess" + i)).Code);
        var locked = await client.SignInAsync(ConsoleServer.Bob, "guess4");
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.Status);
        Assert.Equal(1008, locked.Code);
        Assert.Contains("locked", locked.Json.GetProperty("errorMessage").GetString());
        // Locked: even the right password is refused until the lock ends.
        Assert.Equal(1008, (await client.SignInAsync(ConsoleServer.Bob, ConsoleServer.BobPassword)).Code);

        Server.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(200, (await client.SignInAsync(ConsoleServer.Bob, ConsoleServer.BobPassword)).Code);
    }

    [Fact]
    public async Task A_ban_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        using var client = NewClient();
        await client.SignInAsync(ConsoleServer.Alice, ConsoleServer.AlicePassword);
        var answer = await client.PostAsync($"/console/api/apps/{TestApps.A.AppKey}/bans",
            new { userIds = "csrf-victim", minutes = 10 }, withToken: false);
        Assert.Equal(HttpStatusCode.Forbidden, answer.Status);
        Assert.Equal(1006, answer.Code);
        Assert.False((await Server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "csrf-victim"))).IsBanned);
    }

    [Fact]
    public async Task An_operator_may_not_see_or_change_an_app_it_does_not_manage()
    {
        using var client = NewClient();
        await client.SignInAsync(ConsoleServer.Alice, ConsoleServer.AlicePassword);
        var list = await client.GetAsync($"/console/api/apps/{TestApps.B.AppKey}/bans");
        Assert.Equal(HttpStatusCode.Forbidden, list.Status);
        Assert.Equal(1006, list.Code);
        var ban = await client.PostAsync($"/console/api/apps/{TestApps.B.AppKey}/bans", new { userIds = "b-user", minutes = 10 });
        Assert.Equal(1006, ban.Code);
        Assert.False((await Server.Engine.GetStatusAsync(new UserKey(TestApps.B.AppKey, "b-user"))).IsBanned);
        Assert.Equal(1006, (await client.GetAsync($"/console/api/apps/{TestApps.B.AppKey}/events")).Code);
    }

    [Fact]
    public async Task A_ban_records_the_signed_in_operator_and_bad_input_names_its_field()
    {
        using var client = NewClient();
        await client.SignInAsync(ConsoleServer.Alice, ConsoleServer.AlicePassword);
        var path = $"/console/api/apps/{TestApps.A.AppKey}/bans";
        Assert.Equal("userIds", (await client.PostAsync(path, new { userIds = " ", minutes = 10 })).Field());
        Assert.Equal("minutes", (await client.PostAsync(path, new { userIds = "api-u1", minutes = 43201 })).Field());
        Assert.Equal("minutes", (await client.PostAsync(path, new { userIds = "api-u1" })).Field());
        Assert.Equal("reason", (await client.PostAsync(path, new { userIds = "api-u1", minutes = 10, reason = new string('r', 513) })).Field());
        Assert.Equal("userIds", (await client.PostAsync(path, new { userIds = string.Join(',', Enumerable.Range(0, 21).Select(i => $"x{i}")), minutes = 10 })).Field());

        var ok = await client.PostAsync(path, new { userIds = "api-u1, api-u2", minutes = "60", reason = "spam", @operator = "mallory" });
        Assert.Equal(200, ok.Code);
        var history = await Server.Engine.GetHistoryAsync(new UserKey(TestApps.A.AppKey, "api-u1"));
        Assert.Equal(ConsoleServer.Alice, history.Entries[0].Operator);
        Assert.Equal("spam", history.Entries[0].Reason);

        var search = await client.GetAsync($"{path}?userId=API-U2");
        Assert.Equal(1, search.Json.GetProperty("total").GetInt32());
        Assert.Equal("api-u2", search.Json.GetProperty("bans")[0].GetProperty("userId").GetString());

        var user = await client.GetAsync($"/console/api/apps/{TestApps.A.AppKey}/users/api-u1");
        Assert.True(user.Json.GetProperty("banned").GetBoolean());
        Assert.False(user.Json.GetProperty("online").GetBoolean());
        Assert.Equal(0, user.Json.GetProperty("keptMessages").GetInt32());

        Assert.Equal(200, (await client.PostAsync($"/console/api/apps/{TestApps.A.AppKey}/unbans", new { userIds = BothUsers })).Code);
        Assert.False((await Server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "api-u1"))).IsBanned);
    }

    [Fact]
    public void The_hash_password_command_prints_a_hash_that_identity_verifies()
    {
        using var output = new StringWriter();
        Assert.True(PasswordHashCommand.TryRun(["hash-password", "s3cret"], TextReader.Null, output, TextWriter.Null, out var exit));
        Assert.Equal(0, exit);
        var hash = output.ToString().Trim();
        Assert.Equal(PasswordVerificationResult.Success, new PasswordHasher<string>().VerifyHashedPassword("", hash, "s3cret"));
        Assert.False(PasswordHashCommand.TryRun([], TextReader.Null, output, TextWriter.Null, out _));
    }
}
