using Akka.Cluster.Hosting;
using Akka.Cluster.Hosting.SBR;
using Akka.Hosting;
using Akka.Remote.Hosting;
using BanActors.Hosting;
using BanActors.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace BanActors.Cluster;

/// <summary>Runs the ban engine as a node of an Akka.NET cluster, configured through Akka.Hosting.</summary>
public static class ClusterHostingExtensions
{
    /// <summary>
    /// Cluster mode of <see cref="BanActors.Hosting.AkkaHostingExtensions.WithBanEngine"/>: remoting and clustering from
    /// <paramref name="cluster"/>, the engine's HOCON, and this node's actors registered under the same keys, so
    /// <see cref="IBanEngine"/> and every caller work unchanged. Use PostgreSQL storage: all nodes share the journal.
    /// </summary>
    public static AkkaConfigurationBuilder WithBanEngineCluster(this AkkaConfigurationBuilder builder,
        BanEngineOptions options, BanClusterOptions cluster)
    {
        BanEngineConfig.PrepareStorage(options.Storage);
        builder.AddHocon(ClusterBanEngine.Config(options.Storage, cluster), HoconAddMode.Prepend);
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
        builder.WithActors((system, registry) =>
            BanActors.Hosting.AkkaHostingExtensions.Register(registry, ClusterBanEngine.Start(system, options, cluster)));
        return builder;
    }

    /// <summary>
    /// Cluster mode of <see cref="BanActors.Hosting.AkkaHostingExtensions.AddBanEngine"/>: an actor system named
    /// <see cref="BanClusterOptions.SystemName"/> that joins the cluster, and <see cref="IBanEngine"/> in DI.
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
}
