using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace BanActors.Tests.Shared;

/// <summary>
/// A throwaway PostgreSQL server for tests: <c>initdb</c> into a temporary folder, <c>pg_ctl start</c> on 127.0.0.1
/// and a free port, one database per caller, everything removed at the end. Shared by the test classes of the
/// <see cref="PostgresCollection"/>.
/// </summary>
/// <remarks>
/// initdb refuses to run as root, and tests run as root on CI machines: then the server runs as the system user
/// <see cref="OsUser"/> (created with <c>useradd</c> when missing) through <c>runuser</c>, in a folder it owns.
/// Without the binaries the server is unavailable: tests then skip with the reason, except under CI=true, where
/// they fail, so a broken CI machine cannot pass by skipping.
/// </remarks>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string OsUser = "banactors-pg";

    private readonly object _gate = new();
    private string? _root;
    private string? _dataDir;
    private string? _binDir;
    private bool _runAsOtherUser;

    /// <summary>Null when the server runs; otherwise why it could not start.</summary>
    public string? UnavailableReason { get; private set; }

    public int Port { get; private set; }

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the calling test (or fails it under CI=true) when the server is not running.</summary>
    public void RequireOrSkip()
    {
        if (UnavailableReason is null) return;
        if (IsCi) throw new InvalidOperationException($"CI=true and PostgreSQL is unavailable: {UnavailableReason}");
        Skip.If(true, $"PostgreSQL is unavailable: {UnavailableReason}");
    }

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        Pooling = true,
        MaxPoolSize = 30,
    }.ConnectionString;

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string name)
    {
        RequireOrSkip();
        var database = new string(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        if (database.Length > 50) database = database[..50];
        database += "_" + Guid.NewGuid().ToString("N")[..8];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"CREATE DATABASE \"{database}\"";
        await command.ExecuteNonQueryAsync();
        return ConnectionString(database);
    }

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch (Exception ex)
        {
            UnavailableReason = ex.Message;
            Cleanup();
        }
    }

    public Task DisposeAsync()
    {
        Stop();
        return Task.CompletedTask;
    }

    private void Stop()
    {
        lock (_gate)
        {
            if (_dataDir is not null && _root is not null && UnavailableReason is null)
                Run(PgCtl, $"stop -D \"{_dataDir}\" -m immediate -w -t 30", asServerUser: true, throwOnError: false);
            Cleanup();
        }
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
        _root = Path.Combine(parent, "banactors-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);
        if (_runAsOtherUser) Exec("chown", $"{OsUser} \"{_root}\"");
        _dataDir = Path.Combine(_root, "data");

        Run(Path.Combine(_binDir, "initdb"),
            $"-D \"{_dataDir}\" -U postgres --auth=trust --encoding=UTF8 --locale=C --no-sync", asServerUser: true);

        // A free port can be taken between the probe and the start; try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var options = $"-c listen_addresses=127.0.0.1 -p {Port} -k '{_root}' -c fsync=off -c synchronous_commit=off " +
                          "-c full_page_writes=off -c max_connections=300";
            var (code, output) = Run(PgCtl, $"start -D \"{_dataDir}\" -l \"{Path.Combine(_root, "server.log")}\" -w -t 60 -o \"{options}\"",
                asServerUser: true, throwOnError: false);
            if (code == 0) break;
            if (attempt == 3) throw new InvalidOperationException($"pg_ctl start failed: {output} {ReadLog()}");
        }

        // Also when the test host exits without disposing the fixture (an aborted run), so no server is left behind.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
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
        // Another test process may have created it at the same moment.
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

/// <summary>Test classes that need PostgreSQL join this collection and share one server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
