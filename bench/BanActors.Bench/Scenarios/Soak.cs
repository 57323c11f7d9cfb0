using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Issue 14 item 6: minutes of mixed load against the real server process (short bans of 1–3 minutes so expiries
/// never stop, re-bans, unbans, WebSocket sessions through <c>/im/connect</c> that come and go, private messages to
/// banned and unbanned users), at a bounded rate with a bounded number in flight. Every minute: the server's RSS
/// (<c>/proc/PID/status</c>), threads and open descriptors, latency percentiles, requests, errors by code, timeouts,
/// kicks seen by the clients and the block list's size. The verdict is the slope of RSS over the last two thirds.
/// </summary>
public sealed class Soak : IScenario
{
    public string Name => "soak";

    public string Title => "Soak (mixed load on the real server, memory over time)";

    /// <summary>RSS slope at or below this (MB/min) over the last two thirds of the run counts as flat.</summary>
    public const double FlatMbPerMinute = 0.5;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>One minute's counters; operations record into the bucket that is current when they finish.</summary>
    private sealed class Bucket(int capacity)
    {
        public readonly Latencies Latency = new(capacity);
        public readonly ConcurrentDictionary<string, int> Ops = new();
        public readonly ConcurrentDictionary<string, int> Errors = new();
        public int Requests;
        public int Timeouts;
        public int Kicks;
        public int Refused;
        public int Messages;
        public int Connected;
        public int Disconnected;
        public int Dropped;

        public void Op(string name) => Ops.AddOrUpdate(name, 1, (_, v) => v + 1);

        public void Error(string key) => Errors.AddOrUpdate(key, 1, (_, v) => v + 1);
    }

    /// <summary>What one minute measured, as written to the JSON file.</summary>
    public sealed record MinuteSample(
        int Minute, double AtSeconds, double RssMb, double? HwmMb, int? Threads, int? OpenFds, double ServerCpuSeconds,
        int Requests, int Errors, int Timeouts, double P50Ms, double P99Ms, double MaxMs,
        int Kicks, int Refused, int MessagesReceived, int SessionsOpened, int SessionsClosedByClient, int SessionsDropped,
        int OpenSessions, int? BlockListTotal, int ExpectedBanned, int ExpiriesExpected, string Load,
        IReadOnlyDictionary<string, int> Ops, IReadOnlyDictionary<string, int> ErrorsByCode, IReadOnlyList<string>? RuntimeMetrics)
    {
        /// <summary>The managed heap after the last GC (all generations), from the server's System.Runtime meter.</summary>
        public double? GcHeapMb { get; init; }
    }

    private sealed class UserState
    {
        public long BannedUntilMs;
        public int Connected;
        public string? Token;
    }

    private sealed class Soaker(ServerProcess server, SignedHttp http, int users, int maxSessions)
    {
        public readonly UserState[] Users = Enumerable.Range(0, users).Select(_ => new UserState()).ToArray();
        public Bucket Current = new(1);
        public int OpenSessions;
        public readonly ConcurrentDictionary<ClientWebSocket, byte> Sockets = new();
        public CancellationToken Stopping;
        private long _lastExpiryCheckMs = NowMs;

        public static string Id(int i) => "s" + i.ToString(CultureInfo.InvariantCulture);

        public static long NowMs => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        private bool Banned(int i) => Volatile.Read(ref Users[i].BannedUntilMs) > NowMs;

        private int Pick(Random rng, bool? banned)
        {
            for (var attempt = 0; attempt < 20; attempt++)
            {
                var i = rng.Next(Users.Length);
                if (banned is null || Banned(i) == banned) return i;
            }
            return rng.Next(Users.Length);
        }

        public int ExpectedBanned() => Users.Count(u => Volatile.Read(ref u.BannedUntilMs) > NowMs);

        /// <summary>Bans whose end time (as the client set it) passed since the last call: the expiries the server should have made.</summary>
        public int TakeExpiries()
        {
            var now = NowMs;
            var last = Interlocked.Exchange(ref _lastExpiryCheckMs, now);
            return Users.Count(u => Volatile.Read(ref u.BannedUntilMs) is var until && until > last && until <= now);
        }

        /// <summary>One operation of the mix; returns when its request (or connect) answered.</summary>
        public async Task RunOneAsync(Random rng)
        {
            var roll = rng.Next(100);
            if (roll < 25) await BanAsync(rng, Pick(rng, banned: false), "ban");
            else if (roll < 35) await BanAsync(rng, Pick(rng, banned: true), "re-ban");
            else if (roll < 45) await UnbanAsync(Pick(rng, banned: true));
            else if (roll < 80) await PublishAsync(rng);
            else await ConnectAsync(rng);
        }

        private async Task BanAsync(Random rng, int i, string op)
        {
            var minutes = rng.Next(1, 4);
            if (await PostAsync(op, "/user/block.json", SignedHttp.BlockForm([Id(i)], minutes)))
                Volatile.Write(ref Users[i].BannedUntilMs, NowMs + minutes * 60_000L);
        }

        private async Task UnbanAsync(int i)
        {
            if (await PostAsync("unban", "/user/unblock.json", [new("userId", Id(i))]))
                Volatile.Write(ref Users[i].BannedUntilMs, 0);
        }

        private async Task PublishAsync(Random rng)
        {
            var toBanned = rng.Next(2) == 0;
            var to = Pick(rng, banned: toBanned);
            await PostAsync(toBanned ? "publish to banned" : "publish to unbanned", "/message/private/publish.json",
            [
                new("fromUserId", "sender" + rng.Next(16).ToString(CultureInfo.InvariantCulture)), new("toUserId", Id(to)),
                new("objectName", "RC:TxtMsg"), new("content", "{\"content\":\"soak\"}"),
            ]);
        }

        /// <summary>
        /// Sends the request with a time bound; counts it and its latency in the current minute, non-200 answers by
        /// HTTP status and body code, and timeouts. True for a 200 with code 200.
        /// </summary>
        public async Task<bool> PostAsync(string op, string path, IEnumerable<KeyValuePair<string, string>> form)
        {
            var t0 = Stopwatch.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
            timeout.CancelAfter(RequestTimeout);
            string? error;
            try
            {
                var (status, body) = await http.SendAsync(path, form, timeout.Token).ConfigureAwait(false);
                error = status == 200 && body.Contains("\"code\":200", StringComparison.Ordinal) ? null : $"HTTP {status} code {Code(body)}";
            }
            catch (OperationCanceledException)
            {
                error = "timeout";
            }
            catch (HttpRequestException ex)
            {
                error = "connection: " + (ex.HttpRequestError.ToString());
            }
            var b = Current;
            Interlocked.Increment(ref b.Requests);
            b.Op(op);
            b.Latency.Add(Stopwatch.GetTimestamp() - t0);
            if (error == "timeout") Interlocked.Increment(ref b.Timeouts);
            else if (error is not null) b.Error($"{op}: {error}");
            return error is null;
        }

        private static string Code(string body)
        {
            try
            {
                return JsonDocument.Parse(body).RootElement.TryGetProperty("code", out var c) ? c.ToString() : "none";
            }
            catch (JsonException)
            {
                return "not JSON";
            }
        }

        private async Task<string?> TokenAsync(int i)
        {
            if (Users[i].Token is { } cached) return cached;
            var t0 = Stopwatch.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
            timeout.CancelAfter(RequestTimeout);
            var b = Current;
            try
            {
                var (status, body) = await http.SendAsync("/user/getToken.json",
                    [new("userId", Id(i)), new("name", Id(i)), new("portraitUri", "http://example.invalid/p.png")], timeout.Token);
                Interlocked.Increment(ref b.Requests);
                b.Op("getToken");
                b.Latency.Add(Stopwatch.GetTimestamp() - t0);
                if (status != 200 || !body.Contains("\"code\":200", StringComparison.Ordinal))
                {
                    b.Error($"getToken: HTTP {status} code {Code(body)}");
                    return null;
                }
                return Users[i].Token = JsonDocument.Parse(body).RootElement.GetProperty("token").GetString();
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref b.Requests);
                Interlocked.Increment(ref b.Timeouts);
                return null;
            }
            catch (HttpRequestException ex)
            {
                Interlocked.Increment(ref b.Requests);
                b.Error("getToken: connection: " + ex.HttpRequestError);
                return null;
            }
        }

        /// <summary>
        /// A session for a user (banned or not, as chance has it) that stays 5–40 s, then closes itself unless a ban
        /// kicks it first. The latency counted is the WebSocket upgrade up to the server's first frame.
        /// </summary>
        private async Task ConnectAsync(Random rng)
        {
            if (Volatile.Read(ref OpenSessions) >= maxSessions)
            {
                await PublishAsync(rng);
                return;
            }
            var i = Pick(rng, banned: rng.Next(5) == 0 ? null : false);
            if (await TokenAsync(i) is not { } token) return;
            var socket = new ClientWebSocket();
            var uri = new Uri($"ws://127.0.0.1:{server.Address.Port}/im/connect?token={Uri.EscapeDataString(token)}");
            var t0 = Stopwatch.GetTimestamp();
            var b = Current;
            string? first;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
                timeout.CancelAfter(RequestTimeout);
                await socket.ConnectAsync(uri, timeout.Token);
                first = await WebSocketText.ReceiveAsync(socket, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref b.Requests);
                Interlocked.Increment(ref b.Timeouts);
                socket.Dispose();
                return;
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException)
            {
                Interlocked.Increment(ref b.Requests);
                b.Error("connect: " + ex.GetType().Name + " " + ex.Message[..Math.Min(ex.Message.Length, 60)]);
                socket.Dispose();
                return;
            }
            b = Current;
            Interlocked.Increment(ref b.Requests);
            b.Op("connect");
            b.Latency.Add(Stopwatch.GetTimestamp() - t0);
            if (first is not null && first.Contains("\"connected\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref b.Connected);
                Interlocked.Increment(ref OpenSessions);
                Interlocked.Increment(ref Users[i].Connected);
                Sockets[socket] = 0;
                _ = HoldAsync(socket, i, TimeSpan.FromSeconds(rng.Next(5, 41)));
                return;
            }
            if (first is not null && first.Contains("\"refused\"", StringComparison.Ordinal) && first.Contains("31009", StringComparison.Ordinal))
                Interlocked.Increment(ref b.Refused);
            else b.Error("connect: first frame " + (first is null ? "close" : first[..Math.Min(first.Length, 60)]));
            socket.Abort();
            socket.Dispose();
        }

        /// <summary>
        /// Reads the session until it closes. When the hold ends the client starts a normal close from another task
        /// (cancelling a receive would abort the socket, not close it) and the loop reads the server's answer.
        /// </summary>
        private async Task HoldAsync(ClientWebSocket socket, int i, TimeSpan hold)
        {
            var buffer = new byte[8192];
            var kicked = false;
            var leaving = 0;
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Stopping);
            // Bounded whatever happens: the hold, the close handshake, and a margin.
            deadline.CancelAfter(hold + TimeSpan.FromSeconds(15));
            _ = Task.Delay(hold, Stopping).ContinueWith(async t =>
            {
                if (t.IsCanceled || socket.State != WebSocketState.Open) return;
                Volatile.Write(ref leaving, 1);
                try
                {
                    using var close = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", close.Token);
                }
                catch (Exception) { }
            }, TaskScheduler.Default);
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer, deadline.Token);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        if (result.CloseStatus == (WebSocketCloseStatus)4009)
                        {
                            if (!kicked) Interlocked.Increment(ref Current.Kicks);
                        }
                        else if (Volatile.Read(ref leaving) == 1) Interlocked.Increment(ref Current.Disconnected);
                        else Current.Error($"session: closed by the server with {(int?)result.CloseStatus}");
                        break;
                    }
                    var text = Encoding.UTF8.GetString(buffer, 0, result.Count);
                    if (text.Contains("\"kicked\"", StringComparison.Ordinal))
                    {
                        kicked = true;
                        Interlocked.Increment(ref Current.Kicks);
                    }
                    else if (text.Contains("\"message\"", StringComparison.Ordinal)) Interlocked.Increment(ref Current.Messages);
                }
            }
            catch (Exception)
            {
                if (!Stopping.IsCancellationRequested) Interlocked.Increment(ref Current.Dropped);
            }
            finally
            {
                Sockets.TryRemove(socket, out _);
                Interlocked.Decrement(ref OpenSessions);
                Interlocked.Decrement(ref Users[i].Connected);
                socket.Abort();
                socket.Dispose();
            }
        }

        public async Task<int?> BlockListTotalAsync()
        {
            using var timeout = new CancellationTokenSource(RequestTimeout);
            try
            {
                var (status, body) = await http.SendAsync("/user/block/query.json", [new("page", "1"), new("size", "1")], timeout.Token);
                if (status != 200) return null;
                return JsonDocument.Parse(body).RootElement.GetProperty("total").GetInt32();
            }
            catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or JsonException or KeyNotFoundException)
            {
                return null;
            }
        }
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var minutes = options.Count("soak-minutes", 30, 3);
        var rate = options.Count("soak-rate", 100, 100);
        var inFlight = options.Count("soak-in-flight", 16, 16);
        var users = options.Count("soak-users", 10_000, 2_000);
        var maxSessions = options.Count("soak-sessions", 100, 50);
        var idleSeconds = options.Count("soak-idle-seconds", 60, 20);
        report.FileSuffix = "-soak";

        using var dir = new TempDir(Name);
        using var server = await HttpBans.StartRealServerAsync(dir, Name, report);
        if (server is null) return;
        // Whatever ends the bench (Ctrl-C, SIGTERM from a kill, an exception), the server goes with it.
        void KillServer(object? _, EventArgs __) => server.Dispose();
        AppDomain.CurrentDomain.ProcessExit += KillServer;
        Console.CancelKeyPress += KillServer;
        try
        {
            await RunLoadAsync(server, report, minutes, rate, inFlight, users, maxSessions, idleSeconds);
        }
        finally
        {
            AppDomain.CurrentDomain.ProcessExit -= KillServer;
            Console.CancelKeyPress -= KillServer;
        }
    }

    private async Task RunLoadAsync(ServerProcess server, Report report, int minutes, int rate, int inFlight, int users,
        int maxSessions, int idleSeconds)
    {
        using var http = new SignedHttp(server.Address, inFlight + 4);
        using var stop = new CancellationTokenSource();
        // A hard bound on the whole scenario, whatever hangs.
        using var hardStop = new CancellationTokenSource(TimeSpan.FromMinutes(minutes + 5) + TimeSpan.FromSeconds(idleSeconds));
        var soaker = new Soaker(server, http, users, maxSessions) { Stopping = stop.Token };
        soaker.Current = new Bucket(rate * 60 * 2);

        using (var probe = new CancellationTokenSource(RequestTimeout))
        {
            var (status, body) = await http.SendAsync("/user/getToken.json", [new("userId", "probe")], probe.Token);
            if (status != 200 || !body.Contains("\"token\"", StringComparison.Ordinal))
            {
                report.Skip(Name, $"the server has no /user/getToken.json (HTTP {status})");
                return;
            }
        }
        string? metricsProbe = null;
        try
        {
            using var t = new CancellationTokenSource(RequestTimeout);
            metricsProbe = await http.GetTextAsync("/metrics", t.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException) { }
        var hasMetrics = metricsProbe is not null && metricsProbe.Contains("process_", StringComparison.Ordinal);

        var samples = new List<MinuteSample>();
        var started = Stopwatch.StartNew();
        var cpuAtStart = ServerCpuSeconds(server);
        samples.Add(await SampleAsync(0, started, server, soaker, new Bucket(1), hasMetrics, http));
        Console.WriteLine($"  soak: {minutes} min, {rate} ops/s, {inFlight} in flight, {users} users, ≤ {maxSessions} sessions; server pid {server.Pid}, RSS {samples[0].RssMb:0.0} MB");

        using var gate = new SemaphoreSlim(inFlight);
        var running = new ConcurrentDictionary<int, Task>();
        var sampler = Task.Run(async () =>
        {
            for (var m = 1; m <= minutes; m++)
            {
                var due = TimeSpan.FromMinutes(m) - started.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due, hardStop.Token);
                var done = Interlocked.Exchange(ref soaker.Current, new Bucket(rate * 60 * 2));
                var s = await SampleAsync(m, started, server, soaker, done, hasMetrics, http);
                lock (samples) samples.Add(s);
                Console.WriteLine("  " + FormatSample(s).Replace("|", " ", StringComparison.Ordinal).Trim());
            }
        }, hardStop.Token);

        var ticksPerOp = Stopwatch.Frequency / (double)rate;
        var loadStart = Stopwatch.GetTimestamp();
        var end = TimeSpan.FromMinutes(minutes);
        var seed = 0;
        for (long op = 0; started.Elapsed < end && !hardStop.IsCancellationRequested; op++)
        {
            var dueAt = loadStart + (long)(op * ticksPerOp);
            var wait = dueAt - Stopwatch.GetTimestamp();
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency));
            // Bounded in flight: when the server is slower than the rate, the rate gives way (closed loop).
            await gate.WaitAsync(hardStop.Token);
            var rng = new Random(++seed);
            var id = (int)(op % int.MaxValue);
            var task = Task.Run(async () =>
            {
                try
                {
                    await soaker.RunOneAsync(rng);
                }
                catch (Exception ex)
                {
                    soaker.Current.Error("driver: " + ex.GetType().Name);
                }
                finally
                {
                    gate.Release();
                    running.TryRemove(id, out _);
                }
            });
            running[id] = task;
        }

        await Task.WhenAny(Task.WhenAll(running.Values.ToArray()), Task.Delay(RequestTimeout + TimeSpan.FromSeconds(5)));
        try
        {
            await sampler;
        }
        catch (OperationCanceledException) { }
        stop.Cancel();
        foreach (var socket in soaker.Sockets.Keys) socket.Abort();

        // After the load: idle, so RSS can be read without traffic and the last bans can be seen expiring.
        var loadEndSample = samples[^1];
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(idleSeconds), hardStop.Token);
        }
        catch (OperationCanceledException) { }
        var idle = await SampleAsync(minutes + 1, started, server, soaker, new Bucket(1), hasMetrics, http);
        var serverCpu = ServerCpuSeconds(server) - cpuAtStart;

        Summarize(report, samples, idle, loadEndSample, minutes, rate, inFlight, users, maxSessions, idleSeconds, hasMetrics, serverCpu);
    }

    private static double ServerCpuSeconds(ServerProcess server)
    {
        try
        {
            return server.CpuTime().TotalSeconds;
        }
        catch (InvalidOperationException)
        {
            return double.NaN;
        }
    }

    private static async Task<MinuteSample> SampleAsync(int minute, Stopwatch started, ServerProcess server, Soaker soaker, Bucket b,
        bool hasMetrics, SignedHttp http)
    {
        var status = ProcStatus(server.Pid);
        int? fds = null;
        try
        {
            fds = Directory.GetFiles($"/proc/{server.Pid}/fd").Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        List<string>? metrics = null;
        if (hasMetrics)
        {
            try
            {
                using var t = new CancellationTokenSource(RequestTimeout);
                metrics = (await http.GetTextAsync("/metrics", t.Token))?.Split('\n')
                    .Where(l => l.StartsWith("process_", StringComparison.Ordinal) || l.StartsWith("dotnet_", StringComparison.Ordinal))
                    .ToList();
            }
            catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException) { }
        }
        var total = await soaker.BlockListTotalAsync();
        var l = b.Latency.Summarize();
        return new MinuteSample(minute, Math.Round(started.Elapsed.TotalSeconds, 1),
            Math.Round((status.GetValueOrDefault("VmRSS") ?? server.WorkingSet() / 1024.0) / 1024.0, 1),
            status.GetValueOrDefault("VmHWM") is { } hwm ? Math.Round(hwm / 1024.0, 1) : null,
            status.GetValueOrDefault("Threads") is { } th ? (int)th : null, fds, Math.Round(ServerCpuSeconds(server), 1),
            b.Requests, b.Errors.Values.Sum(), b.Timeouts, Math.Round(l.P50Ms, 2), Math.Round(l.P99Ms, 2), Math.Round(l.MaxMs, 2),
            b.Kicks, b.Refused, b.Messages, b.Connected, b.Disconnected, b.Dropped,
            Volatile.Read(ref soaker.OpenSessions), total, soaker.ExpectedBanned(), soaker.TakeExpiries(), MachineInfo.LoadAverageNow(),
            new SortedDictionary<string, int>(b.Ops), new SortedDictionary<string, int>(b.Errors), metrics)
        {
            GcHeapMb = GcHeap(metrics),
        };
    }

    /// <summary>Sum of <c>dotnet_gc_last_collection_heap_size_bytes</c> over its generations, in MB.</summary>
    private static double? GcHeap(List<string>? metrics)
    {
        var values = metrics?.Where(l => l.StartsWith("dotnet_gc_last_collection_heap_size_bytes{", StringComparison.Ordinal))
            .Select(l => double.TryParse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN)
            .Where(v => !double.IsNaN(v)).ToList();
        return values is { Count: > 0 } ? Math.Round(values.Sum() / 1048576.0, 1) : null;
    }

    /// <summary>VmRSS and VmHWM in kB and Threads from <c>/proc/PID/status</c>; empty when it cannot be read.</summary>
    private static Dictionary<string, double?> ProcStatus(int pid)
    {
        var values = new Dictionary<string, double?>();
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon < 0) continue;
                var key = line[..colon];
                if (key is not ("VmRSS" or "VmHWM" or "Threads")) continue;
                var number = line[(colon + 1)..].Trim().Split(' ')[0];
                if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) values[key] = v;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException) { }
        return values;
    }

    /// <summary>Least-squares slope of RSS (or, with <paramref name="of"/>, another MB figure) over minutes.</summary>
    public static double Slope(IReadOnlyList<MinuteSample> all, Func<MinuteSample, double?>? of = null)
    {
        of ??= x => x.RssMb;
        var s = all.Where(x => of(x) is not null).ToList();
        if (s.Count < 2) return double.NaN;
        var mx = s.Average(x => x.AtSeconds / 60.0);
        var my = s.Average(x => of(x)!.Value);
        var num = s.Sum(x => (x.AtSeconds / 60.0 - mx) * (of(x)!.Value - my));
        var den = s.Sum(x => Math.Pow(x.AtSeconds / 60.0 - mx, 2));
        return den == 0 ? double.NaN : num / den;
    }

    private static string FormatSample(MinuteSample s) => string.Create(CultureInfo.InvariantCulture,
        $"| {s.Minute} | {s.RssMb:0.0} | {s.GcHeapMb?.ToString("0.0", CultureInfo.InvariantCulture) ?? "–"} | {s.Threads?.ToString(CultureInfo.InvariantCulture) ?? "–"} | {s.OpenFds?.ToString(CultureInfo.InvariantCulture) ?? "–"} | {s.Requests:N0} | {s.Errors} | {s.Timeouts} | {Ms(s.P50Ms)} | {Ms(s.P99Ms)} | {Ms(s.MaxMs)} | {s.Kicks} | {s.Refused} | {s.MessagesReceived} | {s.SessionsOpened} | {s.OpenSessions} | {s.BlockListTotal?.ToString(CultureInfo.InvariantCulture) ?? "–"} | {s.ExpectedBanned} | {s.ExpiriesExpected} | {s.Load} |");

    private static string Ms(double v) => double.IsNaN(v) ? "–" : v.ToString(v >= 100 ? "N0" : "0.0", CultureInfo.InvariantCulture);

    private void Summarize(Report report, List<MinuteSample> samples, MinuteSample idle, MinuteSample loadEnd, int minutes, int rate,
        int inFlight, int users, int maxSessions, int idleSeconds, bool hasMetrics, double serverCpu)
    {
        var loaded = samples.Where(s => s.Minute > 0).ToList();
        var tail = samples.Where(s => s.Minute >= minutes / 3.0).ToList();
        var slope = Slope(tail);
        var flat = Math.Abs(slope) <= FlatMbPerMinute;
        var requests = loaded.Sum(s => s.Requests);
        var errors = loaded.Sum(s => s.Errors);
        var timeouts = loaded.Sum(s => s.Timeouts);
        var byCode = loaded.SelectMany(s => s.ErrorsByCode).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        var ops = loaded.SelectMany(s => s.Ops).GroupBy(kv => kv.Key).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Sum(kv => kv.Value):N0}");
        var p99s = loaded.Where(s => !double.IsNaN(s.P99Ms)).Select(s => s.P99Ms).DefaultIfEmpty(double.NaN).ToList();

        var table = new StringBuilder();
        table.AppendLine("| min | RSS MB | GC heap MB | threads | fds | requests | errors | timeouts | p50 ms | p99 ms | max ms | kicks | refused (banned) | msgs received | sessions opened | open sessions | block list | banned (client's model) | expiries (client's model) | load avg |");
        table.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var s in samples) table.AppendLine(FormatSample(s));
        table.AppendLine(FormatSample(idle with { Minute = minutes + 1 }).Replace($"| {minutes + 1} |", $"| idle {idleSeconds} s |", StringComparison.Ordinal));
        report.Sections.Add(new Section("Soak: per minute", table.ToString()));

        var verdict = string.Create(CultureInfo.InvariantCulture,
            $"RSS {samples[0].RssMb:0.0} MB before the load, {loaded.FirstOrDefault()?.RssMb:0.0} MB after minute 1, {loadEnd.RssMb:0.0} MB at the end of the load, {idle.RssMb:0.0} MB after {idleSeconds} s idle; "
            + $"peak (VmHWM) {idle.HwmMb:0.0} MB. Slope over the last two thirds (minutes {tail.FirstOrDefault()?.Minute}–{tail.LastOrDefault()?.Minute}, least squares): "
            + $"**{slope:+0.00;-0.00} MB/min**, {(double.IsNaN(slope) ? "no verdict (fewer than two samples; run longer)" : flat ? "flat" : "NOT flat")} (flat = |slope| ≤ {FlatMbPerMinute} MB/min).");
        var heapSlope = Slope(tail, x => x.GcHeapMb);
        var lines = new StringBuilder();
        lines.AppendLine("- " + verdict);
        if (!double.IsNaN(heapSlope))
            lines.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- Managed heap after the last GC: {loaded.FirstOrDefault()?.GcHeapMb:0.0} MB after minute 1, {loadEnd.GcHeapMb:0.0} MB at the end of the load, {idle.GcHeapMb:0.0} MB idle; slope over the same minutes **{heapSlope:+0.00;-0.00} MB/min**."));
        lines.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- Requests {requests:N0} ({requests / Math.Max(1.0, minutes * 60.0):0.#}/s on average; target rate {rate}/s, {inFlight} in flight), errors {errors:N0}, timeouts (> {RequestTimeout.TotalSeconds:0} s) {timeouts:N0}; p99 per minute {p99s.Min():0.0}–{p99s.Max():0.0} ms, worst single request {loaded.Select(s => s.MaxMs).DefaultIfEmpty(double.NaN).Max():N0} ms."));
        lines.AppendLine("- Operations: " + string.Join(", ", ops) + ".");
        lines.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- Sessions: {loaded.Sum(s => s.SessionsOpened):N0} opened, {loaded.Sum(s => s.SessionsClosedByClient):N0} closed by the client, {loaded.Sum(s => s.Kicks):N0} kicks seen, {loaded.Sum(s => s.Refused):N0} refused as banned (31009), {loaded.Sum(s => s.SessionsDropped):N0} dropped, {loaded.Sum(s => s.MessagesReceived):N0} messages received."));
        lines.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- Expiries: {loaded.Sum(s => s.ExpiriesExpected):N0} bans reached their end untouched (client's count of end times passed); the block list held {loaded.Select(s => s.BlockListTotal ?? 0).DefaultIfEmpty(0).Min()}–{loaded.Select(s => s.BlockListTotal ?? 0).DefaultIfEmpty(0).Max()} users at the minute marks; after {idleSeconds} s idle {idle.BlockListTotal?.ToString(CultureInfo.InvariantCulture) ?? "?"} (client's model {idle.ExpectedBanned})."));
        lines.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"- Server CPU {serverCpu:N0} s over {minutes} min + idle ({serverCpu / (minutes * 60.0 + idleSeconds) * 100:0}% of one core); threads {loaded.Select(s => s.Threads ?? 0).DefaultIfEmpty(0).Min()}–{loaded.Select(s => s.Threads ?? 0).DefaultIfEmpty(0).Max()}, open descriptors {loaded.Select(s => s.OpenFds ?? 0).DefaultIfEmpty(0).Min()}–{loaded.Select(s => s.OpenFds ?? 0).DefaultIfEmpty(0).Max()}."));
        if (byCode.Count > 0)
            lines.AppendLine("- Errors by code: " + string.Join(", ", byCode.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} × {kv.Value:N0}")) + ".");
        report.Sections.Add(new Section("Soak: verdict", lines.ToString()));

        report.Add(new Row("soak", $"{minutes} min mixed load: RSS slope over the last 2/3 {slope:+0.00;-0.00} MB/min ({(flat ? "flat" : "NOT flat")})",
            requests, inFlight, requests / Math.Max(1.0, minutes * 60.0), "req/s",
            new LatencySummary(requests, loaded.Select(s => s.P50Ms).DefaultIfEmpty(double.NaN).Average(), p99s.Max(),
                loaded.Select(s => s.MaxMs).DefaultIfEmpty(double.NaN).Max(), double.NaN),
            errors + timeouts, null,
            string.Create(CultureInfo.InvariantCulture, $"RSS {samples[0].RssMb:0} → {loadEnd.RssMb:0} MB; p50 is the mean of the minutes' p50, p99 and max the worst minute's")));
        report.Figure("soak.rss_slope_mb_per_min", slope);
        report.Figure("soak.rss_start_mb", samples[0].RssMb);
        if (!double.IsNaN(heapSlope)) report.Figure("soak.gc_heap_slope_mb_per_min", heapSlope);
        report.Figure("soak.rss_end_mb", loadEnd.RssMb);
        report.Figure("soak.errors", errors);
        report.Figure("soak.timeouts", timeouts);
        report.Data["soak"] = new
        {
            minutes, rate, inFlight, users, maxSessions, idleSeconds, flatMbPerMinute = FlatMbPerMinute, slopeMbPerMinute = slope, flat,
            samples, idle, errorsByCode = byCode, serverCpuSeconds = serverCpu,
        };
        report.Note(string.Create(CultureInfo.InvariantCulture,
            $"soak: the real server as a child process (`dotnet BanActors.Server.dll`, SQLite file, rate limit raised, log level Warning); "
            + $"mix per operation: 25% ban of an unbanned user and 10% re-ban of a banned one (1–3 minutes each), 10% unban of a banned user, "
            + $"35% private message to a banned or an unbanned user (half each), 20% WebSocket connect through /im/connect (token from /user/getToken.json, cached per user; "
            + $"one in five for a user who may be banned; each session holds 5–40 s unless kicked; at most {maxSessions} open, beyond that a message instead); "
            + $"{users} users; paced at {rate} operations/s with at most {inFlight} in flight (when the server is slower the pace gives way, so latency is not corrected for coordinated omission); "
            + $"each request bounded at {RequestTimeout.TotalSeconds:0} s. RSS from /proc/PID/status (VmRSS), "
            + $"{(hasMetrics ? "process_/dotnet_ lines of /metrics in the JSON." : "no GC heap figure: the server on this commit exposes no /metrics.")}"));
    }
}
