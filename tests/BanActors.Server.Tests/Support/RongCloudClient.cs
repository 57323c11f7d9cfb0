using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Server.Tests.Support;

/// <summary>The parts of a response the tests look at.</summary>
public sealed record ApiResponse(HttpStatusCode Status, string Body, string? ContentType)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;

    public int Code => Json.GetProperty("code").GetInt32();

    public override string ToString() => $"{(int)Status} {Body}";
}

/// <summary>How a request is signed; each test varies one thing.</summary>
public sealed record Signing
{
    public bool Prefixed { get; init; }

    public bool Milliseconds { get; init; }

    public bool UpperCase { get; init; }

    /// <summary>Replaces the computed signature.</summary>
    public string? Signature { get; init; }

    public string? Nonce { get; init; }

    public string? Timestamp { get; init; }

    /// <summary>A signing header left out: App-Key, Nonce, Timestamp or Signature.</summary>
    public string? Omit { get; init; }

    /// <summary>More request headers, e.g. <c>Idempotency-Key</c>.</summary>
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    public static readonly Signing Default = new();
}

/// <summary>A RongCloud server API client, signing as the official SDKs do: hex SHA1(secret + nonce + timestamp).</summary>
public sealed class RongCloudClient(HttpClient http, string appKey, string appSecret, FakeTimeProvider clock)
{
    public const string FormContentType = "application/x-www-form-urlencoded";

    public string AppKey => appKey;

    /// <summary>POSTs <paramref name="form"/> (repeated keys allowed) as a urlencoded body.</summary>
    public Task<ApiResponse> PostAsync(string path, params (string Key, string Value)[] form) =>
        PostRawAsync(path, Encode(form), Signing.Default);

    public Task<ApiResponse> PostAsync(string path, Signing signing, params (string Key, string Value)[] form) =>
        PostRawAsync(path, Encode(form), signing);

    /// <summary>POSTs <paramref name="body"/> exactly as given (null: no body at all).</summary>
    public async Task<ApiResponse> PostRawAsync(string path, string? body, Signing signing,
        string? contentType = FormContentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        Sign(request, signing);
        foreach (var (name, value) in signing.Headers ?? new Dictionary<string, string>())
            request.Headers.TryAddWithoutValidation(name, value);
        using var response = await http.SendAsync(request);
        return new ApiResponse(response.StatusCode, await response.Content.ReadAsStringAsync(),
            response.Content.Headers.ContentType?.ToString());
    }

    public void Sign(HttpRequestMessage request, Signing signing)
    {
        var nonce = signing.Nonce ?? Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var now = clock.GetUtcNow();
        var timestamp = signing.Timestamp
            ?? (signing.Milliseconds ? now.ToUnixTimeMilliseconds() : now.ToUnixTimeSeconds()).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var signature = signing.Signature ?? Sha1Hex(appSecret + nonce + timestamp);
        if (signing.UpperCase) signature = signature.ToUpperInvariant();
        var prefix = signing.Prefixed ? "RC-" : "";
        foreach (var (name, value) in new[] { ("App-Key", appKey), ("Nonce", nonce), ("Timestamp", timestamp), ("Signature", signature) })
        {
            if (name != signing.Omit) request.Headers.TryAddWithoutValidation(prefix + name, value);
        }
    }

    public static string Sha1Hex(string text) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));

    public static string Encode(IEnumerable<(string Key, string Value)> form) =>
        string.Join('&', form.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value)));
}
