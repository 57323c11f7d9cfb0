using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace BanActors.Cluster;

/// <summary>Runs the ban engine as a node of an Akka.NET cluster, configured through Akka.Hosting.</summary>
public static class ClusterHostingExtensions
{
    /// <summary>
    /// Cluster mode of <see cref="BanEngineHostingExtensions.AddBanEngine"/>: an actor system named
    /// <see cref="BanClusterOptions.SystemName"/> that joins the cluster, and <see cref="IBanEngine"/> and
    /// <see cref="ISessionRegistry"/> in DI, working as on one node. Use PostgreSQL storage: all nodes share the journal.
    /// </summary>
    public static IServiceCollection AddBanEngineCluster(this IServiceCollection services, BanEngineOptions options,
        BanClusterOptions cluster, Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        services.AddAkka(cluster.SystemName, (akka, sp) =>
        {
            akka.WithBanEngineCluster(options, cluster);
            configure?.Invoke(akka, sp);
        });
        return services.AddBanEngineFacade(options);
    }

    /// <summary>
    /// Cluster mode of <see cref="BanEngineHostingExtensions.WithBanEngine(AkkaConfigurationBuilder, BanEngineOptions)"/>:
    /// remoting and clustering from <paramref name="cluster"/>, the engine, and a keep-majority split-brain resolver.
    /// </summary>
    public static AkkaConfigurationBuilder WithBanEngineCluster(this AkkaConfigurationBuilder builder,
        BanEngineOptions options, BanClusterOptions cluster)
    {
        if (options.Storage.Provider != StorageProvider.PostgreSql)
            throw new InvalidOperationException(
                "Cluster mode needs a journal that every node shares: use StorageProvider.PostgreSql.");
        builder.WithRemoting(new RemoteOptions
        {
            HostName = cluster.Hostname,
            Port = cluster.Port,
            PublicHostName = string.IsNullOrEmpty(cluster.PublicHostname) ? null : cluster.PublicHostname,
        });
        builder.WithClustering(new ClusterOptions
        {
            SeedNodes = cluster.SeedAddresses().ToArray(),
            Roles = cluster.Roles,
            SplitBrainResolver = new KeepMajorityOption(),
        });
        return builder.WithBanEngine(options, new ClusterTopology(cluster), ClusterTopology.Config(cluster));
    }
}
