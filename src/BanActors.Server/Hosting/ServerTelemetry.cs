using System.Net;
using BanActors.Hosting;
using BanActors.Server.Api;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace BanActors.Server.Hosting;

/// <summary>
/// <c>BanActors:Metrics</c>: the engine's meter (and ASP.NET Core's) scraped in Prometheus text at <c>/metrics</c>, by
/// callers from the allowed networks only.
/// </summary>
public sealed class MetricsOptions
{
    /// <summary>The networks allowed when <see cref="AllowedNetworks"/> is not configured: this machine only.</summary>
    public static readonly IReadOnlyList<string> LoopbackNetworks = ["127.0.0.0/8", "::1/128"];

    /// <summary>Serve <c>/metrics</c>; on by default.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// CIDRs (<c>10.0.0.0/8</c>, <c>fd00::/8</c>) whose callers may scrape; others get 403 (code 1006). Null or empty:
    /// <see cref="LoopbackNetworks"/>. Behind a proxy the proxy's address is the caller's.
    /// </summary>
    public List<string>? AllowedNetworks { get; set; }

    internal IReadOnlyList<string> EffectiveNetworks => AllowedNetworks is { Count: > 0 } networks ? networks : LoopbackNetworks;

    internal bool NetworksAreValid() => EffectiveNetworks.All(n => IPNetwork.TryParse(n, out _));
}

/// <summary>OpenTelemetry for the standalone server: Prometheus at <c>/metrics</c>, OTLP when the standard variable asks for it.</summary>
internal static class ServerTelemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>The standard OpenTelemetry variable; when set, metrics and traces also go there over OTLP.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public static void AddServerTelemetry(this WebApplicationBuilder builder, IConfigurationSection section)
    {
        var metrics = section.GetSection("Metrics").Get<MetricsOptions>() ?? new MetricsOptions();
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]);
        if (!metrics.Enabled && !otlp) return;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("BanActors.Server"))
            .WithMetrics(meters =>
            {
                // System.Runtime: .NET's own GC, heap, thread-pool and working-set instruments, for watching memory.
                meters.AddMeter(BanMetrics.MeterName, "System.Runtime").AddAspNetCoreInstrumentation();
                // A scrape reads the instruments now, not a copy cached from a scrape a moment ago.
                if (metrics.Enabled) meters.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                if (otlp) meters.AddOtlpExporter();
            });
        if (otlp)
            telemetry.WithTracing(traces => traces.AddSource(BanTracing.SourceName).AddAspNetCoreInstrumentation().AddOtlpExporter());
    }

    /// <summary>Maps <c>/metrics</c> when enabled, behind the allowed-networks check.</summary>
    public static void MapMetrics(this WebApplication app, MetricsOptions options)
    {
        if (!options.Enabled) return;
        var allowed = options.EffectiveNetworks.Select(n => IPNetwork.Parse(n)).ToList();
        app.MapPrometheusScrapingEndpoint(MetricsPath, meterProvider: null,
            configureBranchedPipeline: branch => branch.Use(async (http, next) =>
            {
                if (IsAllowed(http.Connection.RemoteIpAddress, allowed))
                {
                    await next(http);
                    return;
                }
                await RongCloudResults.Error(ErrorCodes.Forbidden, "metrics are not served to this address", http.Request.Path)
                    .ExecuteAsync(http);
            }),
            optionsName: null);
    }

    internal static bool IsAllowed(IPAddress? caller, IReadOnlyList<IPNetwork> allowed)
    {
        if (caller is null) return false;
        if (caller.IsIPv4MappedToIPv6) caller = caller.MapToIPv4();
        return allowed.Any(network => network.Contains(caller));
    }
}
