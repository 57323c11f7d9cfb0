using System.Text.Json;
using System.Threading.RateLimiting;
using Akka.Hosting;
using BanActors.Cluster;
using BanActors.Hosting;
using BanActors.Server.Api;
using BanActors.Server.Apps;
using BanActors.Server.Cluster;
using BanActors.Server.Events;
using BanActors.Server.OperatorConsole;
using BanActors.Server.Security;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace BanActors.Server.Hosting;

/// <summary>Composes the standalone server: <c>builder.AddBanActorsServer()</c>, then <c>app.MapBanActorsApi()</c>.</summary>
public static class ServerHostingExtensions
{
    /// <summary>
    /// Registers the ban engine (storage from <c>BanActors:Storage</c>, engine settings from <c>BanActors:Engine</c>,
    /// single node or, with <c>BanActors:Mode=Cluster</c>, a cluster node configured from <c>BanActors:Cluster</c>;
    /// Akka logs bridged to Microsoft.Extensions.Logging), the apps, tokens, signature check, rate limiter and
    /// health check. The engine takes the registered <see cref="TimeProvider"/> from DI when it starts (the system
    /// clock unless a test registered or replaced it), the same one the API uses for tokens and time stamps.
    /// </summary>
    /// <param name="configureAkka">Extra Akka setup, e.g. HOCON overrides.</param>
    public static WebApplicationBuilder AddBanActorsServer(this WebApplicationBuilder builder,
        Action<AkkaConfigurationBuilder, IServiceProvider>? configureAkka = null)
    {
        var services = builder.Services;
        builder.Logging.WithoutUrlLogging();
        var section = builder.Configuration.GetSection(BanActorsServerOptions.SectionName);

        services.AddOptions<BanActorsServerOptions>()
            .Bind(section)
            .Validate(o => o.RateLimit.PermitsPerSecond > 0, "BanActors:RateLimit:PermitsPerSecond must be positive")
            .Validate(o => o.Api.MaxBodyBytes > 0, "BanActors:Api:MaxBodyBytes must be positive")
            .Validate(o => TryFindTimeZone(o.TimeZone) is not null, "BanActors:TimeZone is not a known time zone id")
            .Validate(o => o.Metrics.NetworksAreValid(), "BanActors:Metrics:AllowedNetworks must be CIDRs such as 10.0.0.0/8")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);

        var engineOptions = new BanEngineOptions();
        section.GetSection("Engine").Bind(engineOptions);
        section.GetSection("Storage").Bind(engineOptions.Storage);
        engineOptions.LedgerRetention = section.GetSection("Ledger:Retention").Get<TimeSpan?>();
        services.AddSingleton(engineOptions);
        var cluster = ClusterMode.Resolve(builder.Configuration, engineOptions);
        services.AddAkka(cluster?.SystemName ?? "banactors", (akka, sp) =>
        {
            if (cluster is null) akka.WithBanEngine(engineOptions);
            else akka.WithBanEngineCluster(engineOptions, cluster);
            akka.WithHostLogging(builder.Configuration);
            configureAkka?.Invoke(akka, sp);
        });
        services.AddBanEngineFacade(engineOptions);
        // After the actor system's hosted service and before Kestrel's (WebApplication starts the server last). In a
        // cluster the engine answers once the node has joined, which the host does not wait for.
        if (cluster is null) services.AddHostedService<EngineWarmUp>();

        services.AddSingleton(sp => CreateAppCatalog(sp, engineOptions));
        services.AddSingleton(sp => new TokenService(sp.GetRequiredService<AppCatalog>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<SignatureVerifier>();
        services.AddSingleton(sp => CreateRateLimiter(sp.GetRequiredService<IOptions<BanActorsServerOptions>>().Value.RateLimit));
        services.AddSingleton<RongCloudPipeline>();
        services.AddSingleton(sp => new BlockEndTimeFormat(
            TryFindTimeZone(sp.GetRequiredService<IOptions<BanActorsServerOptions>>().Value.TimeZone)!));
        var health = services.AddHealthChecks().AddCheck<JournalHealthCheck>("journal");
        if (cluster is not null) health.AddCheck<ClusterHealthCheck>("cluster");
        services.AddOpenApi("v1", openApi => openApi.AddDocumentTransformer<OpenApiDescription>());
        AddWebhooks(services, section);
        builder.AddServerTelemetry(section);
        services.AddOperatorConsole(builder.Configuration, DevelopmentApp.DataFolder(engineOptions.Storage));
        return builder;
    }

    /// <summary>
    /// One event handler per app with a <c>Webhook</c> (read from configuration now: the engine takes its handlers
    /// from DI when it starts), sharing one pooled HTTP client.
    /// </summary>
    private static void AddWebhooks(IServiceCollection services, IConfigurationSection section)
    {
        var apps = section.GetSection("Apps").Get<List<AppCredentials>>() ?? [];
        if (apps.All(a => a.Webhook is null)) return;
        services.TryAddSingleton(_ => new WebhookClient());
        foreach (var app in apps.Where(a => a.Webhook is not null))
        {
            var appKey = app.AppKey;
            services.AddSingleton<IBanEventHandler>(sp =>
            {
                var configured = sp.GetRequiredService<AppCatalog>().TryGet(appKey, out var credentials) ? credentials : app;
                return new WebhookHandler(configured, configured.Webhook ?? app.Webhook!, sp.GetRequiredService<WebhookClient>().Http,
                    sp.GetRequiredService<TimeProvider>());
            });
        }
    }

    /// <summary>
    /// Maps the RongCloud-compatible user endpoints, <c>GET /healthz</c>, the operator console at <c>/console</c>,
    /// <c>/openapi/v1.json</c>, <c>GET /</c> and, unless <c>BanActors:Metrics:Enabled</c> is false, the Prometheus
    /// scrape at <c>/metrics</c>.
    /// </summary>
    public static WebApplication MapBanActorsApi(this WebApplication app)
    {
        // First, so that every answer (an unknown path, a wrong method, an unhandled exception) is the JSON shape.
        app.UseRequestLog();
        app.UseJsonErrorFallback();
        // Resolved now so that a development app is made, and announced, at start rather than on the first request.
        app.Services.GetRequiredService<AppCatalog>();
        app.MapUserEndpoints();
        app.MapEventEndpoints();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapOperatorConsole();
        app.MapMetrics(app.Services.GetRequiredService<IOptions<BanActorsServerOptions>>().Value.Metrics);
        app.MapOpenApi();
        app.MapServerRoot();
        StartupSummary.PrintOnStart(app);
        return app;
    }

    internal static TimeZoneInfo? TryFindTimeZone(string id)
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    private static PartitionedRateLimiter<RateLimitPartitionKey> CreateRateLimiter(RateLimitOptions options) =>
        PartitionedRateLimiter.Create<RateLimitPartitionKey, RateLimitPartitionKey>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.PermitsPerSecond,
                Window = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));

    private static AppCatalog CreateAppCatalog(IServiceProvider sp, BanEngineOptions engine)
    {
        var configured = sp.GetRequiredService<IOptions<BanActorsServerOptions>>().Value.Apps;
        if (configured.Count > 0) return new AppCatalog(configured);

        var folder = DevelopmentApp.DataFolder(engine.Storage);
        var app = DevelopmentApp.LoadOrCreate(folder, out var created);
        // The secret goes to the console only, never through the logger (logs are often shipped elsewhere).
        Console.WriteLine($"""
            BanActors: no app configured (BanActors:Apps), using the development app {(created ? "just created" : "kept")} in {Path.Combine(folder, DevelopmentApp.FileName)}
              App-Key:    {app.AppKey}
              App-Secret: {app.AppSecret}
            """);
        sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServerHostingExtensions).Namespace!)
            .LogWarning("No app configured in BanActors:Apps; serving the development app {AppKey}", app.AppKey);
        return new AppCatalog([app]);
    }

    private static Task WriteHealthAsync(HttpContext http, HealthReport report)
    {
        http.Response.ContentType = "application/json; charset=utf-8";
        var journal = report.Entries.TryGetValue("journal", out var entry) ? entry : default;
        // In cluster mode: this node's membership ("Up" when it serves) and where the expiry index runs.
        var cluster = report.Entries.TryGetValue("cluster", out var member)
            ? new Dictionary<string, object>(member.Data) { ["detail"] = member.Description ?? "" }
            : null;
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status == HealthStatus.Healthy ? "healthy" : "unhealthy",
            journal = new
            {
                reachable = journal.Status == HealthStatus.Healthy,
                detail = journal.Description,
            },
            cluster,
        }, RongCloudResults.JsonOptions));
    }
}
