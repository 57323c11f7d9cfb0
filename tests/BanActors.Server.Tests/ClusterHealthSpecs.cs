using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using BanActors.Server.Tests.Support;
using BanActors.Tests.Shared;

namespace BanActors.Server.Tests;

/// <summary>
/// The server in cluster mode on PostgreSQL (a one-node cluster, its own seed): <c>/healthz</c> says the node is an
/// <c>Up</c> member and that the expiry index runs here; the singleton proxy's false warning at start is gone.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterHealthSpecs(PostgresServer postgres)
{
    [SkippableFact]
    public async Task Healthz_reports_the_cluster_membership_and_where_the_index_runs()
    {
        var connection = await postgres.CreateDatabaseAsync("cluster_health");
        var port = FreePort();
        await using var server = await ServerHost.StartAsync([TestApps.A], new Dictionary<string, string?>
        {
            ["BanActors:Mode"] = "Cluster",
            ["BanActors:Storage:Provider"] = "PostgreSql",
            ["BanActors:Storage:ConnectionString"] = connection,
            ["BanActors:Cluster:Hostname"] = "127.0.0.1",
            ["BanActors:Cluster:Port"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["BanActors:Cluster:SeedNodes:0"] = $"127.0.0.1:{port}",
        });

        using var response = await server.Http.GetAsync("/healthz");
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var cluster = JsonDocument.Parse(body).RootElement.GetProperty("cluster");
        Assert.Equal("Up", cluster.GetProperty("member").GetString());
        Assert.True(cluster.GetProperty("indexHere").GetBoolean(), body);
        Assert.Equal(cluster.GetProperty("address").GetString(), cluster.GetProperty("indexAt").GetString());
        Assert.EndsWith($"@127.0.0.1:{port}", cluster.GetProperty("address").GetString());
        Assert.Equal(1, cluster.GetProperty("members").GetInt32());
        Assert.DoesNotContain(server.Logs.Lines, l => l.Contains("failed to find an associated singleton", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_single_node_has_no_cluster_section()
    {
        await using var server = await ServerHost.StartAsync([TestApps.A]);
        using var response = await server.Http.GetAsync("/healthz");
        Assert.False(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("cluster", out _));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
