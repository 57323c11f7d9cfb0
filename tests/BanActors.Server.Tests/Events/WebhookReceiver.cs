using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace BanActors.Server.Tests.Events;

/// <summary>One webhook POST as the receiver got it.</summary>
public sealed record WebhookCall(IReadOnlyDictionary<string, string> Query, string? SignatureHeader, string? ContentType, byte[] Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public string Id => Json.GetProperty("id").GetString()!;

    public string Type => Json.GetProperty("type").GetString()!;

    public string UserId => Json.GetProperty("userId").GetString()!;

    /// <summary>RongCloud's callback check: hex SHA1(secret + nonce + signTimestamp) against the query's signature.</summary>
    public bool QuerySignatureValid(string secret) =>
        Query.TryGetValue("signature", out var signature) && Query.TryGetValue("nonce", out var nonce)
        && Query.TryGetValue("signTimestamp", out var timestamp)
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(signature),
            Encoding.ASCII.GetBytes(Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(secret + nonce + timestamp)))));

    /// <summary>The body check a receiver does: v1 = hex HMAC-SHA256(secret, t + "." + body).</summary>
    public static bool BodySignatureValid(string? header, byte[] body, string secret)
    {
        if (header is null) return false;
        var parts = header.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        if (!parts.TryGetValue("t", out var t) || !parts.TryGetValue("v1", out var v1)) return false;
        var signed = Encoding.UTF8.GetBytes(t + ".").Concat(body).ToArray();
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(v1), Encoding.ASCII.GetBytes(expected));
    }
}

/// <summary>A real Kestrel on 127.0.0.1 in the test process that takes webhooks (or answers 500 while <see cref="Failing"/>).</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<WebhookCall> _accepted = new();
    private int _refused;

    private WebhookReceiver(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    public volatile bool Failing;

    public IReadOnlyList<WebhookCall> Accepted => _accepted.ToList();

    public int Refused => Volatile.Read(ref _refused);

    public static async Task<WebhookReceiver> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/hooks/bans", async (HttpContext http) =>
        {
            using var body = new MemoryStream();
            await http.Request.Body.CopyToAsync(body);
            if (receiver.Failing)
            {
                Interlocked.Increment(ref receiver._refused);
                return Results.StatusCode(500);
            }
            receiver._accepted.Enqueue(new WebhookCall(
                http.Request.Query.ToDictionary(q => q.Key, q => q.Value.ToString()),
                http.Request.Headers["X-BanActors-Signature"].FirstOrDefault(),
                http.Request.ContentType, body.ToArray()));
            return Results.Ok();
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        receiver.Url = new Uri(new Uri(address), "/hooks/bans?source=banactors");
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
