namespace BanActors.Cluster;

/// <summary>
/// Where this node listens and which cluster it joins. Binds from configuration (<c>BanActors:Cluster</c> in the
/// server); every node of one cluster needs the same <see cref="NumberOfShards"/>.
/// </summary>
public sealed class BanClusterOptions
{
    /// <summary>The actor system name; every node of one cluster must use the same.</summary>
    public string SystemName { get; set; } = "banactors";

    /// <summary>The address Akka.Remote binds to.</summary>
    public string Hostname { get; set; } = "127.0.0.1";

    /// <summary>The address other nodes use to reach this one, when it differs (containers, NAT).</summary>
    public string? PublicHostname { get; set; }

    /// <summary>The Akka.Remote port; 0 picks a free one (only sensible for nodes that are not seeds).</summary>
    public int Port { get; set; } = 4053;

    /// <summary>
    /// Seed nodes, either full addresses (<c>akka.tcp://banactors@10.0.0.1:4053</c>) or <c>host:port</c>, which is
    /// expanded with <see cref="SystemName"/>. A node that lists itself first may start a new cluster.
    /// </summary>
    public string[] SeedNodes { get; set; } = [];

    /// <summary>Cluster roles of this node (informational; every node hosts shards and may host the index).</summary>
    public string[] Roles { get; set; } = [];

    /// <summary>Fixed shard count of the "bans" region.</summary>
    public int NumberOfShards { get; set; } = UserMessageExtractor.DefaultShards;

    /// <summary>How long the split-brain resolver waits for a stable membership before downing unreachable nodes.</summary>
    public TimeSpan StableAfter { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Heartbeat pause the failure detector accepts before a node is unreachable.</summary>
    public TimeSpan AcceptableHeartbeatPause { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Phi threshold of the failure detector.</summary>
    public double FailureDetectorThreshold { get; set; } = 12.0;

    /// <summary>
    /// How long an online-status query or a live delivery waits for each node. A node that does not answer in time
    /// counts as no sessions: a message it may have delivered is then kept as well (delivered at least once).
    /// </summary>
    public TimeSpan OnlineQueryTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The seed nodes as full Akka addresses.</summary>
    public IReadOnlyList<string> SeedAddresses() => SeedNodes
        .Where(s => !string.IsNullOrWhiteSpace(s))
        .Select(s => s.Contains("://", StringComparison.Ordinal) ? s.Trim() : $"akka.tcp://{SystemName}@{s.Trim()}")
        .ToList();
}
