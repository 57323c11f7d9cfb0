using Akka.Hosting;
using BanActors.Cluster;
using BanActors.Hosting;
using BanActors.Storage;

namespace BanActors.Server.Cluster;

/// <summary>
/// The server's switch between the single-node engine and a cluster node: <c>BanActors:Mode = Cluster</c>, with the
/// node's address and seed nodes under <c>BanActors:Cluster</c> (see <see cref="BanClusterOptions"/>).
/// </summary>
public static class ClusterMode
{
    public static bool IsEnabled(IConfiguration configuration) =>
        string.Equals(configuration["BanActors:Mode"], "Cluster", StringComparison.OrdinalIgnoreCase);

    public static BanClusterOptions Options(IConfiguration configuration)
    {
        var options = new BanClusterOptions();
        configuration.GetSection("BanActors:Cluster").Bind(options);
        return options;
    }

    /// <summary>
    /// Adds the engine as a cluster node when the configuration asks for cluster mode; returns false (adding nothing)
    /// in local mode, so the caller adds the single-node engine.
    /// </summary>
    public static bool TryAddBanEngineCluster(this IServiceCollection services, IConfiguration configuration,
        BanEngineOptions engineOptions, Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        if (!IsEnabled(configuration)) return false;
        if (engineOptions.Storage.Provider != StorageProvider.PostgreSql)
            throw new InvalidOperationException(
                "BanActors:Mode=Cluster needs a journal that every node shares: set BanActors:Storage:Provider=PostgreSql " +
                "and BanActors:Storage:ConnectionString.");
        services.AddBanEngineCluster(engineOptions, Options(configuration), configure);
        return true;
    }
}
