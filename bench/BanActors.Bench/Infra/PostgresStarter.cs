using System.Diagnostics;
using Npgsql;

namespace BanActors.Bench.Infra;

/// <summary>
/// A throwaway PostgreSQL for the cluster scenario, as the tests start theirs (<c>tests/Shared/PostgresServer.cs</c>,
/// which depends on xunit): <c>initdb</c> into a temporary folder, <c>pg_ctl start</c> on 127.0.0.1 and a free port,
/// stopped (<c>-m immediate</c>) and deleted on dispose. As root, initdb refuses to run: the server then runs as the
/// system user <see cref="OsUser"/> (created with <c>useradd</c> when missing) through <c>runuser</c>.
/// Settings as in the tests: fsync, synchronous_commit and full_page_writes off (a benchmark of the engine and the
/// cluster, not of this disk's fsync).
/// </summary>
public sealed class PostgresStarter : IAsyncDisposable
{
    public const string OsUser = "banactors-pg";

    private string? _root;
    private string? _dataDir;
    private string? _binDir;
    private bool _runAsOtherUser;
    private bool _running;

    private PostgresStarter() { }

    public int Port { get; private set; }

    /// <summary>Extra server settings (for the report).</summary>
    public const string Settings = "fsync=off, synchronous_commit=off, full_page_writes=off, max_connections=300";

    /// <summary>Starts a server, or returns why it could not.</summary>
    public static async Task<(PostgresStarter? Server, string? Reason)> TryStartAsync()
    {
        var server = new PostgresStarter();
        try
        {
            await server.StartAsync().ConfigureAwait(false);
            return (server, null);
        }
        catch (Exception ex)
        {
            await server.DisposeAsync().ConfigureAwait(false);
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

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name, int maxPool = 30)
    {
        var database = name + "_" + Guid.NewGuid().ToString("N")[..8];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE \"{database}\"";
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
        return ConnectionString(database, maxPool);
    }

    private string PgCtl => Path.Combine(_binDir!, "pg_ctl");

    private async Task StartAsync()
    {
        _binDir = FindBinDir() ?? throw new InvalidOperationException(
            "initdb and pg_ctl (PostgreSQL 15+ server binaries) were not found on PATH or under /usr/lib/postgresql");
        _runAsOtherUser = OperatingSystem.IsLinux() && Environment.UserName == "root";
        if (_runAsOtherUser) EnsureOsUser();

        var parent = _runAsOtherUser ? "/tmp" : Path.GetTempPath();
        _root = Path.Combine(parent, "banactors-bench-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);
        if (_runAsOtherUser) Exec("chown", $"{OsUser} \"{_root}\"");
        _dataDir = Path.Combine(_root, "data");

        Run(Path.Combine(_binDir, "initdb"),
            $"-D \"{_dataDir}\" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync", asServerUser: true);

        for (var attempt = 1; ; attempt++)
        {
            Port = Scenarios.RedisPeer.FreePort();
            var options = $"-c listen_addresses=127.0.0.1 -p {Port} -k '{_root}' -c fsync=off -c synchronous_commit=off " +
                          "-c full_page_writes=off -c max_connections=300";
            var (code, output) = Run(PgCtl, $"start -D \"{_dataDir}\" -l \"{Path.Combine(_root, "server.log")}\" -w -t 60 -o \"{options}\"",
                asServerUser: true, throwOnError: false);
            if (code == 0) break;
            if (attempt == 3) throw new InvalidOperationException($"pg_ctl start failed: {output} {ReadLog()}");
        }
        _running = true;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync().ConfigureAwait(false);
    }

    private readonly object _gate = new();

    private void Stop()
    {
        lock (_gate)
        {
            if (_running && _dataDir is not null)
                Run(PgCtl, $"stop -D \"{_dataDir}\" -m immediate -w -t 30", asServerUser: true, throwOnError: false);
            _running = false;
            if (_root is null) return;
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            _root = null;
        }
    }

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        Stop();
        return ValueTask.CompletedTask;
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
}
