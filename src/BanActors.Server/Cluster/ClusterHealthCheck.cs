using Akka.Actor;
using Akka.Cluster;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace BanActors.Server.Cluster;

/// <summary>
/// In cluster mode: healthy once this node is an <c>Up</c> member. Says where the expiry index runs (the singleton
/// lives on the oldest <c>Up</c> member) so an operator sees a failover without reading logs.
/// </summary>
internal sealed class ClusterHealthCheck(ActorSystem system) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        var self = cluster.SelfMember;
        var up = cluster.State.Members.Where(m => m.Status == MemberStatus.Up).ToList();
        var oldest = up.Count == 0 ? null : up.Aggregate((a, b) => b.IsOlderThan(a) ? b : a);
        var data = new Dictionary<string, object>
        {
            ["member"] = self.Status.ToString(),
            ["address"] = self.Address.ToString(),
            ["members"] = up.Count,
            ["indexAt"] = oldest?.Address.ToString() ?? "unknown",
            ["indexHere"] = oldest is not null && oldest.Address == self.Address,
        };
        var result = self.Status == MemberStatus.Up
            ? HealthCheckResult.Healthy($"cluster member {self.Status}", data)
            : HealthCheckResult.Unhealthy($"this node is {self.Status}, not an Up member of the cluster", data: data);
        return Task.FromResult(result);
    }
}
