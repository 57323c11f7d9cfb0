using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests.Hardening;

/// <summary>A server with its own app, whose block list must stay empty, and debug logs of the API pipeline.</summary>
public sealed class HostileServer : ServerFixture
{
    public static readonly TestApp App = new("appH", "secret-of-app-H");

    protected override IReadOnlyList<TestApp> Apps => [App];

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Logging:LogLevel:BanActors.Server.Api"] = "Debug",
        // The fuzz sends hundreds of requests a second to a few endpoints.
        ["BanActors:RateLimit:PermitsPerSecond"] = "100000",
    };
}

/// <summary>
/// Hostile input from outside (issue 14, items 1 and 5): every answer, whatever the method, path, header, encoding or
/// body, is the API's JSON error shape with a code and a 4xx, and nothing changes. Requests go over raw sockets, as
/// no HttpClient would write them.
/// </summary>
public sealed class HostileInputSpecs(HostileServer fixture) : IClassFixture<HostileServer>
{
    private const string Block = "/user/block.json";
    private const string Form = "Content-Type: application/x-www-form-urlencoded";
    private readonly ServerHost _server = fixture.Server;
    private RongCloudClient H => _server.Client(HostileServer.App);

    public static TheoryData<string, string, string> BrokenBodies => new()
    {
        { "multipart that is not multipart", "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 19", "userId=h1&minute=10" },
        { "multipart without its closing boundary", "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 128",
            Pad("--XyZ\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nh1\r\n--XyZ\r\nContent-Disposition: form-data; name=\"minute\"\r\n\r\n10\r\n", 128) },
        { "charset utf-7", "Content-Type: application/x-www-form-urlencoded; charset=utf-7\r\nContent-Length: 19", "userId=h1&minute=10" },
        { "chunk size zz", Form + "\r\nTransfer-Encoding: chunked", "zz\r\nuserId=h1&minute=10\r\n0\r\n\r\n" },
        { "chunk longer than its size", Form + "\r\nTransfer-Encoding: chunked", "5\r\nuserId=h1&minute=10\r\n0\r\n\r\n" },
        { "20-hex-digit chunk size", Form + "\r\nTransfer-Encoding: chunked", "FFFFFFFFFFFFFFFFFFFF\r\nuserId=h1&minute=10\r\n0\r\n\r\n" },
        { "gzip, chunked", Form + "\r\nTransfer-Encoding: gzip, chunked", "13\r\nuserId=h1&minute=10\r\n0\r\n\r\n" },
        { "Content-Encoding gzip", Form + "\r\nContent-Encoding: gzip\r\nContent-Length: 19", "userId=h1&minute=10" },
        { "bytes that are not UTF-8", Form + "\r\nContent-Length: 19", "userId=h\u00ff&minute=10" },
    };

    [Theory]
    [MemberData(nameof(BrokenBodies))]
    public async Task A_broken_body_is_a_JSON_400_and_bans_nobody(string why, string headers, string body)
    {
        var errorsBefore = Errors().Count;

        var answer = await SendSignedAsync("POST", Block, headers, Encoding.Latin1.GetBytes(body));

        Assert.True(answer.Status == 400, $"{why}: {answer}");
        AssertJsonError(answer, 1002);
        Assert.Equal(errorsBefore, Errors().Count);
        await AssertNothingBannedAsync("h1");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_that_drops_the_connection_mid_body_is_not_an_error(bool reset)
    {
        var before = Dropped().Count;
        using (var client = new TcpClient())
        {
            await client.ConnectAsync(_server.Address.Host, _server.Address.Port);
            var head = RawHttp.Head("POST", Block, [.. SigningHeaders(), Form, "Content-Length: 1000"]);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(head + "userId=drop&min"));
            if (reset) client.Client.LingerState = new LingerOption(true, 0);
            else client.Client.Shutdown(SocketShutdown.Send);
        }

        // The server notices the drop asynchronously: wait (bounded) for its debug line, not for a timer.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (Dropped().Count == before && DateTime.UtcNow < deadline) await Task.Delay(20);

        Assert.True(Dropped().Count > before, "the dropped request was not noticed: " + string.Join('\n', _server.Logs.Lines.TakeLast(5)));
        Assert.Empty(Errors());
        await AssertNothingBannedAsync("drop");
    }

    [Theory]
    [InlineData("/user/nope.json")]
    [InlineData("/user")]
    [InlineData("/user//block.json")]
    [InlineData("/user%2Fblock.json")]
    [InlineData("/user/block.json;x=1")]
    [InlineData("/console-not/x")]
    public async Task An_unknown_path_is_a_JSON_404_with_code_1009(string path)
    {
        var answer = await SendSignedAsync("POST", path, Form + "\r\nContent-Length: 19", "userId=h1&minute=10"u8.ToArray());

        Assert.True(answer.Status == 404, $"{path}: {answer}");
        AssertJsonError(answer, 1009);
        await AssertNothingBannedAsync("h1");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("OPTIONS")]
    [InlineData("PATCH")]
    public async Task A_wrong_method_is_a_JSON_405_with_code_1010_naming_POST(string method)
    {
        var answer = await SendSignedAsync(method, Block + "?userId=h1&minute=10", Form + "\r\nContent-Length: 19",
            "userId=h1&minute=10"u8.ToArray());

        Assert.True(answer.Status == 405, $"{method}: {answer}");
        AssertJsonError(answer, 1010);
        Assert.Contains("POST", answer.Headers["Allow"]);
        await AssertNothingBannedAsync("h1");
    }

    public static TheoryData<string, string, int> BadUserIds => new()
    {
        { "a\u0000b", "a NUL", 1002 },
        { "a\nb", "a newline", 1002 },
        { "tab\t", "a tab", 1002 },
        { "del\u007f", "DEL", 1002 },
        { "nel\u0085", "a C1 control", 1002 },
        { " lead", "a leading space", 1002 },
        { "trail ", "a trailing space", 1002 },
        { "\u3000wide", "a leading ideographic space", 1002 },
        { new string('y', 65), "65 ASCII bytes", 1005 },
        { new string('封', 22), "22 CJK characters (66 bytes)", 1005 },
    };

    [Theory]
    [MemberData(nameof(BadUserIds))]
    public async Task A_bad_user_id_is_refused_the_same_way_by_every_endpoint_and_by_the_facade(string userId, string why, int code)
    {
        (string Path, (string, string)[] Form)[] requests =
        [
            (Block, [("userId", userId), ("minute", "10")]),
            ("/user/unblock.json", [("userId", userId)]),
            ("/user/block/history.json", [("userId", userId)]),
            ("/user/block/log.json", [("userId", userId)]),
            ("/user/checkOnline.json", [("userId", userId)]),
            ("/user/getToken.json", [("userId", userId), ("name", "n")]),
            ("/message/private/publish.json", [("fromUserId", userId), ("toUserId", "h2"), ("objectName", "RC:TxtMsg"), ("content", "{}")]),
            ("/message/private/publish.json", [("fromUserId", "h2"), ("toUserId", userId), ("objectName", "RC:TxtMsg"), ("content", "{}")]),
        ];
        foreach (var (path, form) in requests)
        {
            var answer = await H.PostAsync(path, form);
            Assert.True(answer.Code == code && (int)answer.Status == 400, $"{why} on {path}: {answer}");
        }
        await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            _server.Engine.BanAsync(new UserKey(HostileServer.App.AppKey, userId), 10));
        await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            _server.Engine.UnbanAsync(new UserKey(HostileServer.App.AppKey, userId)));
        await AssertNothingBannedAsync();
    }

    [Fact]
    public async Task The_facade_refuses_a_user_id_that_is_not_valid_Unicode()
    {
        var ex = await Assert.ThrowsAsync<BanRequestRejectedException>(() =>
            _server.Engine.BanAsync(new UserKey(HostileServer.App.AppKey, "lone\ud800"), 10));
        Assert.Contains("Unicode", ex.Message);
    }

    [Fact]
    public async Task A_percent_encoded_NUL_is_1002_not_form_too_large()
    {
        var answer = await H.PostRawAsync(Block, "userId=x%00y&minute=10", Signing.Default);

        Assert.Equal(1002, answer.Code);
        await AssertNothingBannedAsync();
    }

    [Fact]
    public async Task A_user_id_of_64_UTF8_bytes_is_accepted_and_one_of_65_is_not()
    {
        var sixtyFour = new string('封', 21) + "a";
        var sixtyFive = new string('封', 21) + "ab";
        Assert.Equal(64, Encoding.UTF8.GetByteCount(sixtyFour));

        Assert.Equal(1005, (await H.PostAsync(Block, ("userId", sixtyFive), ("minute", "10"))).Code);
        Assert.Equal("{\"code\":200}", (await H.PostAsync(Block, ("userId", sixtyFour), ("minute", "10"))).Body);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(HostileServer.App.AppKey, sixtyFour))).IsBanned);

        Assert.Equal("{\"code\":200}", (await H.PostAsync("/user/unblock.json", ("userId", sixtyFour))).Body);
        await AssertNothingBannedAsync(sixtyFour);
    }

    [Fact]
    public async Task Parameter_names_are_exact()
    {
        var lower = await H.PostRawAsync(Block, "userid=lower&minute=10", Signing.Default);
        Assert.Equal(1002, lower.Code);
        await AssertNothingBannedAsync("lower");

        var both = await H.PostRawAsync(Block, "userId=exact&USERID=shouted&minute=10", Signing.Default);
        Assert.Equal("{\"code\":200}", both.Body);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(HostileServer.App.AppKey, "exact"))).IsBanned);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(HostileServer.App.AppKey, "shouted"))).IsBanned);
        Assert.Equal("{\"code\":200}", (await H.PostAsync("/user/unblock.json", ("userId", "exact"))).Body);
        await AssertNothingBannedAsync("exact", "shouted");
    }

    /// <summary>
    /// A seeded generator of malformed requests (methods, paths, headers, encodings, bodies; signed or not). No body it
    /// makes carries a valid <c>minute</c>, so no ban can be valid: every answer must be JSON with a code, never a
    /// 5xx, and the block list must stay empty. A failure names the seed and the request. Not generated: framing that
    /// Kestrel itself refuses with a bare 400 before any application code runs (a NUL in the path, Transfer-Encoding with
    /// Content-Length).
    /// </summary>
    [Fact]
    public async Task Random_malformed_requests_get_JSON_4xx_answers_and_change_nothing()
    {
        const int Seed = 20261203, Count = 300;
        var random = new Random(Seed);
        for (var i = 0; i < Count; i++)
        {
            var (method, path, headers, body) = MalformedRequest(random);
            var head = RawHttp.Head(method, path, [.. random.Next(4) > 0 ? SigningHeaders() : [], .. headers]);
            RawAnswer answer;
            try
            {
                answer = await RawHttp.SendAsync(_server.Address, head, body);
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"request {i} of seed {Seed} got no answer ({ex.Message}):\n{head}{Encoding.Latin1.GetString(body)}");
            }
            var why = $"request {i} of seed {Seed}:\n{head}{Encoding.Latin1.GetString(body)}\nanswer: {answer}";
            Assert.True(answer.Status is 200 or (>= 400 and < 500), why);
            Assert.True(answer.Headers.TryGetValue("Content-Type", out var type) && type.StartsWith("application/json", StringComparison.Ordinal), why);
            if (method == "HEAD") continue; // an answer to HEAD has no body, by definition
            int code;
            try
            {
                code = JsonDocument.Parse(answer.Body).RootElement.GetProperty("code").GetInt32();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new Xunit.Sdk.XunitException("not the JSON shape: " + why);
            }
            Assert.True(answer.Status == 200 ? code == 200 : code > 1000, why);
        }
        await AssertNothingBannedAsync();
        Assert.Empty(Errors());
    }

    private static (string Method, string Path, string[] Headers, byte[] Body) MalformedRequest(Random random)
    {
        string Pick(params string[] options) => options[random.Next(options.Length)];
        var method = random.Next(5) > 0 ? "POST" : Pick("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO");
        var path = Pick(Block, Block, "/user/unblock.json", "/user/block/query.json", "/user/block/history.json",
            "/user/block/log.json", "/user/checkOnline.json", "/user/getToken.json", "/message/private/publish.json",
            "/user/BLOCK.json", "/user/block.json/", "/user/block.json?minute=10", "/%2e%2e/user/block.json", "/x");
        var names = new[] { "userId", "userid", "minute", "Minute", "size", "page", "cursor", "reason", "operator", "fromUserId",
            "toUserId", "content", "objectName", "", "%", "%zz", "a%00b", "userId[]" };
        var values = new[] { "", "u1", "%00", "%zz", "%", "+", "x%ED%A0%80", "%C3", "-1", "0", "43201", "1e3", "99999999999999999999",
            "ten", new string('v', random.Next(60, 70)), new string('w', random.Next(500, 600)), "%E5%B0%81", "a b", "\u00ff" };
        var form = new StringBuilder();
        var pairs = random.Next(0, 6);
        for (var p = 0; p < pairs; p++)
        {
            var name = names[random.Next(names.Length)];
            if (name is "minute") continue; // never a valid minute: see the summary
            if (p > 0) form.Append(Pick("&", "&", "&&", ";", "="));
            form.Append(name).Append(Pick("=", "=", "", "==")).Append(values[random.Next(values.Length)]);
        }
        form.Append(Pick("", "&minute=0", "&minute=-1", "&minute=x", "&minute=43201", "&minute="));
        var body = random.Next(8) == 0 ? RandomBytes(random) : Encoding.Latin1.GetBytes(form.ToString());
        var headers = new List<string>
        {
            Pick("Content-Type: application/x-www-form-urlencoded", "Content-Type: application/x-www-form-urlencoded; charset=utf-7",
                "Content-Type: application/x-www-form-urlencoded; charset=latin1", "Content-Type: multipart/form-data; boundary=XyZ",
                "Content-Type: multipart/form-data", "Content-Type: application/json", "Content-Type: text/plain", "Content-Type: ;;;",
                "Content-Type: application/x-www-form-urlencoded; charset=\"utf-8\"", ""),
        };
        switch (random.Next(6))
        {
            case 0:
                // Never with a Content-Length: Kestrel refuses that framing itself (a bare 400) before the API sees it.
                headers.Add(Pick("Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked"));
                body = Encoding.Latin1.GetBytes(Pick($"{body.Length:x}", "zz", "FFFFFFFFFFFFFFFFFFFF", $"{Math.Max(body.Length - 3, 1):x}", "-1")
                    + "\r\n" + Encoding.Latin1.GetString(body) + "\r\n0\r\n\r\n");
                break;
            case 1:
                headers.Add(Pick("Content-Encoding: gzip", "Content-Encoding: br, identity", "Content-Encoding: identity"));
                headers.Add($"Content-Length: {body.Length}");
                break;
            case 2:
                // A Content-Length that does not match the body (shorter: the rest is the next "request").
                headers.Add($"Content-Length: {random.Next(0, body.Length + 1)}");
                break;
            default:
                headers.Add($"Content-Length: {body.Length}");
                break;
        }
        return (method, path, [.. headers.Where(h => h.Length > 0)], body);
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(1, 300)];
        random.NextBytes(bytes);
        return bytes;
    }

    private static string Pad(string text, int length) => text.PadRight(length, '-');

    private string[] SigningHeaders()
    {
        var nonce = Guid.NewGuid().ToString("N")[..12];
        var timestamp = _server.Clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        return [$"App-Key: {HostileServer.App.AppKey}", $"Nonce: {nonce}", $"Timestamp: {timestamp}",
            $"Signature: {RongCloudClient.Sha1Hex(HostileServer.App.AppSecret + nonce + timestamp)}"];
    }

    private Task<RawAnswer> SendSignedAsync(string method, string target, string headers, byte[] body) =>
        RawHttp.SendAsync(_server.Address, RawHttp.Head(method, target, [.. SigningHeaders(), .. headers.Split("\r\n")]), body);

    private static void AssertJsonError(RawAnswer answer, int code)
    {
        Assert.StartsWith("application/json", answer.Headers["Content-Type"]);
        var json = JsonDocument.Parse(answer.Body).RootElement;
        Assert.Equal(code, json.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("errorMessage").GetString()));
    }

    private List<string> Errors() => _server.Logs.Lines.Where(l => l.StartsWith("Error", StringComparison.Ordinal)
        || l.StartsWith("Critical", StringComparison.Ordinal)).ToList();

    private List<string> Dropped() => _server.Logs.Lines.Where(l => l.StartsWith("Debug", StringComparison.Ordinal)
        && (l.Contains("closed the connection", StringComparison.Ordinal) || l.Contains("could not be read", StringComparison.Ordinal))).ToList();

    private async Task AssertNothingBannedAsync(params string[] userIds)
    {
        var list = await H.PostAsync("/user/block/query.json");
        Assert.Equal("{\"code\":200,\"users\":[],\"total\":0}", list.Body);
        foreach (var id in userIds)
            Assert.False((await _server.Engine.GetStatusAsync(new UserKey(HostileServer.App.AppKey, id))).IsBanned, id);
    }
}
