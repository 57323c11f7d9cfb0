using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 7: N WebSocket sessions on the real server's IM gateway (<c>/im/connect?token=</c>, tokens from
/// <c>/user/getToken.json</c>), then each user is banned over signed HTTP; measured per user: from the moment the
/// HTTP 200 of its ban arrived to the moment its client saw the server's close (4009). Two rounds on fresh
/// sessions: bans one at a time, and 64 bans in flight. A negative value would mean the close came first.
/// </summary>
public sealed class KickLatency : IScenario
{
    public string Name => "kick";

    public string Title => "7. Kick latency (WebSocket sessions closed by a ban)";

    private sealed class Session
    {
        public required ClientWebSocket Socket { get; init; }
        public long KickedFrameAt;
        public long CloseAt;
        public int CloseStatus;
        public readonly TaskCompletionSource Closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        using var dir = new TempDir(Name);
        using var server = await HttpBans.StartRealServerAsync(dir, Name, report);
        if (server is null) return;
        using var http = new SignedHttp(server.Address, 64);
        try
        {
            await http.PostForBodyAsync("/user/getToken.json", TokenForm("probe"));
        }
        catch (HttpRequestException ex)
        {
            report.Skip(Name, $"the server has no /user/getToken.json ({ex.Message}); the gateway branch was not in this build");
            return;
        }

        var n = options.KickN;
        await Round("w", Math.Min(n, 200), 16, server, http, report, warmUp: true);
        await Round("a", n, 1, server, http, report, warmUp: false);
        await Round("b", n, 64, server, http, report, warmUp: false);
    }

    private static IEnumerable<KeyValuePair<string, string>> TokenForm(string userId) =>
    [
        new("userId", userId), new("name", userId), new("portraitUri", "http://example.invalid/p.png"),
    ];

    private async Task Round(string prefix, int n, int inFlight, ServerProcess server, SignedHttp http, Report report, bool warmUp)
    {
        var sessions = new Session[n];
        var connect = await Load.RunAsync(n, 32, TimeSpan.FromSeconds(120), async i =>
        {
            var body = await http.PostForBodyAsync("/user/getToken.json", TokenForm($"{prefix}{i}"));
            var token = JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
            var socket = new ClientWebSocket();
            var uri = new Uri($"ws://127.0.0.1:{server.Address.Port}/im/connect?token={Uri.EscapeDataString(token)}");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(uri, timeout.Token);
            var first = await WebSocketText.ReceiveAsync(socket, timeout.Token);
            if (first is null || !first.Contains("\"connected\"", StringComparison.Ordinal))
                throw new InvalidOperationException("expected a connected frame, got " + first);
            var session = new Session { Socket = socket };
            sessions[i] = session;
            _ = ReadUntilClosed(session);
        });
        if (!warmUp)
            report.Add(Row.From("kick", $"set-up: token + WebSocket connect ({prefix})", 32, connect, "sessions/s"));
        if (connect.Failures > 0)
        {
            report.Skip($"kick round {prefix}", $"{connect.Failures} of {n} sessions did not connect ({connect.FirstError})");
            Close(sessions);
            return;
        }

        var latencies = new Latencies(n);
        var fromRequest = new Latencies(n);
        var missing = 0;
        var closeBefore200 = 0;
        var bans = await Load.RunAsync(n, inFlight, TimeSpan.FromSeconds(120), async i =>
        {
            var sent = Stopwatch.GetTimestamp();
            await http.PostAsync("/user/block.json", SignedHttp.BlockForm([$"{prefix}{i}"], 10));
            var ok = Stopwatch.GetTimestamp();
            var s = sessions[i];
            if (await Task.WhenAny(s.Closed.Task, Task.Delay(TimeSpan.FromSeconds(10))) != s.Closed.Task)
            {
                Interlocked.Increment(ref missing);
                return;
            }
            var d = Volatile.Read(ref s.CloseAt) - ok;
            if (d < 0) Interlocked.Increment(ref closeBefore200);
            latencies.Add(d);
            fromRequest.Add(Volatile.Read(ref s.CloseAt) - sent);
        });
        var summary = latencies.Summarize();
        var wrongStatus = sessions.Count(s => s is not null && s.CloseStatus != 4009 && s.CloseAt != 0);
        if (!warmUp)
        {
            report.Add(new Row("kick", $"{n:N0} sessions, ban each over HTTP ({inFlight} in flight): HTTP 200 → client sees the close",
                latencies.Count, inFlight, null, "", summary, missing + bans.Failures + wrongStatus, null,
                $"{closeBefore200} closes arrived before the HTTP 200 (counted as negative); close status other than 4009: {wrongStatus}; "
                + $"from sending the ban request to the close: p50 {fromRequest.Summarize().P50Ms:0.#} ms, p99 {fromRequest.Summarize().P99Ms:0.#} ms; "
                + $"ban requests {bans.PerSecond:N0}/s (p99 {bans.Latency.P99Ms:0.#} ms)"));
            report.Figure($"kick.c{inFlight}.p50_ms", summary.P50Ms);
            report.Figure($"kick.c{inFlight}.p99_ms", summary.P99Ms);
            if (inFlight == 1)
            {
                report.Figure("kick.p50_ms", summary.P50Ms);
                report.Figure("kick.p99_ms", summary.P99Ms);
            }
        }
        Close(sessions);
    }

    private static void Close(Session?[] sessions)
    {
        foreach (var s in sessions)
        {
            if (s is null) continue;
            s.Socket.Abort();
            s.Socket.Dispose();
        }
    }

    private static async Task ReadUntilClosed(Session s)
    {
        var buffer = new byte[8192];
        try
        {
            while (true)
            {
                var result = await s.Socket.ReceiveAsync(buffer, CancellationToken.None);
                var at = Stopwatch.GetTimestamp();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    s.CloseStatus = (int?)result.CloseStatus ?? 0;
                    Volatile.Write(ref s.CloseAt, at);
                    s.Closed.TrySetResult();
                    try
                    {
                        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                        await s.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
                    }
                    catch (Exception) { }
                    return;
                }
                if (s.KickedFrameAt == 0 && Encoding.UTF8.GetString(buffer, 0, result.Count).Contains("\"kicked\"", StringComparison.Ordinal))
                    s.KickedFrameAt = at;
            }
        }
        catch (Exception)
        {
            s.Closed.TrySetResult();
        }
    }
}
