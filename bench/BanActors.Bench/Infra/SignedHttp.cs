using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace BanActors.Bench.Infra;

/// <summary>
/// The load client for the HTTP scenarios: HttpClient on a SocketsHttpHandler with a fixed pool of HTTP/1.1
/// connections to 127.0.0.1, signing every request the way RongCloud's SDKs do
/// (<c>Signature = hex SHA1(AppSecret + Nonce + Timestamp)</c>, fresh Nonce and Timestamp per request).
/// </summary>
public sealed class SignedHttp : IDisposable
{
    public const string AppKey = "benchapp";
    public const string AppSecret = "bench-secret-not-for-production";

    private readonly HttpClient _client;

    public SignedHttp(Uri baseAddress, int connections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = connections,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        };
        _client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public static (string Nonce, string Timestamp, string Signature) Sign(string secret)
    {
        var nonce = Random.Shared.Next().ToString(CultureInfo.InvariantCulture);
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var hash = SHA1.HashData(Encoding.UTF8.GetBytes(secret + nonce + timestamp));
        return (nonce, timestamp, Convert.ToHexStringLower(hash));
    }

    /// <summary>POSTs the form; throws unless HTTP 200 with <c>"code":200</c>.</summary>
    public async Task PostAsync(string path, IEnumerable<KeyValuePair<string, string>> form) =>
        await PostForBodyAsync(path, form).ConfigureAwait(false);

    /// <summary>POSTs the form and returns the body; throws unless HTTP 200 with <c>"code":200</c>.</summary>
    public async Task<string> PostForBodyAsync(string path, IEnumerable<KeyValuePair<string, string>> form)
    {
        using var request = SignedPost(path, form);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK || !body.Contains("\"code\":200", StringComparison.Ordinal))
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {body[..Math.Min(body.Length, 200)]}");
        return body;
    }

    /// <summary>POSTs the signed form and returns the HTTP status and body, whatever they are (for load that counts errors by code).</summary>
    public async Task<(int Status, string Body)> SendAsync(string path, IEnumerable<KeyValuePair<string, string>> form, CancellationToken ct)
    {
        using var request = SignedPost(path, form);
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        return ((int)response.StatusCode, body);
    }

    /// <summary>GETs <paramref name="path"/> unsigned; null when it does not answer 200.</summary>
    public async Task<string?> GetTextAsync(string path, CancellationToken ct)
    {
        using var response = await _client.GetAsync(path, ct).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false) : null;
    }

    public static IEnumerable<KeyValuePair<string, string>> BlockForm(IEnumerable<string> userIds, int minutes) =>
        userIds.Select(u => new KeyValuePair<string, string>("userId", u))
            .Append(new KeyValuePair<string, string>("minute", minutes.ToString(CultureInfo.InvariantCulture)));

    private static HttpRequestMessage SignedPost(string path, IEnumerable<KeyValuePair<string, string>> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        var (nonce, timestamp, signature) = Sign(AppSecret);
        request.Headers.Add("App-Key", AppKey);
        request.Headers.Add("Nonce", nonce);
        request.Headers.Add("Timestamp", timestamp);
        request.Headers.Add("Signature", signature);
        return request;
    }

    public void Dispose() => _client.Dispose();
}
