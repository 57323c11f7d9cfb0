using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Text.Json;
using BanActors.Server.Api;
using BanActors.Server.Hosting;
using BanActors.Server.Tests.Support;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace BanActors.Server.Tests;

/// <summary>
/// <c>/openapi/v1.json</c> describes every endpoint of the routing table (the console's own page API aside), with the
/// signing headers, the form parameters and their limits, and every error code; <c>GET /</c> and the start-up summary
/// give the server's links and a signed call that works as pasted.
/// </summary>
public sealed class OpenApiSpecs(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private readonly ServerHost _server = fixture.Server;

    [Fact]
    public async Task The_document_names_every_mapped_endpoint_and_every_error_code()
    {
        using var response = await _server.Http.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var paths = document.GetProperty("paths");

        var endpoints = _server.App.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Methods: e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"], Path: "/" + e.RoutePattern.RawText!.TrimStart('/')))
            // The console's JSON API serves its own page (cookie sign-in, antiforgery): docs/CONSOLE.md, not this document.
            .Where(e => !e.Path.StartsWith("/console", StringComparison.Ordinal) && !e.Path.StartsWith("/openapi", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(endpoints, e => e.Path == "/user/block.json");
        Assert.Contains(endpoints, e => e.Path == "/healthz");
        foreach (var (methods, path) in endpoints)
        foreach (var method in methods)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not described");
            Assert.True(item.TryGetProperty(method.ToLowerInvariant(), out var operation), $"{method} {path} is not described");
            Assert.False(string.IsNullOrEmpty(operation.GetProperty("summary").GetString()));
            Assert.True(operation.GetProperty("responses").TryGetProperty("200", out _), $"{method} {path}: no success answer");
        }

        var block = paths.GetProperty("/user/block.json").GetProperty("post");
        var headers = block.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()).ToList();
        Assert.Equal(["App-Key", "Nonce", "Timestamp", "Signature", "Idempotency-Key"], headers);
        var form = block.GetProperty("requestBody").GetProperty("content").GetProperty("application/x-www-form-urlencoded").GetProperty("schema");
        Assert.Equal(["userId", "minute"], form.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        var userId = form.GetProperty("properties").GetProperty("userId");
        Assert.Equal(20, userId.GetProperty("maxItems").GetInt32());
        Assert.Equal(64, userId.GetProperty("items").GetProperty("maxLength").GetInt32());
        Assert.Equal("43200", form.GetProperty("properties").GetProperty("minute").GetProperty("maximum").ToString());
        Assert.Equal(["200", "400", "401", "404", "405", "429", "500"], block.GetProperty("responses").EnumerateObject().Select(r => r.Name));
        // Every form parameter of every endpoint states its limit.
        foreach (var item in paths.EnumerateObject())
        foreach (var operation in item.Value.EnumerateObject())
            if (operation.Value.TryGetProperty("requestBody", out var body))
                foreach (var property in body.GetProperty("content").EnumerateObject().Single().Value.GetProperty("schema").GetProperty("properties").EnumerateObject())
                {
                    var schema = property.Value.TryGetProperty("items", out var items) ? items : property.Value;
                    Assert.True(schema.TryGetProperty("maxLength", out _) || schema.TryGetProperty("maximum", out _) || schema.TryGetProperty("minimum", out _),
                        $"{item.Name} {property.Name} has no limit");
                }

        var codes = document.GetProperty("components").GetProperty("schemas").GetProperty("Error").GetProperty("properties")
            .GetProperty("code").GetProperty("enum").EnumerateArray().Select(c => c.GetInt32()).ToHashSet();
        var declared = typeof(ErrorCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(int)).Select(f => (int)f.GetRawConstantValue()!).Where(c => c != 200).ToList();
        Assert.NotEmpty(declared);
        Assert.All(declared, code => Assert.Contains(code, codes));
    }

    [Fact]
    public async Task The_root_answers_the_server_s_links_and_each_of_them_answers()
    {
        using var response = await _server.Http.GetAsync("/");
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(200, root.GetProperty("code").GetInt32());
        var links = root.GetProperty("links").EnumerateObject().ToDictionary(l => l.Name, l => l.Value.GetString()!);
        Assert.Equal("/healthz", links["health"]);
        Assert.Equal("/openapi/v1.json", links["openapi"]);
        Assert.Equal("/console", links["console"]);
        foreach (var link in links.Values)
        {
            using var answer = await _server.Http.GetAsync(link);
            Assert.True(answer.StatusCode is HttpStatusCode.OK, $"{link}: {(int)answer.StatusCode}");
        }
    }

    [Fact]
    public async Task The_start_up_summary_gives_the_links_and_a_signed_call_that_works_as_pasted()
    {
        var text = StartupSummary.Text(_server.App.Services);

        Assert.Contains($"Listening: {_server.Address.ToString().TrimEnd('/')}", text);
        Assert.Contains("bans.db", text);
        Assert.Contains($"{_server.Address.ToString().TrimEnd('/')}/openapi/v1.json", text);
        Assert.DoesNotContain(TestApps.All[0].AppSecret, text); // configured secrets are never printed
        var call = text.Split('\n').Single(l => l.Contains("Try it:", StringComparison.Ordinal)).Split("Try it:", 2)[1].Trim();

        // The server's clock is a test clock; the pasted call signs with the machine's: the default server has no skew limit.
        var shell = new ProcessStartInfo("bash", ["-c", call]) { RedirectStandardOutput = true, RedirectStandardError = true };
        shell.Environment["APP_SECRET"] = TestApps.All[0].AppSecret;
        using var process = Process.Start(shell)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        Assert.StartsWith("{\"code\":200,\"users\":", output);
    }
}
