using BanActors.Server.Tests.Support;
using Microsoft.Data.Sqlite;

namespace BanActors.Server.Tests.Hardening;

/// <summary>The warm-up a server runs before it listens writes nothing that anyone reads: no ban, no ledger entry.</summary>
public sealed class EngineWarmUpSpecs
{
    [Fact]
    public async Task After_the_warm_up_the_journal_holds_only_its_own_deleted_untagged_rows_and_the_ledger_nothing()
    {
        await using var server = await ServerHost.StartAsync([TestApps.A]);
        var client = server.Client(TestApps.A);
        Assert.Equal("{\"code\":200}", (await client.PostAsync("/user/block.json", ("userId", "u1"), ("minute", "10"))).Body);

        await using var journal = new SqliteConnection($"Data Source={server.DatabasePath};Mode=ReadOnly;Pooling=False");
        await journal.OpenAsync();
        await using var rows = journal.CreateCommand();
        rows.CommandText = "SELECT persistence_id, is_deleted, tags FROM event_journal ORDER BY ordering";
        var found = new List<(string Id, bool Deleted, string? Tags)>();
        await using (var reader = await rows.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                found.Add((reader.GetString(0), reader.GetBoolean(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        var warmUp = found.Where(r => r.Id == "warmup-journal").ToList();
        Assert.NotEmpty(warmUp);
        Assert.All(warmUp, r => Assert.True(r.Deleted && string.IsNullOrEmpty(r.Tags), r.ToString()));
        // The only user journal is the ban made above.
        Assert.Equal(["ban-appA-u1"], found.Where(r => r.Id != "warmup-journal").Select(r => r.Id).Distinct());

        // Once the ban above is in the ledger, it is the ledger's only entry, of any app.
        await UserEndpointSpecs.PollAsync(() => client.PostAsync("/user/block/log.json"),
            r => r.Body.Contains("\"u1\"", StringComparison.Ordinal));
        await using var ledger = new SqliteConnection(
            $"Data Source={Path.ChangeExtension(server.DatabasePath, ".ledger.db")};Mode=ReadOnly;Pooling=False");
        await ledger.OpenAsync();
        await using var count = ledger.CreateCommand();
        count.CommandText = "SELECT count(*) FROM ban_ledger";
        Assert.Equal(1L, await count.ExecuteScalarAsync());
    }
}
