using BanActors.Server.Api;
using BanActors.Server.Apps;
using BanActors.Storage;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace BanActors.Server.Hosting;

/// <summary>
/// What a new user needs at start, in a few lines on the console: where the server listens, its journal, a signed call
/// to paste, and the URLs of the health, metrics, OpenAPI and console endpoints; <c>GET /</c> answers the same links.
/// </summary>
internal static class StartupSummary
{
    /// <summary>The server's own pages, by name, where they are mapped.</summary>
    public static IReadOnlyDictionary<string, string> Links(IServiceProvider services)
    {
        var mapped = OpenApiDescription.Mapped(services);
        var links = new Dictionary<string, string>();
        foreach (var (name, path) in new[] { ("health", "/healthz"), ("metrics", "/metrics"), ("openapi", OpenApiDescription.DocumentPath), ("console", "/console") })
            if (mapped.Contains(("GET", path))) links[name] = path;
        return links;
    }

    public static IEndpointConventionBuilder MapServerRoot(this IEndpointRouteBuilder app) =>
        app.MapGet("/", (HttpContext http) => RongCloudResults.Ok(new
        {
            name = "BanActors",
            description = "A ban engine with timed auto-unban, compatible with RongCloud's server API",
            links = Links(http.RequestServices),
        }));

    public static void PrintOnStart(WebApplication app) => app.Lifetime.ApplicationStarted.Register(() =>
    {
        try
        {
            Console.Out.Write(Text(app.Services));
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            // A summary that cannot be written (no console, no addresses) never stops the server.
        }
    });

    internal static string Text(IServiceProvider services)
    {
        var addresses = services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var baseUrl = addresses.Select(Reachable).FirstOrDefault() ?? "http://127.0.0.1:5000";
        var storage = services.GetRequiredService<BanEngineOptions>().Storage;
        var configured = services.GetRequiredService<IOptions<BanActorsServerOptions>>().Value.Apps.Count > 0;
        var app = services.GetRequiredService<AppCatalog>().Apps.First();
        // Only the development app's secret, which the console already shows; a configured secret is never printed.
        var secret = configured ? "$APP_SECRET" : app.AppSecret;
        var lines = new List<string>
        {
            "BanActors is ready",
            $"  Listening: {string.Join(", ", addresses)}",
            $"  Journal:   {Describe(storage)}",
            $"  Try it:    n=$RANDOM; t=$(date +%s); curl -s -X POST {baseUrl}/user/block/query.json -H \"App-Key: {app.AppKey}\" " +
                $"-H \"Nonce: $n\" -H \"Timestamp: $t\" -H \"Signature: $(printf %s \"{secret}$n$t\" | sha1sum | cut -c1-40)\"",
        };
        lines.AddRange(Links(services).Select(l => $"  {char.ToUpperInvariant(l.Key[0]) + l.Key[1..] + ":",-10} {baseUrl}{l.Value}"));
        return string.Join(Environment.NewLine, lines) + Environment.NewLine;
    }

    /// <summary>An address a browser on this machine can open: a wildcard host becomes 127.0.0.1.</summary>
    private static string Reachable(string address)
    {
        foreach (var wildcard in new[] { "://[::]", "://0.0.0.0", "://+", "://*" })
            if (address.Contains(wildcard, StringComparison.Ordinal)) return address.Replace(wildcard, "://127.0.0.1", StringComparison.Ordinal);
        return address.TrimEnd('/');
    }

    /// <summary>Where the journal is, without a password.</summary>
    private static string Describe(StorageOptions storage)
    {
        if (storage.Provider == StorageProvider.Sqlite)
            return "SQLite " + Path.GetFullPath(new SqliteConnectionStringBuilder(storage.ConnectionString).DataSource);
        var pg = new NpgsqlConnectionStringBuilder(storage.ConnectionString);
        return $"PostgreSQL {pg.Host}:{pg.Port}/{pg.Database}";
    }
}
