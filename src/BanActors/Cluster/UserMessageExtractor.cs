using Akka.Cluster.Sharding;
using BanActors.Bans;

namespace BanActors.Cluster;

/// <summary>
/// Routes <see cref="IWithUserKey"/> messages to the "bans" shard region: one entity per (app, user), spread over
/// a fixed number of shards. Changing the shard count moves users between shards, so keep it for the cluster's life.
/// </summary>
public sealed class UserMessageExtractor(int maxNumberOfShards = UserMessageExtractor.DefaultShards)
    : HashCodeMessageExtractor(maxNumberOfShards)
{
    /// <summary>About ten shards per node at the largest planned cluster, as Akka.Cluster.Sharding advises.</summary>
    public const int DefaultShards = 100;

    public override string? EntityId(object message) => message switch
    {
        IWithUserKey m => EntityIdFor(m.User),
        _ => null,
    };

    /// <summary>
    /// The entity id of a user: app key and user id escaped and joined by ':'. Escaping keeps it reversible for
    /// any user id (':' and '/' included) and a valid actor name.
    /// </summary>
    public static string EntityIdFor(UserKey user) =>
        Uri.EscapeDataString(user.AppKey) + ":" + Uri.EscapeDataString(user.UserId);

    /// <summary>The user of an entity id made by <see cref="EntityIdFor"/>.</summary>
    public static UserKey UserFor(string entityId)
    {
        var colon = entityId.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) throw new ArgumentException($"'{entityId}' is not a ban entity id", nameof(entityId));
        return new UserKey(Uri.UnescapeDataString(entityId[..colon]), Uri.UnescapeDataString(entityId[(colon + 1)..]));
    }
}
