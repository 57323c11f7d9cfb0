using System.Diagnostics;
using System.Net;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests.Hardening;

/// <summary>
/// Faults of the store itself (issue 14, item 2), each on a real store: PostgreSQL stopped under load and started
/// again, and the SQLite file's file system full. During the fault: 1000 (HTTP 500), never a false 200; after it:
/// recovery without a restart, every acknowledged ban still there, and a timed unban that fell due during the fault
/// recorded right after.
/// </summary>
public sealed class StoreFaultSpecs
{
    private static readonly Dictionary<string, string?> Impatient = new()
    {
        // Gives up on the journal after 2 s, so that the fault shows quickly.
        ["BanActors:Engine:AskTimeout"] = "00:00:02",
        ["BanActors:RateLimit:PermitsPerSecond"] = "100000",
    };

    [SkippableFact]
    public async Task PostgreSQL_stopped_under_load_gives_1000_then_the_server_recovers_by_itself_with_every_acknowledged_ban()
    {
        var (postgres, reason) = await ThrowawayPostgres.TryStartAsync("banactors-pgfault-");
        if (postgres is null && BanActors.Tests.Shared.PostgresServer.IsCi) throw new InvalidOperationException("CI=true and PostgreSQL is unavailable: " + reason);
        Skip.If(postgres is null, $"PostgreSQL is unavailable: {reason}");
        await using var _ = postgres!;
        var connection = await postgres!.CreateDatabaseAsync("faults");
        await using var server = await ServerHost.StartAsync([TestApps.A], new Dictionary<string, string?>(Impatient)
        {
            ["BanActors:Storage:Provider"] = "PostgreSql",
            ["BanActors:Storage:ConnectionString"] = connection,
        });

        await RunFaultAsync(server, postgres.Pause, postgres.Resume);
    }

    [SkippableFact]
    public async Task A_full_file_system_gives_1000_then_the_server_recovers_by_itself_with_every_acknowledged_ban()
    {
        using var disk = Tmpfs.TryMount(megabytes: 24, out var reason);
        if (disk is null && BanActors.Tests.Shared.PostgresServer.IsCi) throw new InvalidOperationException("CI=true and no tmpfs could be mounted: " + reason);
        Skip.If(disk is null, $"a size-capped file system is needed (root, mount -t tmpfs): {reason}");
        await using var server = await ServerHost.StartAsync([TestApps.A], Impatient, databaseFolder: disk!.Path);

        await RunFaultAsync(server, disk.Fill, disk.Free);
    }

    private static async Task<ApiResponse> PollAsync(Func<Task<ApiResponse>> call, Func<ApiResponse, bool> done)
    {
        var clock = Stopwatch.StartNew();
        var last = await call();
        while (!done(last) && clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(100);
            last = await call();
        }
        return last;
    }

    /// <summary>Bans before, a fault under concurrent load, time moving past a ban's end, the fault lifted, and the checks.</summary>
    private static async Task RunFaultAsync(ServerHost server, Action fault, Action lift)
    {
        var a = server.Client(TestApps.A);
        var user = (string id) => new UserKey(TestApps.A.AppKey, id);
        Assert.Equal("{\"code\":200}", (await a.PostAsync("/user/block.json", ("userId", "kept"), ("minute", "43200"))).Body);
        Assert.Equal("{\"code\":200}", (await a.PostAsync("/user/block.json", ("userId", "short"), ("minute", "1"))).Body);
        var shortEnd = (await server.Engine.GetStatusAsync(user("short"))).Until!.Value;

        fault();
        try
        {
            var during = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => i % 4 == 3
                ? a.PostAsync("/user/unblock.json", ("userId", "kept"))
                : a.PostAsync("/user/block.json", ("userId", $"during-{i}"), ("minute", "10"))));
            // Never a false 200: every change that could not be stored says so.
            foreach (var answer in during)
            {
                Assert.True(answer.Status == HttpStatusCode.InternalServerError, answer.ToString());
                Assert.Equal(1000, answer.Code);
            }
            using var health = await server.Http.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);

            // The short ban falls due while the store is away.
            server.Clock.Advance(TimeSpan.FromMinutes(2));
        }
        finally
        {
            lift();
        }

        // The journal's circuit breaker lets a call through every 5 s: recovery within seconds, without a restart.
        // That breaker runs on Akka's own scheduler and the store comes back in real time, so this waits (bounded);
        // the engine's timers (the expiry above) move on the test's clock.
        var after = await PollAsync(() => a.PostAsync("/user/block.json", ("userId", "after"), ("minute", "10")),
            r => r.Status != HttpStatusCode.InternalServerError);
        Assert.True(after.Body == "{\"code\":200}", after + "\n" + string.Join("\n", server.Logs.Lines
            .Where(l => l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal)).TakeLast(12)));
        var kept = await server.Engine.GetStatusAsync(user("kept"));
        Assert.True(kept.IsBanned, $"kept: {kept}; {(await a.PostAsync("/user/block/history.json", ("userId", "kept"))).Body}");
        Assert.False((await server.Engine.GetStatusAsync(user("short"))).IsBanned);

        // The expiry that fell due during the fault is recorded right after it, at the ban's end time.
        var history = await PollAsync(
            () => a.PostAsync("/user/block/history.json", ("userId", "short")),
            r => r.Body.Contains("\"expire\"", StringComparison.Ordinal));
        Assert.Contains("\"action\":\"expire\"", history.Body);
        Assert.Contains(shortEnd.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), history.Body);
        var list = await a.PostAsync("/user/block/query.json");
        Assert.Contains("\"kept\"", list.Body);
        Assert.Contains("\"after\"", list.Body);
        Assert.DoesNotContain("\"short\"", list.Body);
        using var healthy = await server.Http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
    }
}

/// <summary>A size-capped file system (tmpfs, needs root) that a test can fill up and free again.</summary>
internal sealed class Tmpfs : IDisposable
{
    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    private string Filler => System.IO.Path.Combine(Path, "filler");

    public static Tmpfs? TryMount(int megabytes, out string? reason)
    {
        var path = System.IO.Path.Combine("/tmp", "banactors-tmpfs-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        var (code, output) = Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
        if (code == 0)
        {
            reason = null;
            return new Tmpfs(path);
        }
        Directory.Delete(path);
        reason = output;
        return null;
    }

    /// <summary>Takes every free byte: the next write that needs a new page fails with "disk full".</summary>
    public void Fill()
    {
        using var stream = new FileStream(Filler, FileMode.Create, FileAccess.Write);
        var chunk = new byte[64 * 1024];
        try
        {
            while (true) stream.Write(chunk);
        }
        catch (IOException)
        {
            // ENOSPC: full.
        }
        try { stream.Flush(); } catch (IOException) { }
    }

    public void Free() => File.Delete(Filler);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }

    private static (int Code, string Output) Run(string file, params string[] arguments)
    {
        try
        {
            var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments) info.ArgumentList.Add(argument);
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output.Trim());
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return (-1, ex.Message);
        }
    }
}
