using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace BanActors.Testing;

/// <summary>
/// The real server (<c>dotnet BanActors.Server.dll</c>) as a child process on 127.0.0.1, with one app, the rate limit
/// out of the way and its SQLite file in a given folder, so that it can be killed (SIGKILL) and started again on the
/// same file.
/// </summary>
internal sealed class ServerChild : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerChild(Process process, Uri address, Stopwatch sinceStart)
    {
        _process = process;
        Address = address;
        SinceStart = sinceStart;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    /// <summary>Started just before the process was.</summary>
    public Stopwatch SinceStart { get; }

    public string RecentOutput => string.Join('\n', _output);

    /// <summary>
    /// The server built next to the caller: <c>src/BanActors.Server/bin/{configuration}/{tfm}</c> of the repository
    /// the caller's binaries are in, else the copy in the caller's own folder (a test project references the server);
    /// <c>BANACTORS_SERVER_DLL</c> names another.
    /// </summary>
    public static string ServerDll()
    {
        // To compare two builds under the same conditions (e.g. before and after a change), in alternate runs.
        if (Environment.GetEnvironmentVariable("BANACTORS_SERVER_DLL") is { Length: > 0 } chosen) return chosen;
        var own = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var tfm = Path.GetFileName(own);
        var configuration = Path.GetFileName(Path.GetDirectoryName(own)!);
        for (var dir = new DirectoryInfo(own); dir is not null; dir = dir.Parent)
        {
            if (!File.Exists(Path.Combine(dir.FullName, "BanActors.sln"))) continue;
            var built = Path.Combine(dir.FullName, "src", "BanActors.Server", "bin", configuration, tfm, "BanActors.Server.dll");
            if (File.Exists(built)) return built;
            break;
        }
        var copy = Path.Combine(own, "BanActors.Server.dll");
        return File.Exists(copy) ? copy : throw new FileNotFoundException("BanActors.Server.dll is not built next to " + own);
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the server on <c>{folder}/bans.db</c>; <paramref name="extra"/> are more <c>--Key=Value</c> arguments.</summary>
    public static ServerChild Start(string folder, int port, string appKey, string appSecret, params string[] extra)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = folder,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
                 {
                     ServerDll(), "--urls", $"http://127.0.0.1:{port}",
                     $"--BanActors:Apps:0:AppKey={appKey}", $"--BanActors:Apps:0:AppSecret={appSecret}",
                     "--BanActors:RateLimit:PermitsPerSecond=100000000",
                     "--BanActors:Storage:Provider=Sqlite",
                     $"--BanActors:Storage:ConnectionString=Data Source={Path.Combine(folder, "bans.db")}",
                     "--Logging:LogLevel:Default=Warning",
                 }.Concat(extra))
            psi.ArgumentList.Add(argument);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var sinceStart = Stopwatch.StartNew();
        var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start the server");
        return new ServerChild(process, new Uri($"http://127.0.0.1:{port}/"), sinceStart);
    }

    /// <summary>Polls <c>GET /healthz</c> until it answers 200; the time since the process was started.</summary>
    public async Task<TimeSpan> WaitHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < timeout)
        {
            if (_process.HasExited) throw new InvalidOperationException($"the server exited ({_process.ExitCode}):\n{RecentOutput}");
            try
            {
                using var response = await http.GetAsync("/healthz").ConfigureAwait(false);
                if (response.StatusCode == HttpStatusCode.OK) return SinceStart.Elapsed;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(10).ConfigureAwait(false);
        }
        throw new TimeoutException($"the server did not answer /healthz within {timeout.TotalSeconds:0} s:\n{RecentOutput}");
    }

    /// <summary>SIGKILL on Linux: no shutdown hook, no flush, no graceful close of the journal.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > 40) _output.TryDequeue(out _);
    }
}

/// <summary>Signed form POSTs as RongCloud's SDKs send them: hex SHA1(secret + nonce + timestamp) in the headers.</summary>
internal sealed class SignedApi(Uri address, string appKey, string appSecret, int connections) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = connections,
        UseProxy = false,
        UseCookies = false,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
    })
    {
        BaseAddress = address,
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>The HTTP status and body; throws when there is no answer (connection refused or reset, timeout).</summary>
    public async Task<(HttpStatusCode Status, string Body)> PostAsync(string path, IEnumerable<(string Key, string Value)> form,
        CancellationToken cancellationToken = default)
    {
        var body = string.Join('&', form.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
        using var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        request.Headers.Add("App-Key", appKey);
        request.Headers.Add("Nonce", nonce);
        request.Headers.Add("Timestamp", timestamp);
        request.Headers.Add("Signature", Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(appSecret + nonce + timestamp))));
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The whole block list, page by page (1,000 a page): user id → end time (UTC, to the second).</summary>
    public async Task<Dictionary<string, DateTime>> ListBlockedAsync()
    {
        var listed = new Dictionary<string, DateTime>(StringComparer.Ordinal);
        for (var page = 1; ; page++)
        {
            var (status, body) = await PostAsync("/user/block/query.json",
                [("page", page.ToString(CultureInfo.InvariantCulture)), ("size", "1000")]).ConfigureAwait(false);
            if (status != HttpStatusCode.OK) throw new InvalidOperationException($"block list page {page}: {(int)status} {body}");
            using var json = JsonDocument.Parse(body);
            var users = json.RootElement.GetProperty("users");
            foreach (var user in users.EnumerateArray())
            {
                listed[user.GetProperty("userId").GetString()!] = DateTime.ParseExact(user.GetProperty("blockEndTime").GetString()!,
                    "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            }
            if (users.GetArrayLength() < 1000 || listed.Count >= json.RootElement.GetProperty("total").GetInt32()) return listed;
        }
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// What the server acknowledged, per user: the states the user may be in now. A change answered 200 leaves one
/// (banned with an end time in the window of the request, or not banned); a change without an answer (the process
/// was killed while it was in flight, or it answered an error) adds its outcome to the ones already possible. One
/// request per user is in flight at a time, so "later" is well defined.
/// </summary>
internal sealed class AcknowledgedBans
{
    /// <summary>The ban length of every request: 30 days, so nothing expires during a run.</summary>
    public const int Minutes = 43_200;

    private static readonly TimeSpan Duration = TimeSpan.FromMinutes(Minutes);

    // The block list shows end times to the second; the two processes share the machine's clock.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, List<Outcome>> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _busy = new(StringComparer.Ordinal);

    /// <summary>Either banned with an end time in [<see cref="EndFrom"/>, <see cref="EndTo"/>], or not banned.</summary>
    private sealed record Outcome(bool Banned, DateTime EndFrom, DateTime EndTo)
    {
        public static readonly Outcome NotBanned = new(false, default, default);

        public bool Matches(DateTime? listedEnd) => listedEnd is { } end
            ? Banned && end >= EndFrom.AddTicks(-(EndFrom.Ticks % TimeSpan.TicksPerSecond)) - Slack && end <= EndTo + Slack
            : !Banned;

        public override string ToString() => Banned ? $"banned until {EndFrom:HH:mm:ss.fff}..{EndTo:HH:mm:ss.fff}" : "not banned";
    }

    public int Users => _users.Count;

    /// <summary>Takes every user of a request, or none (another request of one of them is in flight).</summary>
    public bool TryClaim(IReadOnlyList<string> users)
    {
        for (var i = 0; i < users.Count; i++)
        {
            if (_busy.TryAdd(users[i], 0)) continue;
            for (var j = 0; j < i; j++) _busy.TryRemove(users[j], out _);
            return false;
        }
        return true;
    }

    public void Release(IReadOnlyList<string> users)
    {
        foreach (var user in users) _busy.TryRemove(user, out _);
    }

    /// <summary>Records a ban (<paramref name="ban"/>) or an unban of <paramref name="users"/>, sent and answered (or failed) at the times given.</summary>
    public void Record(IReadOnlyList<string> users, bool ban, DateTime sent, DateTime done, bool acknowledged)
    {
        var outcome = ban ? new Outcome(true, sent + Duration, done + Duration) : Outcome.NotBanned;
        foreach (var user in users)
        {
            var possible = _users.GetOrAdd(user, _ => [Outcome.NotBanned]);
            if (acknowledged) possible.Clear();
            if (!possible.Contains(outcome)) possible.Add(outcome);
        }
    }

    /// <summary>Every user whose listed state (end time, or absent) is none of the possible ones, and every listed user never banned.</summary>
    public List<Mismatch> Check(IReadOnlyDictionary<string, DateTime> listed)
    {
        var mismatches = new List<Mismatch>();
        foreach (var (user, possible) in _users)
        {
            DateTime? end = listed.TryGetValue(user, out var e) ? e : null;
            if (possible.Any(o => o.Matches(end))) continue;
            var kind = end is null ? MismatchKind.LostBan : possible.All(o => !o.Banned) ? MismatchKind.LostUnban : MismatchKind.WrongEndTime;
            mismatches.Add(new Mismatch(kind, user, $"{user}: listed {(end is { } x ? $"until {x:yyyy-MM-dd HH:mm:ss}" : "not banned")}, "
                + $"acknowledged {string.Join(" or ", possible)}"));
        }
        foreach (var user in listed.Keys.Where(u => !_users.ContainsKey(u)))
            mismatches.Add(new Mismatch(MismatchKind.NeverBanned, user, $"{user}: listed but never banned"));
        return mismatches;
    }

    /// <summary>After a check: what is listed is what each user is now (the requests without an answer are decided).</summary>
    public void Settle(IReadOnlyDictionary<string, DateTime> listed)
    {
        foreach (var (user, possible) in _users)
        {
            possible.Clear();
            possible.Add(listed.TryGetValue(user, out var end) ? new Outcome(true, end, end) : Outcome.NotBanned);
        }
    }
}

internal enum MismatchKind
{
    /// <summary>An acknowledged ban is not listed.</summary>
    LostBan,

    /// <summary>An acknowledged unban (with no later ban) is listed.</summary>
    LostUnban,

    /// <summary>Listed with an end time no acknowledged (or unanswered) ban gave it, e.g. a lost re-ban.</summary>
    WrongEndTime,

    NeverBanned,
}

internal sealed record Mismatch(MismatchKind Kind, string User, string Description)
{
    public override string ToString() => $"{Kind}: {Description}";
}

/// <summary>What one cycle of load, SIGKILL and restart produced.</summary>
internal sealed record CrashCycleResult(
    int Cycle,
    int AcknowledgedBans,
    int AcknowledgedUnbans,
    int Unanswered,
    int ErrorAnswers,
    string? FirstError,
    TimeSpan Healthy,
    TimeSpan FirstAcknowledged,
    IReadOnlyList<TimeSpan> FirstRequests,
    IReadOnlyList<TimeSpan> NextRequests,
    int Listed,
    IReadOnlyList<Mismatch> Mismatches)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"cycle {Cycle}: acked {AcknowledgedBans} ban and {AcknowledgedUnbans} unban requests, {Unanswered} unanswered, "
            + $"{ErrorAnswers} error answers{(FirstError is null ? "" : $" (first: {FirstError})")}; restart: /healthz 200 after {Healthy.TotalMilliseconds:0} ms, "
            + $"first 200 after {FirstAcknowledged.TotalMilliseconds:0} ms, first {FirstRequests.Count} concurrent requests "
            + $"p50 {Percentile(FirstRequests, 0.5):0.0} ms max {Percentile(FirstRequests, 1):0.0} ms (the next {NextRequests.Count}: "
            + $"p50 {Percentile(NextRequests, 0.5):0.0} max {Percentile(NextRequests, 1):0.0}); {Listed} listed; {Mismatches.Count} mismatches");

    private static double Percentile(IReadOnlyList<TimeSpan> latencies, double p)
    {
        if (latencies.Count == 0) return double.NaN;
        var sorted = latencies.Select(t => t.TotalMilliseconds).Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}

/// <summary>
/// Issue 14: the real server under concurrent signed bans and unbans (fresh users, one or three per request, and a
/// pool of users banned, re-banned and unbanned again), killed with SIGKILL mid-load, restarted on the same SQLite
/// file; after each restart the first concurrent requests are timed and the whole block list is checked against
/// <see cref="AcknowledgedBans"/>.
/// </summary>
internal sealed class CrashCycles(string folder, int port, int inFlight, TimeSpan loadPerCycle, Action<string> log)
{
    public const string AppKey = "crashapp";
    public const string AppSecret = "crash-secret-not-for-production";

    private const int PoolSize = 400;
    public const int FirstRequestCount = 32;

    private readonly AcknowledgedBans _acknowledged = new();
    private int _fresh;

    public int Users => _acknowledged.Users;

    /// <summary>The server as first started (an empty journal), healthy.</summary>
    public async Task<ServerChild> StartAsync()
    {
        var server = ServerChild.Start(folder, port, AppKey, AppSecret);
        try
        {
            await server.WaitHealthyAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Load on <paramref name="server"/>, SIGKILL, restart and check. Returns the restarted server (the caller disposes it).</summary>
    public async Task<(ServerChild Restarted, CrashCycleResult Result)> RunCycleAsync(int cycle, ServerChild server)
    {
        var counts = new Counts();
        using (var api = new SignedApi(server.Address, AppKey, AppSecret, inFlight))
        using (var stop = new CancellationTokenSource())
        {
            var workers = Enumerable.Range(0, inFlight)
                .Select(w => Task.Run(() => WorkAsync(api, cycle, new Random(cycle * 1000 + w), counts, stop.Token)))
                .ToArray();
            await Task.Delay(loadPerCycle).ConfigureAwait(false);
            // Killed while requests are in flight: those get a reset (or a refused connection), never an answer.
            server.Kill();
            await stop.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(workers).ConfigureAwait(false);
        }
        server.Dispose();

        var restarted = ServerChild.Start(folder, port, AppKey, AppSecret);
        try
        {
            var healthy = await restarted.WaitHealthyAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            using var api = new SignedApi(restarted.Address, AppKey, AppSecret, FirstRequestCount);
            // Right after /healthz, then once more: the second round is the same requests with the process warm.
            var (first, latencies) = await TimedBansAsync(api, restarted, $"w{cycle}-").ConfigureAwait(false);
            var (_, next) = await TimedBansAsync(api, restarted, $"v{cycle}-").ConfigureAwait(false);
            var listed = await api.ListBlockedAsync().ConfigureAwait(false);
            var mismatches = _acknowledged.Check(listed);
            _acknowledged.Settle(listed);
            var result = new CrashCycleResult(cycle, counts.Bans, counts.Unbans, counts.Unanswered, counts.Errors, counts.FirstError,
                healthy, first, latencies, next, listed.Count, mismatches);
            log(result.ToString());
            foreach (var mismatch in mismatches.Take(20)) log("  " + mismatch);
            return (restarted, result);
        }
        catch
        {
            restarted.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="FirstRequestCount"/> concurrent bans of fresh users (named <paramref name="prefix"/>0, 1, ...), each
    /// timed, and the time from the process start to the first 200. Part of the record like any other ban.
    /// </summary>
    private async Task<(TimeSpan First, List<TimeSpan> Latencies)> TimedBansAsync(SignedApi api, ServerChild server, string prefix)
    {
        var firstAck = TimeSpan.MaxValue;
        var gate = new object();
        var counts = new Counts();
        var latencies = await Task.WhenAll(Enumerable.Range(0, FirstRequestCount).Select(async i =>
        {
            var users = new[] { prefix + i.ToString(CultureInfo.InvariantCulture) };
            _acknowledged.TryClaim(users);
            var started = Stopwatch.GetTimestamp();
            var acknowledged = await SendAsync(api, users, ban: true, counts, CancellationToken.None).ConfigureAwait(false);
            var latency = Stopwatch.GetElapsedTime(started);
            if (acknowledged)
            {
                lock (gate) firstAck = TimeSpan.FromTicks(Math.Min(firstAck.Ticks, server.SinceStart.Elapsed.Ticks));
            }
            _acknowledged.Release(users);
            return latency;
        })).ConfigureAwait(false);
        if (counts.Bans != FirstRequestCount)
            throw new InvalidOperationException($"only {counts.Bans} of {FirstRequestCount} bans after the restart were answered 200 ({counts.FirstError})");
        return (firstAck, latencies.ToList());
    }

    private async Task WorkAsync(SignedApi api, int cycle, Random random, Counts counts, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var roll = random.Next(100);
            bool ban;
            string[] users;
            if (roll < 15)
            {
                ban = true;
                users = [$"f{cycle}-{Interlocked.Increment(ref _fresh)}"];
            }
            else if (roll < 20)
            {
                ban = true;
                users = [.. Enumerable.Range(0, 3).Select(_ => $"f{cycle}-{Interlocked.Increment(ref _fresh)}")];
            }
            else
            {
                ban = roll < 70;
                users = [$"p{random.Next(PoolSize)}"];
            }
            if (!_acknowledged.TryClaim(users)) continue;
            try
            {
                if (!await SendAsync(api, users, ban, counts, stop).ConfigureAwait(false) && counts.Refused > 0) return;
            }
            finally
            {
                _acknowledged.Release(users);
            }
        }
    }

    /// <summary>Sends one ban or unban and records it; true when it was acknowledged (200 and <c>{"code":200}</c>).</summary>
    private async Task<bool> SendAsync(SignedApi api, string[] users, bool ban, Counts counts, CancellationToken stop)
    {
        var form = users.Select(u => ("userId", u)).ToList();
        if (ban) form.Add(("minute", AcknowledgedBans.Minutes.ToString(CultureInfo.InvariantCulture)));
        var sent = DateTime.UtcNow;
        bool acknowledged;
        try
        {
            var (status, body) = await api.PostAsync(ban ? "/user/block.json" : "/user/unblock.json", form, stop).ConfigureAwait(false);
            acknowledged = status == HttpStatusCode.OK && body == "{\"code\":200}";
            if (acknowledged) Interlocked.Increment(ref ban ? ref counts.Bans : ref counts.Unbans);
            else counts.Error($"{(int)status} {body}");
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            // Never reached a process: nothing changed. The server is gone; this worker stops.
            Interlocked.Increment(ref counts.Refused);
            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            // No answer: the process died with the request in flight (or before it reached it).
            acknowledged = false;
            Interlocked.Increment(ref counts.Unanswered);
        }
        _acknowledged.Record(users, ban, sent, DateTime.UtcNow, acknowledged);
        return acknowledged;
    }

    private sealed class Counts
    {
        public int Bans;
        public int Unbans;
        public int Unanswered;
        public int Refused;
        public int Errors;
        public string? FirstError;

        public void Error(string answer)
        {
            Interlocked.Increment(ref Errors);
            Interlocked.CompareExchange(ref FirstError, answer, null);
        }
    }
}
