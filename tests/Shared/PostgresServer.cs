using BanActors.Testing;

namespace BanActors.Tests.Shared;

/// <summary>
/// A throwaway PostgreSQL server for tests (<see cref="ThrowawayPostgres"/>): one database per caller, everything
/// removed at the end. Shared by the test classes of the <see cref="PostgresCollection"/>.
/// </summary>
/// <remarks>
/// Without the binaries the server is unavailable: tests then skip with the reason, except under CI=true, where
/// they fail, so a broken CI machine cannot pass by skipping.
/// </remarks>
public sealed class PostgresServer : IAsyncLifetime
{
    public const string OsUser = ThrowawayPostgres.OsUser;

    private ThrowawayPostgres? _server;

    /// <summary>Null when the server runs; otherwise why it could not start.</summary>
    public string? UnavailableReason { get; private set; }

    public int Port => _server?.Port ?? 0;

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Skips the calling test (or fails it under CI=true) when the server is not running.</summary>
    public void RequireOrSkip()
    {
        if (UnavailableReason is null) return;
        if (IsCi) throw new InvalidOperationException($"CI=true and PostgreSQL is unavailable: {UnavailableReason}");
        Skip.If(true, $"PostgreSQL is unavailable: {UnavailableReason}");
    }

    public string ConnectionString(string database)
    {
        RequireOrSkip();
        return _server!.ConnectionString(database);
    }

    /// <summary>Creates an empty database and returns its connection string.</summary>
    public Task<string> CreateDatabaseAsync(string name)
    {
        RequireOrSkip();
        return _server!.CreateDatabaseAsync(name);
    }

    /// <summary>Creates an empty database and returns it as the engine's storage.</summary>
    public async Task<StorageOptions> CreateStorageAsync(string name) =>
        new() { Provider = StorageProvider.PostgreSql, ConnectionString = await CreateDatabaseAsync(name) };

    public async Task InitializeAsync()
    {
        var (server, reason) = await ThrowawayPostgres.TryStartAsync("banactors-pg-");
        _server = server;
        UnavailableReason = reason;
    }

    public Task DisposeAsync()
    {
        _server?.Stop();
        return Task.CompletedTask;
    }
}

/// <summary>Test classes that need PostgreSQL join this collection and share one server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
