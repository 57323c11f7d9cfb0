namespace BanActors.Bans;

/// <summary>Identifies one user of one app; every ban, session and list is scoped by it.</summary>
public sealed record UserKey(string AppKey, string UserId)
{
    /// <summary>The persistence id of this user's ban actor: <c>ban-{appKey}-{userId}</c>.</summary>
    public string PersistenceId => $"ban-{AppKey}-{UserId}";

    public override string ToString() => $"{AppKey}/{UserId}";
}

/// <summary>A message addressed to one user's ban actor, so a router or shard region can route it.</summary>
public interface IWithUserKey
{
    UserKey User { get; }
}
