namespace BanActors;

/// <summary>Identifies one user of one app; every ban, session and list is scoped by it.</summary>
public sealed record UserKey(string AppKey, string UserId)
{
    /// <summary>The persistence id of this user's ban actor: <c>ban-{appKey}-{userId}</c>.</summary>
    internal const string PersistenceIdPrefix = "ban-";

    internal string PersistenceId => $"{PersistenceIdPrefix}{AppKey}-{UserId}";

    /// <summary>
    /// The user actor's name (single node) and entity id (cluster): app key and user id escaped and joined by ':', so
    /// any user id (':' and '/' included) gives a valid, unique, reversible actor name ('-' never appears in an app key).
    /// </summary>
    internal string EntityId => Uri.EscapeDataString(AppKey) + ":" + Uri.EscapeDataString(UserId);

    /// <summary>The user of an <see cref="EntityId"/>.</summary>
    internal static UserKey FromEntityId(string entityId)
    {
        var colon = entityId.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0) throw new ArgumentException($"'{entityId}' is not a ban entity id", nameof(entityId));
        return new UserKey(Uri.UnescapeDataString(entityId[..colon]), Uri.UnescapeDataString(entityId[(colon + 1)..]));
    }

    /// <summary><c>appKey/userId</c>.</summary>
    public override string ToString() => $"{AppKey}/{UserId}";
}
