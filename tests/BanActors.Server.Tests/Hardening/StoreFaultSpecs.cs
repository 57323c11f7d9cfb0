using Akka.Actor;
using Akka.TestKit;
using System.Diagnostics;
using System.Net;
using BanActors.Server.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace BanActors.Server.Tests.Hardening;

/// <summary>
/// Faults of the store itself (issue 14, item 2), each on a real store: PostgreSQL stopped under load and started
/// again, the SQLite file's file system full, the file made read-only, and the file locked by another process for
/// longer than the journal's timeouts (PostgreSQL stopped under a cluster: ClusterStoreFaultSpecs). During the fault: 1000 (HTTP 500), never a false 200; after it:
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

    /// <summary>
    /// Akka's scheduler as a <see cref="TestScheduler"/>: the journal's circuit breaker schedules its next attempt on it
    /// (its reset-timeout), so the spec moves it instead of waiting. The engine's own timers run on
    /// the server's test clock; the journal's call timeout and the facade's ask timeout are not the scheduler's.
    /// </summary>
    private const string SchedulerHocon = "akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"";

    [SkippableFact]
    public async Task PostgreSQL_stopped_under_load_gives_1000_then_the_server_recovers_by_itself_with_every_acknowledged_ban()
    {
        var (postgres, reason) = await ThrowawayPostgres.TryStartAsync("banactors-pgfault-");
        Need(postgres is not null, "PostgreSQL is unavailable", reason);
        await using var _ = postgres!;
        var connection = await postgres!.CreateDatabaseAsync("faults");
        await using var server = await ServerHost.StartAsync([TestApps.A], new Dictionary<string, string?>(Impatient)
        {
            ["BanActors:Storage:Provider"] = "PostgreSql",
            ["BanActors:Storage:ConnectionString"] = connection,
        }, SchedulerHocon);

        await RunFaultAsync(server, postgres.Pause, postgres.Resume);
    }

    [SkippableFact]
    public async Task A_full_file_system_gives_1000_then_the_server_recovers_by_itself_with_every_acknowledged_ban()
    {
        using var disk = Tmpfs.TryMount(megabytes: 24, out var reason);
        Need(disk is not null, "a size-capped file system is needed (root, mount -t tmpfs)", reason);
        await using var server = await ServerHost.StartAsync([TestApps.A], Impatient, SchedulerHocon, databaseFolder: disk!.Path);

        await RunFaultAsync(server, disk.Fill, disk.Free);
    }

    /// <summary>
    /// Another process holds the SQLite file's write lock (<c>BEGIN EXCLUSIVE</c>, from python3's sqlite3 module) for
    /// longer than the journal's timeouts: the 2 s ask, and SQLite's busy timeout (Microsoft.Data.Sqlite's
    /// <c>Default Timeout</c>, 30 s by default, 2 s here so that the lock outlasts it quickly). In WAL mode EXCLUSIVE is
    /// the WAL's write lock: readers go on, every writer gets SQLITE_BUSY; the spec checks that the journal's own
    /// writes failed with "database is locked" before it lets go, so the lock did block them.
    /// </summary>
    [SkippableFact]
    public async Task The_database_locked_by_another_process_gives_1000_then_the_server_recovers_by_itself_with_every_acknowledged_ban()
    {
        var reason = SqliteLocker.Unavailable();
        Need(reason is null, "python3 with its sqlite3 module is needed to lock the database", reason);
        var folder = Path.Combine(Path.GetTempPath(), "banactors-server-tests", "locked-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        try
        {
            await using (var server = await ServerHost.StartAsync([TestApps.A], new Dictionary<string, string?>(Impatient)
                         {
                             ["BanActors:Storage:ConnectionString"] = $"Data Source={Path.Combine(folder, "bans.db")};Default Timeout=2",
                         }, SchedulerHocon, databaseFolder: folder))
            {
                using var locker = new SqliteLocker(server.DatabasePath);

                await RunFaultAsync(server, () => locker.LockAsync(), () =>
                {
                    locker.Release();
                    return Task.CompletedTask;
                }, outlast: async () =>
                {
                    // Longer than the journal's timeouts: the journal's own write failed because of the lock, and the
                    // lock is kept until no write holds or waits for the write gate's permit, so that no write still
                    // waiting for it can succeed late. SQLite's busy timeout runs in its native code on the wall clock,
                    // so these are bounded polls of what the engine reports, not a sleep of a chosen length.
                    var system = server.App.Services.GetRequiredService<ActorSystem>();
                    var monitor = BanActors.Storage.JournalWriteMonitor.Get(system);
                    var failing = await PollAsync(() => Task.FromResult(monitor.Failing),
                        f => f?.Contains("locked", StringComparison.OrdinalIgnoreCase) == true);
                    Assert.True(failing?.Contains("locked", StringComparison.OrdinalIgnoreCase) == true,
                        $"a journal write should have failed with 'database is locked', not: {failing ?? "(no failure)"}");
                    var gate = await system.ActorSelection("/user/ban-write-gate").ResolveOne(TimeSpan.FromSeconds(5));
                    var idle = new BanActors.Bans.WriteGateState(0, 0);
                    Assert.Equal(idle, await PollAsync(
                        () => gate.Ask<BanActors.Bans.WriteGateState>(BanActors.Bans.GetWriteGateState.Instance, TimeSpan.FromSeconds(5)),
                        state => state == idle));
                });
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>
    /// The database file and its WAL made read-only. Tests run as root, so <c>chmod</c> does not stop a write, and a
    /// read-only remount fails (EBUSY) while the server has the file open. <c>chattr +i</c> does, on ext4: the kernel
    /// then refuses write() even on an already open descriptor (EPERM), and any open for writing. On tmpfs it does not
    /// (writes on an open descriptor go through; checked on Linux 6.18), so the data folder is a small ext4 image on a
    /// loop device. <c>chattr -i</c> ends the fault.
    /// </summary>
    [SkippableFact]
    public async Task The_database_file_made_read_only_gives_1000_then_the_server_recovers_by_itself_with_every_acknowledged_ban()
    {
        using var disk = Ext4Image.TryMount(megabytes: 32, out var reason);
        Need(disk is not null, "an ext4 file system that supports chattr +i is needed (root, mkfs.ext4, mount -o loop)", reason);
        await using var server = await ServerHost.StartAsync([TestApps.A], Impatient, SchedulerHocon, databaseFolder: disk!.Path);
        string[] files = [server.DatabasePath, server.DatabasePath + "-wal"];
        Assert.True(File.Exists(files[1]), "the journal runs in WAL mode, so its -wal file exists");

        await RunFaultAsync(server, () => disk.MakeImmutable(files), () => disk.MakeMutable(files));
    }

    /// <summary>Skips visibly without what the fault needs; under CI=true, where the machine must have it, fails instead.</summary>
    private static void Need(bool available, string what, string? reason)
    {
        if (!available && BanActors.Tests.Shared.PostgresServer.IsCi) throw new InvalidOperationException($"CI=true and {what}: {reason}");
        Skip.If(!available, $"{what}: {reason}");
    }

    /// <summary>Calls until <paramref name="done"/> holds, for at most 30 s; the last answer (the caller asserts on it).</summary>
    private static async Task<T> PollAsync<T>(Func<Task<T>> call, Func<T, bool> done)
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

    /// <summary>
    /// Reads until <paramref name="done"/> holds, woken each time the ledger's projection has written a batch
    /// (<see cref="BanActors.Feed.LedgerSignal"/>) rather than on a timer of its own; at most 30 s. The last answer.
    /// </summary>
    private static async Task<T> UntilTheLedgerShowsAsync<T>(ActorSystem system, Func<Task<T>> read, Func<T, bool> done)
    {
        var signal = BanActors.Feed.LedgerSignal.For(system);
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            // Taken before the read, so that a batch written during it is not missed.
            var written = signal.Next;
            var last = await read();
            if (done(last) || bound.IsCancellationRequested) return last;
            try
            {
                await written.WaitAsync(bound.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static Task RunFaultAsync(ServerHost server, Action fault, Action lift) =>
        RunFaultAsync(server, () => { fault(); return Task.CompletedTask; }, () => { lift(); return Task.CompletedTask; });

    /// <summary>Bans before, a fault under concurrent load, time moving past a ban's end, the fault lifted, and the checks.</summary>
    /// <param name="outlast">Awaited while the fault holds, after the checks during it: to make it last long enough.</param>
    private static async Task RunFaultAsync(ServerHost server, Func<Task> fault, Func<Task> lift, Func<Task>? outlast = null)
    {
        var a = server.Client(TestApps.A);
        var user = (string id) => new UserKey(TestApps.A.AppKey, id);
        Assert.Equal("{\"code\":200}", (await a.PostAsync("/user/block.json", ("userId", "kept"), ("minute", "43200"))).Body);
        Assert.Equal("{\"code\":200}", (await a.PostAsync("/user/block.json", ("userId", "short"), ("minute", "1"))).Body);
        var shortEnd = (await server.Engine.GetStatusAsync(user("short"))).Until!.Value;

        await fault();
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

            if (outlast is not null) await outlast();

            // The short ban falls due while the store is away.
            server.Clock.Advance(TimeSpan.FromMinutes(2));
        }
        finally
        {
            await lift();
        }

        // The journal's circuit breaker lets a call through every 5 s: recovery without a restart. Each attempt moves
        // Akka's scheduler past the breaker's reset timeout instead of waiting for it; what is still polled (bounded)
        // is the store itself coming back, in real time.
        var system = server.App.Services.GetRequiredService<ActorSystem>();
        var scheduler = (TestScheduler)system.Scheduler;
        var resetTimeout = system.Settings.Config.GetTimeSpan("akka.persistence.journal.sql.circuit-breaker.reset-timeout");
        var after = await PollAsync(() =>
        {
            scheduler.Advance(resetTimeout);
            return a.PostAsync("/user/block.json", ("userId", "after"), ("minute", "10"));
        }, r => r.Status != HttpStatusCode.InternalServerError);
        Assert.True(after.Body == "{\"code\":200}", after + "\n" + string.Join("\n", server.Logs.Lines
            .Where(l => l.StartsWith("Warning", StringComparison.Ordinal) || l.StartsWith("Error", StringComparison.Ordinal)).TakeLast(12)));
        var kept = await server.Engine.GetStatusAsync(user("kept"));
        Assert.True(kept.IsBanned, $"kept: {kept}; {(await a.PostAsync("/user/block/history.json", ("userId", "kept"))).Body}");
        Assert.False((await server.Engine.GetStatusAsync(user("short"))).IsBanned);

        // The expiry that fell due during the fault is recorded right after it, at the ban's end time.
        var history = await UntilTheLedgerShowsAsync(system,
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
        var (code, output) = Shell.Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", path);
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
        Shell.Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// Another OS process (python3's sqlite3 module) that holds a SQLite file's write lock, <c>BEGIN EXCLUSIVE</c>, from
/// <see cref="LockAsync"/> until <see cref="Release"/> closes its stdin. Killed in <see cref="Dispose"/> if still running.
/// </summary>
internal sealed class SqliteLocker(string databasePath) : IDisposable
{
    private const string Script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1], timeout=10, isolation_level=None)
        db.execute("BEGIN EXCLUSIVE")
        print("locked", flush=True)
        sys.stdin.read()
        db.execute("ROLLBACK")
        db.close()
        print("released", flush=True)
        """;

    private Process? _process;

    /// <summary>Why no locker can run here (no python3, or one without sqlite3), or null.</summary>
    public static string? Unavailable()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("python3", "-c \"import sqlite3\"")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var error = probe.StandardError.ReadToEnd();
            if (!probe.WaitForExit(TimeSpan.FromSeconds(20))) return "python3 did not answer";
            return probe.ExitCode == 0 ? null : error.Trim();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Starts the process and returns once it holds the lock.</summary>
    public async Task LockAsync()
    {
        var info = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Script);
        info.ArgumentList.Add(databasePath);
        _process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        if (line != "locked")
            throw new InvalidOperationException($"the locker did not take the lock: {line} {await _process.StandardError.ReadToEndAsync(timeout.Token)}");
    }

    /// <summary>Closes the process's stdin: it rolls back, and is gone when this returns.</summary>
    public void Release()
    {
        if (_process is null || _process.HasExited) return;
        _process.StandardInput.Close();
        if (!_process.WaitForExit(TimeSpan.FromSeconds(15)))
            throw new InvalidOperationException("the locker did not let go of the lock");
    }

    public void Dispose()
    {
        if (_process is null) return;
        try
        {
            if (!_process.HasExited) _process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }
}

/// <summary>
/// A small ext4 file system in an image file on a loop device (needs root), whose files a test can make immutable
/// (<c>chattr +i</c>) and writable again.
/// </summary>
internal sealed class Ext4Image : IDisposable
{
    private readonly string _image;

    private Ext4Image(string path, string image)
    {
        Path = path;
        _image = image;
    }

    public string Path { get; }

    public static Ext4Image? TryMount(int megabytes, out string? reason)
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        var path = System.IO.Path.Combine("/tmp", "banactors-ext4-" + id);
        var image = path + ".img";
        try
        {
            using (var file = new FileStream(image, FileMode.CreateNew)) file.SetLength(megabytes * 1024L * 1024);
            Directory.CreateDirectory(path);
            var (code, output) = Shell.Run("mkfs.ext4", "-q", "-F", image);
            if (code == 0) (code, output) = Shell.Run("mount", "-o", "loop", image, path);
            if (code == 0)
            {
                reason = null;
                return new Ext4Image(path, image);
            }
            reason = output;
        }
        catch (IOException ex)
        {
            reason = ex.Message;
        }
        try { Directory.Delete(path); } catch (IOException) { }
        File.Delete(image);
        return null;
    }

    public Task MakeImmutable(IEnumerable<string> files) => Chattr("+i", files);

    public Task MakeMutable(IEnumerable<string> files) => Chattr("-i", files);

    private static Task Chattr(string flag, IEnumerable<string> files)
    {
        var (code, output) = Shell.Run("chattr", [flag, .. files]);
        if (code != 0) throw new InvalidOperationException($"chattr {flag} failed: {output}");
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Shell.Run("chattr", "-R", "-i", Path);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        // mount -o loop sets the loop device to detach itself when the file system goes; -l if a file is still open.
        if (Shell.Run("umount", Path).Code != 0) Shell.Run("umount", "-l", Path);
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        try { File.Delete(_image); } catch (IOException) { }
    }
}

/// <summary>Runs a system tool (mount, mkfs.ext4, chattr) and returns its exit code and output; -1 when it is missing.</summary>
internal static class Shell
{
    public static (int Code, string Output) Run(string file, params string[] arguments)
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
