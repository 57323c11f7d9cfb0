using Akka.Cluster.Sharding;
using BanActors.Bans;

namespace BanActors.Cluster;

/// <summary>
/// Routes <see cref="IWithUserKey"/> messages to the "bans" shard region: one entity per (app, user), spread over
/// a fixed number of shards. Changing the shard count moves users between shards, so keep it for the cluster's life.
/// </summary>
internal sealed class UserMessageExtractor(int maxNumberOfShards = UserMessageExtractor.DefaultShards)
    : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <summary>About ten shards per node at the largest planned cluster, as Akka.Cluster.Sharding advises.</summary>
    public const int DefaultShards = 100;

    public override string? EntityId(object message) => message switch
    {
        IWithUserKey m => m.User.EntityId,
        _ => null,
    };
}
