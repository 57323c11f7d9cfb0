using BanActors.Server.OperatorConsole;
using BanActors.Server.Tests.Gateway;
using BanActors.Server.Tests.OperatorConsole;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests.Hardening;

/// <summary>Every category at Trace: the most a misconfigured production host could log.</summary>
public sealed class TraceLoggingServer : ServerFixture
{
    public const string Password = "the-operators-password-9f3c";

    protected override IReadOnlyList<TestApp> Apps => [TestApps.A];

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Trace",
        ["Logging:LogLevel:Microsoft"] = "Trace",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace",
        ["BanActors:Console:Operators:0:Name"] = "carol",
        ["BanActors:Console:Operators:0:PasswordHash"] = OperatorDirectory.HashPassword(Password),
        ["BanActors:Console:Operators:0:Apps:0"] = TestApps.A.AppKey,
    };
}

/// <summary>
/// No app secret, IM token or console password reaches the log at any level (issue 13): a full round of signed calls,
/// a forged one, a token issued and used on the gateway, a kick, and console sign-ins (right and wrong), all logged
/// at Trace, then every line and every structured field searched.
/// </summary>
public sealed class LogSecretSpecs(TraceLoggingServer fixture) : IClassFixture<TraceLoggingServer>
{
    private readonly ServerHost _server = fixture.Server;

    [Fact]
    public async Task No_secret_token_or_password_is_logged_at_any_level()
    {
        var a = _server.Client(TestApps.A);
        var token = (await a.PostAsync("/user/getToken.json", ("userId", "s1"), ("name", "S"))).Json.GetProperty("token").GetString()!;
        await using (var im = await ImClient.ConnectAsync(_server.Address, token))
        {
            Assert.Equal("{\"code\":200}", (await a.PostAsync("/user/block.json", ("userId", "s1"), ("minute", "10"))).Body);
            await im.NextAsync();
        }
        await a.PostAsync("/user/unblock.json", ("userId", "s1"));
        await a.PostAsync("/user/block.json", new Signing { Signature = new string('0', 40) }, ("userId", "s2"), ("minute", "10"));
        await new RongCloudClient(_server.Http, TestApps.A.AppKey, TestApps.B.AppSecret, _server.Clock)
            .PostAsync("/user/block.json", ("userId", "s3"), ("minute", "10"));
        using (var console = new ConsoleClient(_server.Address))
        {
            await console.SignInAsync("carol", "wrong-" + TraceLoggingServer.Password);
            Assert.Equal(200, (await console.SignInAsync("carol", TraceLoggingServer.Password)).Code);
        }

        var lines = _server.Logs.Lines.ToList();
        Assert.Contains(lines, l => l.StartsWith("Trace", StringComparison.Ordinal) || l.StartsWith("Debug", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("s1", StringComparison.Ordinal));
        // The access log still says what was asked, without the query string that carried the token.
        Assert.Contains(lines, l => l.Contains("GET /im/connect answered 101", StringComparison.Ordinal));
        foreach (var secret in new[] { TestApps.A.AppSecret, TestApps.B.AppSecret, token, Uri.EscapeDataString(token), TraceLoggingServer.Password })
        {
            var leaks = lines.Where(l => l.Contains(secret, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, "logged: " + string.Join("\n", leaks));
        }
    }
}
