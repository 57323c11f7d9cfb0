using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using BanActors.Server.Tests.Gateway;
using BanActors.Server.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace BanActors.Server.Tests;

/// <summary>
/// <c>/metrics</c>: Prometheus text for callers from the allowed networks (loopback by default), the API's 403/1006 for
/// anyone else, not served at all when disabled.
/// </summary>
public sealed class MetricsSpecs(ITestOutputHelper output)
{
    private static readonly TestApp App = new("appMetrics", "secret-of-app-metrics");

    [Fact]
    public async Task After_a_ban_a_loopback_caller_scrapes_the_ban_counter_in_prometheus_text()
    {
        // A user id no metric name or label could hold by chance ("eve" did: ".../events" routes of other servers in
        // this process share the listener), so its absence proves user ids never become labels.
        const string user = "user-7f3c9e41";
        await using var server = await ServerHost.StartAsync([App]);
        var ban = await server.Client(App).PostAsync("/user/block.json", ("userId", user), ("minute", "10"));
        Assert.Equal(200, ban.Code);

        using var response = await server.Http.GetAsync("/metrics");
        var body = await response.Content.ReadAsStringAsync();
        output.WriteLine(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE banactors_bans_total counter", body);
        Assert.Matches(new Regex("""^banactors_bans_total\{[^}]*app="appMetrics"[^}]*\} 1( |$)""", RegexOptions.Multiline), body);
        Assert.Contains("banactors_journal_write_duration_milliseconds_bucket", body);
        Assert.DoesNotContain(user, body);
        // .NET's own meter, for watching memory (the soak reads the heap from it).
        Assert.Contains("dotnet_process_memory_working_set_bytes", body);
    }

    [Fact]
    public async Task A_caller_outside_the_allowed_networks_is_refused_with_403_and_code_1006()
    {
        await using var server = await ServerHost.StartAsync([App], new Dictionary<string, string?>
        {
            ["BanActors:Metrics:AllowedNetworks:0"] = "10.0.0.0/8",
            ["BanActors:Metrics:AllowedNetworks:1"] = "fd00::/8",
        });

        using var response = await server.Http.GetAsync("/metrics");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(body).RootElement;
        Assert.Equal(1006, json.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(json.GetProperty("errorMessage").GetString()));
        Assert.DoesNotContain("banactors_", body);
    }

    [Fact]
    public async Task With_metrics_disabled_the_path_is_not_served()
    {
        await using var server = await ServerHost.StartAsync([App], new Dictionary<string, string?>
        {
            ["BanActors:Metrics:Enabled"] = "false",
        });

        using var response = await server.Http.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.DoesNotContain("banactors_", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task An_allowed_network_that_is_not_a_cidr_fails_the_start()
    {
        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => ServerHost.StartAsync([App],
            new Dictionary<string, string?> { ["BanActors:Metrics:AllowedNetworks:0"] = "10.0.0.0/33" }));
        Assert.Contains("AllowedNetworks", failure.Message);
    }
}

/// <summary>With <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, metrics and traces (the engine's spans too) go there over OTLP.</summary>
public sealed class OtlpExportSpecs
{
    private static readonly TestApp App = new("appOtlp", "secret-of-app-otlp");

    [Fact]
    public async Task With_the_otlp_endpoint_set_metrics_and_the_bans_trace_are_exported_to_it()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var server = await ServerHost.StartAsync([App], new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.Url.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        });

        var ban = await server.Client(App).PostAsync("/user/block.json", ("userId", "eve"), ("minute", "10"));
        Assert.Equal(200, ban.Code);

        // The exporters' own intervals (real time, 200 ms), not a test clock: bounded polling.
        await MetricRecorder.EventuallyAsync(() => collector.Received("/v1/metrics", "banactors.bans"), "the ban counter over OTLP");
        await MetricRecorder.EventuallyAsync(() => collector.Received("/v1/traces", "journal write"), "the engine's span over OTLP");
        Assert.True(collector.Received("/v1/traces", "/user/block.json"), "the request's span");
    }

    [Fact]
    public async Task Without_the_otlp_endpoint_nothing_is_exported()
    {
        await using var collector = await OtlpCollector.StartAsync();
        await using var server = await ServerHost.StartAsync([App]);
        await server.Client(App).PostAsync("/user/block.json", ("userId", "eve"), ("minute", "10"));
        Assert.Null(server.App.Services.GetService<OpenTelemetry.Trace.TracerProvider>());
    }

    /// <summary>A real Kestrel on 127.0.0.1 that keeps every OTLP/HTTP body by path (protobuf holds names as UTF-8).</summary>
    private sealed class OtlpCollector : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentQueue<(string Path, byte[] Body)> _bodies = new();

        private OtlpCollector(WebApplication app) => _app = app;

        public Uri Url { get; private set; } = null!;

        public bool Received(string path, string text)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            return _bodies.Any(b => b.Path == path && b.Body.AsSpan().IndexOf(bytes) >= 0);
        }

        public static async Task<OtlpCollector> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var collector = new OtlpCollector(app);
            app.MapPost("/v1/{signal}", async (HttpContext http) =>
            {
                using var body = new MemoryStream();
                await http.Request.Body.CopyToAsync(body);
                collector._bodies.Enqueue((http.Request.Path, body.ToArray()));
                return Results.Ok();
            });
            await app.StartAsync();
            collector.Url = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>()
                .Addresses.Single());
            return collector;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}

/// <summary>Kept messages through the gateway: stored, waiting, delivered on connect, purged past the retention.</summary>
[Collection(GatewayCollection.Name)]
public sealed class KeptMessageMetricsSpecs(ITestOutputHelper output) : GatewaySpecs(output)
{
    [Fact]
    public async Task Kept_messages_count_as_stored_and_waiting_then_as_delivered_or_purged()
    {
        using var metrics = new MetricRecorder();
        var app = ("app", (object?)GatewayServer.AppKey);
        var token = await Server.TokenAsync("u1");
        await Server.BlockAsync("u1", 10);
        await Server.PublishAsync("u2", "one", "u1");
        await Server.PublishAsync("u2", "two", "u1");
        await Server.PublishAsync("u2", "to an offline user", "u3");

        Assert.Equal(3, metrics.Sum("banactors.kept_messages.stored", app));
        await MetricRecorder.EventuallyAsync(() => metrics.Observe("banactors.kept_messages.waiting", app) == 3, "three waiting");

        await Server.UnblockAsync("u1");
        await using (var client = await Server.ConnectAsync(token))
        {
            await client.ExpectConnectedAsync("u1");
            await client.ExpectMessageAsync("one");
            await client.ExpectMessageAsync("two");
        }
        await MetricRecorder.EventuallyAsync(() => metrics.Sum("banactors.kept_messages.delivered", app) == 2, "two delivered");
        Assert.Equal(1, metrics.Observe("banactors.kept_messages.waiting", app));

        // Past the retention, the purge (on the test clock) removes u3's message and the store is counted again.
        Clock.Advance(TimeSpan.FromDays(8));
        await MetricRecorder.EventuallyAsync(() => metrics.Observe("banactors.kept_messages.waiting", app) == 0, "none waiting");
        Assert.True(metrics.Sum("banactors.kept_messages.purged") >= 1);
        Assert.Equal(2, metrics.Sum("banactors.kept_messages.delivered", app));
    }
}
