using Akka.Configuration;
using Akka.Event;
using BanActors.Cluster;
using BanActors.Storage;

namespace BanActors.Tests.Cluster;

/// <summary>
/// Answering "this id has no events" from one node's memory is sound only when that node is the journal's only
/// writer: on by default, off in a cluster (by cluster.conf, and by the actor provider whatever the HOCON says).
/// </summary>
public sealed class KnownIdsClusterSpecs
{
    private const string Journal = "akka.persistence.journal.sql";
    private const string Snapshots = "akka.persistence.snapshot-store.sql";

    [Fact]
    public void One_node_answers_new_ids_from_memory_a_cluster_does_not()
    {
        var single = BanEngineConfig.For(new StorageOptions());
        var cluster = ClusterTopology.Config(new BanClusterOptions()).WithFallback(single);

        Assert.True(single.GetConfig(Journal).GetBoolean(KnownIds.ConfigKey));
        Assert.True(single.GetConfig(Snapshots).GetBoolean(KnownIds.ConfigKey));
        Assert.False(cluster.GetConfig(Journal).GetBoolean(KnownIds.ConfigKey));
        Assert.False(cluster.GetConfig(Snapshots).GetBoolean(KnownIds.ConfigKey));
    }

    [Fact]
    public void With_the_cluster_provider_the_ids_are_not_kept_even_if_the_hocon_asks_for_them()
    {
        var plugin = ConfigurationFactory.ParseString($"{KnownIds.ConfigKey} = on");
        var clusterSystem = ConfigurationFactory.ParseString("akka.actor.provider = cluster");
        var localSystem = ConfigurationFactory.ParseString("akka.actor.provider = local");
        using var stopping = new CancellationTokenSource();
        stopping.Cancel();

        Assert.Null(KnownIds.Start(plugin, clusterSystem, "SQLite.MS", "Data Source=:memory:", null, "event_journal",
            "persistence_id", NoLogger.Instance, stopping.Token));
        Assert.NotNull(KnownIds.Start(plugin, localSystem, "SQLite.MS", "Data Source=:memory:", null, "event_journal",
            "persistence_id", NoLogger.Instance, stopping.Token));
    }
}
