using BanActors.Bans;
using BanActors.Messaging;
using BanActors.Tests.Shared;

namespace BanActors.Server.Tests.Gateway;

/// <summary>
/// One throwaway PostgreSQL server for this test process, started on first use (see <see cref="PostgresServer"/>):
/// tests skip with the reason when it cannot run, except under CI=true, where they fail.
/// </summary>
public static class SharedPostgres
{
    private static readonly Lazy<Task<PostgresServer>> Server = new(async () =>
    {
        var server = new PostgresServer();
        await server.InitializeAsync();
        return server;
    });

    /// <summary>A connection string to a new, empty database.</summary>
    public static async Task<string> CreateDatabaseAsync(string name) =>
        await (await Server.Value).CreateDatabaseAsync(name);
}

/// <summary>The offline store's contract, the same for SQLite and PostgreSQL.</summary>
public sealed class OfflineMessageStoreSpecs : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
    private readonly TempDatabase _database = new();
    // A fresh app per run keeps runs apart on a shared PostgreSQL database.
    private readonly string _app = "store" + Guid.NewGuid().ToString("N")[..12];

    [Fact]
    public Task Sqlite_keeps_loads_in_send_order_deletes_and_purges() =>
        Contract(new SqliteOfflineMessageStore($"Data Source={_database.Path}"));

    [SkippableFact]
    public async Task PostgreSql_keeps_loads_in_send_order_deletes_and_purges()
    {
        var store = new PostgreSqlOfflineMessageStore(await SharedPostgres.CreateDatabaseAsync("offline_store"));
        await using (store) await Contract(store);
    }

    private async Task Contract(IOfflineMessageStore store)
    {
        await store.InitializeAsync();
        await store.InitializeAsync();
        var u1 = new UserKey(_app, "u1");
        var u2 = new UserKey(_app, "u2");
        UserMessage Message(UserKey to, string text, DateTimeOffset at) =>
            new(MessageIds.New(at), to, "sender", "RC:TxtMsg", $$"""{"content":"{{text}}"}""", text == "a" ? "push" : null, null, at);

        await store.AddAsync([Message(u1, "a", T0), Message(u2, "x", T0), Message(u1, "b", T0)]);
        await store.AddAsync([Message(u1, "c", T0.AddMinutes(1))]);
        // Kept again after its session closed: slots in by its original send time.
        await store.AddAsync([Message(u1, "early", T0.AddSeconds(-1))]);

        var all = await store.LoadAsync(u1, T0.AddDays(-7), null, 100);
        Assert.Equal(["early", "a", "b", "c"], all.Select(k => Text(k.Message)));
        Assert.Equal("push", all[1].Message.PushContent);
        Assert.Null(all[2].Message.PushContent);
        Assert.Equal(T0, all[1].Message.SentTime);

        var page1 = await store.LoadAsync(u1, T0.AddDays(-7), null, 2);
        var page2 = await store.LoadAsync(u1, T0.AddDays(-7), page1[^1], 2);
        Assert.Equal(["early", "a", "b", "c"], page1.Concat(page2).Select(k => Text(k.Message)));

        var notBeforeT0 = await store.LoadAsync(u1, T0, null, 100);
        Assert.Equal(["a", "b", "c"], notBeforeT0.Select(k => Text(k.Message)));

        await store.DeleteAsync([all[0].Id, all[1].Id]);
        Assert.Equal(2, await store.CountAsync(u1));
        Assert.Equal(1, await store.CountAsync(u2));

        // At least: a shared PostgreSQL database may hold older rows of earlier runs.
        Assert.True(await store.PurgeAsync(T0.AddSeconds(30)) >= 2);
        Assert.Equal(["c"], (await store.LoadAsync(u1, T0.AddDays(-7), null, 100)).Select(k => Text(k.Message)));
        Assert.Equal(0, await store.CountAsync(u2));
    }

    private static string Text(UserMessage message) =>
        System.Text.Json.JsonDocument.Parse(message.Content).RootElement.GetProperty("content").GetString()!;

    public void Dispose() => _database.Dispose();
}
