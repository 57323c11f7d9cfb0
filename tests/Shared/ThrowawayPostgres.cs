using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace BanActors.Testing;

/// <summary>
/// A throwaway PostgreSQL server: <c>initdb</c> into a temporary folder, <c>pg_ctl start</c> on 127.0.0.1 and a free
/// port, one database per caller, stopped (<c>-m immediate</c>) and deleted at the end. Free of xunit, so that the
/// tests (<c>tests/Shared/PostgresServer.cs</c>, the xunit fixture) and the bench (which links this one file) share it.
/// </summary>
/// <remarks>
/// initdb refuses to run as root, and tests run as root on CI machines: then the server runs as the system user
/// <see cref="OsUser"/> (created with <c>useradd</c> when missing) through <c>runuser</c>, in a folder it owns.
/// Settings (<see cref="Settings"/>): fsync, synchronous_commit and full_page_writes off — tests and benchmarks of
/// the engine and the cluster, not of this disk's fsync — and max_connections=300.
/// </remarks>
public sealed class ThrowawayPostgres : IAsyncDisposable
{
    public const string OsUser = "banactors-pg";

    /// <summary>Extra server settings (for reports).</summary>
    public const string Settings = "fsync=off, synchronous_commit=off, full_page_writes=off, max_connections=300";

    private readonly object _gate = new();
    private readonly string _folderPrefix;
    private string? _root;
    private string? _dataDir;
    private string? _binDir;
    private bool _runAsOtherUser;
    private bool _running;

    private ThrowawayPostgres(string folderPrefix) => _folderPrefix = folderPrefix;

    public int Port { get; private set; }

    /// <summary>
    /// Starts a server, or returns why it could not (nothing is left running or on disk then).
    /// </summary>
    /// <param name="folderPrefix">The name of the temporary folder starts with this.</param>
    public static async Task<(ThrowawayPostgres? Server, string? Reason)> TryStartAsync(string folderPrefix = "banactors-pg-")
    {
        var server = new ThrowawayPostgres(folderPrefix);
        try
        {
            await server.StartAsync().ConfigureAwait(false);
            return (server, null);
        }
        catch (Exception ex)
        {
            server.Stop();
            return (null, ex.Message);
        }
    }

    public string ConnectionString(string database, int maxPool = 30) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        Pooling = true,
        MaxPoolSize = maxPool,
    }.ConnectionString;

    /// <summary>
    /// Creates an empty database named after <paramref name="name"/> (lower-cased, letters and digits, at most 50
    /// characters, plus a random suffix) and returns its connection string.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string name, int maxPool = 30)
    {
        var database = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        if (database.Length > 50) database = database[..50];
        database += "_" + Guid.NewGuid().ToString("N")[..8];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE \"{database}\"";
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        return ConnectionString(database, maxPool);
    }

    /// <summary>Stops the server (<c>-m immediate</c>) and deletes its folder. Safe to call more than once.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (_running && _dataDir is not null)
                Run(PgCtl, $"stop -D \"{_dataDir}\" -m immediate -w -t 30", asServerUser: true, throwOnError: false);
            _running = false;
            Cleanup();
        }
    }

    /// <summary>
    /// Stops the server (<c>-m fast</c>: connections cut, committed work flushed; an immediate stop would lose
    /// acknowledged commits here, since the throwaway server runs with <c>synchronous_commit=off</c>), keeping its data,
    /// to <see cref="Resume"/> it later.
    /// </summary>
    public void Pause()
    {
        lock (_gate)
        {
            if (!_running || _dataDir is null) return;
            Run(PgCtl, $"stop -D \"{_dataDir}\" -m fast -w -t 30", asServerUser: true);
            _running = false;
        }
    }

    /// <summary>Starts a <see cref="Pause"/>d server again, on the same port and data.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            if (_running || _dataDir is null) return;
            Run(PgCtl, $"start -D \"{_dataDir}\" -l \"{Path.Combine(_root!, "server.log")}\" -w -t 60 -o \"{Options}\"", asServerUser: true);
            _running = true;
        }
    }

    private string Options => $"-c listen_addresses=127.0.0.1 -p {Port} -k '{_root}' -c fsync=off -c synchronous_commit=off " +
                              "-c full_page_writes=off -c max_connections=300";

    /// <summary>Clears Npgsql's connection pools, then <see cref="Stop"/>s.</summary>
    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        Stop();
        return ValueTask.CompletedTask;
    }

    private string PgCtl => Path.Combine(_binDir!, "pg_ctl");

    private async Task StartAsync()
    {
        _binDir = FindBinDir() ?? throw new InvalidOperationException(
            "initdb and pg_ctl (PostgreSQL 15+ server binaries) were not found on PATH or under /usr/lib/postgresql");
        _runAsOtherUser = OperatingSystem.IsLinux() && Environment.UserName == "root";
        if (_runAsOtherUser) EnsureOsUser();

        // The server user must be able to reach the folder: /tmp is, a root-only TMPDIR may not be.
        var parent = _runAsOtherUser ? "/tmp" : Path.GetTempPath();
        _root = Path.Combine(parent, _folderPrefix + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);
        if (_runAsOtherUser) Exec("chown", $"{OsUser} \"{_root}\"");
        _dataDir = Path.Combine(_root, "data");

        Run(Path.Combine(_binDir, "initdb"),
            $"-D \"{_dataDir}\" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync", asServerUser: true);

        // A free port can be taken between the probe and the start; try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var (code, output) = Run(PgCtl, $"start -D \"{_dataDir}\" -l \"{Path.Combine(_root, "server.log")}\" -w -t 60 -o \"{Options}\"",
                asServerUser: true, throwOnError: false);
            if (code == 0) break;
            if (attempt == 3) throw new InvalidOperationException($"pg_ctl start failed: {output} {ReadLog()}");
        }
        _running = true;

        // Also when the process exits without disposing (an aborted run), so no server is left behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        StartReaper();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync().ConfigureAwait(false);
    }

    // The test host is killed, not exited, once a run has reported: exit handlers may not get to delete the folder
    // (each run left 43 MB in /tmp). A detached shell waits for this process to go, then stops the server (if it is
    // still up) and removes the folder. Its stdio is /dev/null, so it never holds the test run's output open.
    private void StartReaper()
    {
        if (!OperatingSystem.IsLinux() || _root is null || _dataDir is null) return;
        var stop = _runAsOtherUser
            ? $"runuser -u {OsUser} -- '{PgCtl}' stop -D '{_dataDir}' -m immediate"
            : $"'{PgCtl}' stop -D '{_dataDir}' -m immediate";
        var script = "exec </dev/null >/dev/null 2>&1; " +
                     $"while kill -0 {Environment.ProcessId}; do sleep 1; done; " +
                     $"[ -f '{_dataDir}/postmaster.pid' ] && {stop}; rm -rf '{_root}'";
        var info = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        foreach (var argument in new[] { "sh", "-c", script }) info.ArgumentList.Add(argument);
        try
        {
            using var reaper = Process.Start(info);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No setsid: the exit handler above is all there is.
        }
    }

    private string ReadLog()
    {
        try { return File.ReadAllText(Path.Combine(_root!, "server.log")); }
        catch (IOException) { return ""; }
    }

    private static string? FindBinDir()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(Directory.Exists("/usr/lib/postgresql")
                ? Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin"))
                : []);
        return candidates.FirstOrDefault(dir => File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")));
    }

    private static void EnsureOsUser()
    {
        if (Exec("id", $"-u {OsUser}", throwOnError: false).Code == 0) return;
        var (code, output) = Exec("useradd", $"--system --no-create-home --shell /usr/sbin/nologin {OsUser}", throwOnError: false);
        // Another process may have created it at the same moment.
        if (code != 0 && Exec("id", $"-u {OsUser}", throwOnError: false).Code != 0)
            throw new InvalidOperationException($"could not create the system user {OsUser} for PostgreSQL: {output}");
    }

    private (int Code, string Output) Run(string file, string arguments, bool asServerUser = false, bool throwOnError = true)
    {
        if (asServerUser && _runAsOtherUser)
        {
            arguments = $"-u {OsUser} -- \"{file}\" {arguments}";
            file = "runuser";
        }
        return Exec(file, arguments, throwOnError);
    }

    private static (int Code, string Output) Exec(string file, string arguments, bool throwOnError = true)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {arguments} did not finish within 2 minutes");
        }
        var output = (stdout.Result + stderr.Result).Trim();
        if (throwOnError && process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {output}");
        return (process.ExitCode, output);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Cleanup()
    {
        if (_root is null) return;
        try { Directory.Delete(_root, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        _root = null;
    }
}
