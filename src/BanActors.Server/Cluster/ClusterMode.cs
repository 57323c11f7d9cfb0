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
    /// The cluster settings when the configuration asks for cluster mode, else null (single node). Cluster mode
    /// needs a journal that every node shares, so it refuses SQLite.
    /// </summary>
    public static BanClusterOptions? Resolve(IConfiguration configuration, BanEngineOptions engineOptions)
    {
        if (!IsEnabled(configuration)) return null;
        if (engineOptions.Storage.Provider != StorageProvider.PostgreSql)
            throw new InvalidOperationException(
                "BanActors:Mode=Cluster needs a journal that every node shares: set BanActors:Storage:Provider=PostgreSql " +
                "and BanActors:Storage:ConnectionString.");
        return Options(configuration);
    }
}
