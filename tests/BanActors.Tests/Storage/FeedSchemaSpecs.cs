using BanActors.Storage;
using BanActors.Tests.Shared;

namespace BanActors.Tests.Storage;

/// <summary>
/// The ledger's and the feed's tables are created by whichever component starts first (the projection, the feed, the
/// facade's reads), often at the same moment and, in a cluster, from several nodes on one PostgreSQL database.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class FeedSchemaSpecs(PostgresServer postgres)
{
    [SkippableFact]
    public async Task Components_creating_the_tables_at_the_same_moment_all_succeed()
    {
        postgres.RequireOrSkip();
        for (var round = 0; round < 5; round++)
        {
            var storage = await postgres.CreateStorageAsync("feed_schema");
            // One store per component, as on separate nodes: nothing in process serializes them.
            var stores = Enumerable.Range(0, 8).Select(_ => new FeedStore(new LedgerStore(storage))).ToList();
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync(CancellationToken.None))));

            Assert.Equal(0, await stores[0].Ledger.HighestOffsetAsync(CancellationToken.None));
            Assert.Equal((0, 0), await stores[0].GetOffsetAsync("anyone", CancellationToken.None));
        }
    }
}
