using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 11: the event feed end to end over HTTP. The real server (child process, SQLite file) with a webhook for the
/// bench's app pointing at a receiver in this process (<see cref="HttpListener"/> on 127.0.0.1) that checks each
/// POST's HMAC signature and answers 200. N one-minute bans are made over signed HTTP; the receiver counts the
/// <c>user.blocked</c> events (events/s from the first ban to the last event, and each event's lag from its
/// <c>time</c>), then, a minute later, every <c>user.block_expired</c> (lag from its own <c>blockEndTime</c>: the
/// bans end spread over the seconds their set-up took, so this is the lag at that expiry rate, not a burst).
/// </summary>
public sealed class WebhookDelivery : IScenario
{
    public string Name => "webhook";

    public string Title => "11b. Event feed over HTTP: webhooks to a local receiver";

    private sealed class Receiver : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly byte[] _secret = Encoding.UTF8.GetBytes(SignedHttp.AppSecret);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Task> _loops = [];

        public Receiver(int port)
        {
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            for (var i = 0; i < 8; i++) _loops.Add(Task.Run(LoopAsync));
        }

        public ConcurrentDictionary<string, long> BlockedAt { get; } = new();

        public ConcurrentDictionary<string, long> ExpiredAt { get; } = new();

        public Latencies BlockedLag { get; } = new(200_000);

        public Latencies ExpiredLag { get; } = new(200_000);

        public int BadSignatures;

        public int Duplicates;

        public long LastBlockedTicks;

        private async Task LoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync().ConfigureAwait(false);
                }
                catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
                {
                    return;
                }
                catch (HttpListenerException)
                {
                    continue;
                }
                try
                {
                    Handle(context);
                }
                finally
                {
                    context.Response.Close();
                }
            }
        }

        private void Handle(HttpListenerContext context)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            using var body = new MemoryStream();
            context.Request.InputStream.CopyTo(body);
            var bytes = body.ToArray();
            if (!Verify(context.Request.Headers["X-BanActors-Signature"], bytes))
            {
                Interlocked.Increment(ref BadSignatures);
                context.Response.StatusCode = 401;
                return;
            }
            using var json = JsonDocument.Parse(bytes);
            var root = json.RootElement;
            var type = root.GetProperty("type").GetString();
            var user = root.GetProperty("userId").GetString()!;
            if (type == "user.blocked")
            {
                if (!BlockedAt.TryAdd(user, now)) Interlocked.Increment(ref Duplicates);
                else
                {
                    BlockedLag.AddMs(Math.Max(0, now - root.GetProperty("time").GetInt64()));
                    Volatile.Write(ref LastBlockedTicks, Stopwatch.GetTimestamp());
                }
            }
            else if (type == "user.block_expired")
            {
                if (!ExpiredAt.TryAdd(user, now)) Interlocked.Increment(ref Duplicates);
                else ExpiredLag.AddMs(Math.Max(0, now - root.GetProperty("blockEndTime").GetInt64()));
            }
            context.Response.StatusCode = 200;
        }

        private bool Verify(string? header, byte[] body)
        {
            if (header is null) return false;
            string? t = null, v1 = null;
            foreach (var part in header.Split(','))
            {
                if (part.StartsWith("t=", StringComparison.Ordinal)) t = part[2..];
                else if (part.StartsWith("v1=", StringComparison.Ordinal)) v1 = part[3..];
            }
            if (t is null || v1 is null) return false;
            var signed = Encoding.UTF8.GetBytes(t + ".").Concat(body).ToArray();
            var expected = Convert.ToHexStringLower(HMACSHA256.HashData(_secret, signed));
            return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(v1));
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _listener.Close();
        }
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var n = options.Count("webhook-n", 10_000, 2_000);
        var receiverPort = RedisPeer.FreePort();
        using var receiver = new Receiver(receiverPort);
        using var dir = new TempDir(Name);
        var port = RedisPeer.FreePort();
        var psi = HttpBans.RealServer(dir.Path, port, $"--BanActors:Apps:0:Webhook:Url=http://127.0.0.1:{receiverPort}/hook");
        if (psi is null)
        {
            report.Skip(Name, "src/BanActors.Server is not built next to the bench");
            return;
        }
        using var server = ServerProcess.Start(psi, port);
        if (await server.WaitAnsweringAsync("/healthz", TimeSpan.FromSeconds(60)) is null)
        {
            report.Skip(Name, "the server did not start: " + server.RecentOutput);
            return;
        }
        using var http = new SignedHttp(server.Address, 64);
        var started = Stopwatch.GetTimestamp();
        var bans = await Load.RunAsync(n, 64, TimeSpan.FromSeconds(Math.Max(120, n / 50)),
            i => http.PostAsync("/user/block.json", SignedHttp.BlockForm([$"w{i}"], 1)));
        report.Add(Row.From(Name, $"set-up: {n:N0} signed one-minute bans over HTTP", 64, bans, "bans/s"));
        if (bans.Completed < n)
        {
            report.Skip(Name, $"only {bans.Completed} of {n} bans succeeded ({bans.FirstError})");
            return;
        }

        var bound = Stopwatch.StartNew();
        while (receiver.BlockedAt.Count < n && bound.Elapsed < TimeSpan.FromSeconds(Math.Max(60, n / 100))) await Task.Delay(20);
        var blocked = receiver.BlockedAt.Count;
        var blockedSeconds = Stopwatch.GetElapsedTime(started, Volatile.Read(ref receiver.LastBlockedTicks)).TotalSeconds;
        var blockedLag = receiver.BlockedLag.Summarize();
        report.Add(new Row(Name, $"user.blocked to the receiver ({n:N0} bans over HTTP, signature checked)", blocked, null,
            blocked / Math.Max(blockedSeconds, 1e-9), "events/s", blockedLag, n - blocked, null,
            $"events/s = events / (first ban sent → last event received); lag = received − the event's time"));

        // The expiries: one minute after each ban, each timed from its own end time.
        bound.Restart();
        while (receiver.ExpiredAt.Count < n && bound.Elapsed < TimeSpan.FromSeconds(90 + n / 100)) await Task.Delay(50);
        var expired = receiver.ExpiredAt.Count;
        var expiredLag = receiver.ExpiredLag.Summarize();
        report.Add(new Row(Name, $"user.block_expired to the receiver, lag from each ban's end time", expired, null, null, "",
            expiredLag, n - expired, null,
            $"the {n:N0} bans end spread over the {bans.Elapsed.TotalSeconds:0.0} s of their set-up ({n / Math.Max(bans.Elapsed.TotalSeconds, 1e-9):N0} expiries/s)"));
        report.Note($"webhook: {Volatile.Read(ref receiver.BadSignatures)} bad signatures, {Volatile.Read(ref receiver.Duplicates)} duplicates "
            + "(delivery is at least once), receiver = HttpListener in the bench process, 8 accept loops");
        report.Figure("webhook.blocked.events_per_s", blocked / Math.Max(blockedSeconds, 1e-9));
        report.Figure("webhook.blocked.p99_ms", blockedLag.P99Ms);
        report.Figure("webhook.expired.p50_ms", expiredLag.P50Ms);
        report.Figure("webhook.expired.p99_ms", expiredLag.P99Ms);
        report.Figure("webhook.missing", 2 * n - blocked - expired);
        report.Figure("webhook.bad_signatures", Volatile.Read(ref receiver.BadSignatures));
    }
}
