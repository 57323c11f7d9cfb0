using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BanActors.Bench.Infra;
using StackExchange.Redis;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 4: the store users would pick instead — a Redis TTL ban store. <c>SET ban:{app}:{user} 1 EX seconds</c>
/// through StackExchange.Redis (one multiplexer, pipelined) against a redis-server this bench starts on 127.0.0.1
/// with a temporary folder and <c>appendonly yes</c>; expiry observed through keyspace notifications
/// (<c>notify-keyspace-events Ex</c>, channel <c>__keyevent@0__:expired</c>).
/// </summary>
public sealed class RedisPeer : IScenario
{
    public string Name => "redis";

    public string Title => "4. Peer: Redis TTL ban store";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var exe = FindRedisServer();
        if (exe is null)
        {
            report.Skip("redis", "redis-server is not installed (Debian: apt-get install -y redis-server); Redis figures are missing from this run");
            return;
        }
        using var dir = new TempDir(Name);
        using var server = RedisServer.Start(exe, dir.Path, out var startError);
        if (server is null)
        {
            report.Skip("redis", "redis-server could not start: " + startError);
            return;
        }
        var version = "";
        ConnectionMultiplexer? mux = null;
        for (var attempt = 0; attempt < 50 && mux is null; attempt++)
        {
            try
            {
                mux = await ConnectionMultiplexer.ConnectAsync(new ConfigurationOptions
                {
                    EndPoints = { { IPAddress.Loopback, server.Port } },
                    AllowAdmin = true,
                    AbortOnConnectFail = true,
                    ConnectTimeout = 2000,
                });
            }
            catch (RedisConnectionException)
            {
                await Task.Delay(200);
            }
        }
        if (mux is null)
        {
            report.Skip("redis", $"could not connect to the redis-server started on port {server.Port}");
            return;
        }
        await using var _ = mux;
        var db = mux.GetDatabase();
        var redisServer = mux.GetServer(IPAddress.Loopback, server.Port);
        version = redisServer.Version.ToString();
        report.Note($"redis: redis-server {version} started by the bench on 127.0.0.1:{server.Port}, appendonly yes, "
            + "notify-keyspace-events Ex, client StackExchange.Redis (one pipelined multiplexer), in the bench process");

        // Warm-up (JIT, connection), not reported.
        await Load.RunAsync(Math.Min(options.N, 2_000), 64, options.MaxStep,
            i => db.StringSetAsync($"ban:bench:warm{i}", "1", TimeSpan.FromSeconds(3600)));

        var n = options.N * 2;
        foreach (var fsync in new[] { "everysec", "always" })
        {
            await redisServer.ConfigSetAsync("appendfsync", fsync);
            foreach (var c in fsync == "everysec" ? new[] { 1, 16, 256, 1024 } : new[] { 1, 256 })
            {
                var r = await Load.RunAsync(n, c, options.MaxStep,
                    i => db.StringSetAsync($"ban:bench:{fsync}{c}-{i}", "1", TimeSpan.FromSeconds(3600)));
                report.Add(Row.From("redis", $"SET ban:app:user 1 EX 3600, appendfsync {fsync}", c, r, "bans/s"));
                report.Figure($"redis.{fsync}.c{c}", r.PerSecond);
            }
        }
        await redisServer.ConfigSetAsync("appendfsync", "everysec");
        report.Figure("redis.best", report.Figures.Where(kv => kv.Key.StartsWith("redis.everysec.", StringComparison.Ordinal)).Max(kv => kv.Value));

        // Expiry lag on a database holding only the expiring keys (like the engine's unban scenario), then once
        // with ten times as many long-running bans present: Redis's active expiry samples random keys with a TTL
        // and stops a cycle early when few of them are due, so the mix matters.
        foreach (var count in options.UnbanN)
        {
            await redisServer.FlushDatabaseAsync();
            await ExpiryLag(mux, db, count, 0, report);
        }
        var mixed = options.UnbanN.Min();
        await redisServer.FlushDatabaseAsync();
        await Load.RunAsync(mixed * 10, 256, TimeSpan.FromSeconds(120),
            i => db.StringSetAsync($"ban:bench:long{i}", "1", TimeSpan.FromSeconds(3600)));
        await ExpiryLag(mux, db, mixed, mixed * 10, report);
    }

    private static async Task ExpiryLag(ConnectionMultiplexer mux, IDatabase db, int n, int others, Report report)
    {
        var seen = new SeenSet();
        var lags = new Latencies(n);
        var end = DateTimeOffset.MinValue;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var prefix = $"ban:bench:exp{n}-";
        var channel = RedisChannel.Literal("__keyevent@0__:expired");
        var sub = mux.GetSubscriber();
        await sub.SubscribeAsync(channel, (_, key) =>
        {
            var now = DateTimeOffset.UtcNow;
            var k = (string?)key;
            if (k is null || !k.StartsWith(prefix, StringComparison.Ordinal) || !seen.TryAdd(k)) return;
            lags.AddMs((now - end).TotalMilliseconds);
            if (seen.Count >= n) done.TrySetResult();
        });

        // Every key expires at the same millisecond (PXAT), a whole second at least 2 s after the last SET.
        var setSeconds = n / 20_000.0 + 2;
        var endMs = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 + (long)Math.Ceiling(setSeconds) + 1) * 1000;
        end = DateTimeOffset.FromUnixTimeMilliseconds(endMs);
        var sets = await Load.RunAsync(n, 256, TimeSpan.FromSeconds(120),
            i => db.ExecuteAsync("SET", $"{prefix}{i}", "1", "PXAT", endMs.ToString(CultureInfo.InvariantCulture)));
        // Probe keys with the same end: reading a key expires it on access, so the "still there?" check reads
        // these, not the keys whose notification lag is measured.
        var probes = Math.Min(n, 1_000);
        await Load.RunAsync(probes, 256, TimeSpan.FromSeconds(60),
            i => db.ExecuteAsync("SET", $"probe:{n}:{i}", "1", "PXAT", endMs.ToString(CultureInfo.InvariantCulture)));
        if (DateTimeOffset.UtcNow >= end)
        {
            report.Skip($"redis expiry n={n}", "setting the keys took longer than the planned lead");
            await sub.UnsubscribeAsync(channel);
            return;
        }
        await Task.Delay(end - DateTimeOffset.UtcNow);
        while (DateTimeOffset.UtcNow < end) await Task.Yield();
        var exists = await Task.WhenAll(Enumerable.Range(0, probes).Select(i => db.KeyExistsAsync($"probe:{n}:{i}")));
        var stillThere = exists.Count(e => e);
        var bound = TimeSpan.FromSeconds(Math.Max(60, n / 500));
        var finished = await Task.WhenAny(done.Task, Task.Delay(bound)) == done.Task;
        await sub.UnsubscribeAsync(channel);
        var summary = lags.Summarize();
        report.Add(new Row("redis", $"{n:N0} keys expiring at the same instant{(others > 0 ? $", {others:N0} long-TTL keys present" : "")}: end → expired notification", seen.Count, null,
            seen.Count / Math.Max(summary.MaxMs / 1000.0, 1e-9), "expiries/s", summary, n - seen.Count, null,
            (finished ? "" : $"only {seen.Count} of {n} notified within {bound.TotalSeconds:0} s; ")
            + $"throughput = n / max lag; EXISTS from the end time: {stillThere} of {probes} probe keys still there "
            + $"(set-up {sets.PerSecond:N0} SET PXAT/s)"));
        var key = others > 0 ? $"redis.expiry_mixed.n{n}" : $"redis.expiry.n{n}";
        report.Figure($"{key}.p50_ms", summary.P50Ms);
        report.Figure($"{key}.p99_ms", summary.P99Ms);
        report.Figure($"{key}.max_ms", summary.MaxMs);
        report.Figure($"{key}.missing", n - seen.Count);
    }

    private static string? FindRedisServer()
    {
        var paths = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/sbin", "/usr/local/bin"]);
        return paths.Select(p => Path.Combine(p, "redis-server")).FirstOrDefault(File.Exists);
    }

    private sealed class RedisServer : IDisposable
    {
        private readonly Process _process;

        private RedisServer(Process process, int port)
        {
            _process = process;
            Port = port;
        }

        public int Port { get; }

        public static RedisServer? Start(string exe, string dir, out string? error)
        {
            error = null;
            var port = FreePort();
            var psi = new ProcessStartInfo(exe)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var a in new[]
                     {
                         "--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", dir,
                         "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--notify-keyspace-events", "Ex",
                         "--daemonize", "no", "--protected-mode", "yes", "--logfile", "",
                     })
                psi.ArgumentList.Add(a);
            try
            {
                var p = Process.Start(psi);
                if (p is null)
                {
                    error = "Process.Start returned null";
                    return null;
                }
                p.OutputDataReceived += (_, _) => { };
                p.ErrorDataReceived += (_, _) => { };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                if (p.WaitForExit(300))
                {
                    error = $"redis-server exited at once with code {p.ExitCode}";
                    return null;
                }
                return new RedisServer(p, port);
            }
            catch (Exception ex)
            {
                error = ex.Message;
                return null;
            }
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited) _process.Kill();
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
