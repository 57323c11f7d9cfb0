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
        var section = builder.Configuration.GetSection(BanActorsServerOptions.SectionName);

        services.AddOptions<BanActorsServerOptions>()
            .Bind(section)
            .Validate(o => o.RateLimit.PermitsPerSecond > 0, "BanActors:RateLimit:PermitsPerSecond must be positive")
            .Validate(o => o.Api.MaxBodyBytes > 0, "BanActors:Api:MaxBodyBytes must be positive")
            .Validate(o => TryFindTimeZone(o.TimeZone) is not null, "BanActors:TimeZone is not a known time zone id")
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
            akka.ConfigureLoggers(loggers =>
            {
                loggers.LogLevel = AkkaLogLevel(builder.Configuration.GetSection("Logging:LogLevel"));
                loggers.AddLoggerFactory();
            });
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
        services.AddHealthChecks().AddCheck<JournalHealthCheck>("journal");
        AddWebhooks(services, section);
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
    /// Akka's own log level: the most verbose level configured anywhere under <c>Logging:LogLevel</c>, so Akka never
    /// drops an event that the host's logging would show, and does not build one (the engine logs every ban at
    /// Information) that every category would filter out anyway.
    /// </summary>
    internal static Akka.Event.LogLevel AkkaLogLevel(IConfigurationSection levels)
    {
        var configured = levels.GetChildren()
            .Select(level => Enum.TryParse<LogLevel>(level.Value, ignoreCase: true, out var parsed) ? parsed : LogLevel.Information)
            .DefaultIfEmpty(LogLevel.Information)
            .Min();
        return configured switch
        {
            LogLevel.Trace or LogLevel.Debug => Akka.Event.LogLevel.DebugLevel,
            LogLevel.Information => Akka.Event.LogLevel.InfoLevel,
            LogLevel.Warning => Akka.Event.LogLevel.WarningLevel,
            _ => Akka.Event.LogLevel.ErrorLevel,
        };
    }

    /// <summary>Maps the RongCloud-compatible user endpoints, <c>GET /healthz</c> and the operator console at <c>/console</c>.</summary>
    public static WebApplication MapBanActorsApi(this WebApplication app)
    {
        // Resolved now so that a development app is made, and announced, at start rather than on the first request.
        app.Services.GetRequiredService<AppCatalog>();
        app.MapUserEndpoints();
        app.MapEventEndpoints();
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
        app.MapOperatorConsole();
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
        return http.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status == HealthStatus.Healthy ? "healthy" : "unhealthy",
            journal = new
            {
                reachable = journal.Status == HealthStatus.Healthy,
                detail = journal.Description,
            },
        }, RongCloudResults.JsonOptions));
    }
}
