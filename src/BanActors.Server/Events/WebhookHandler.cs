using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using BanActors.Server.Apps;

namespace BanActors.Server.Events;

/// <summary>
/// Delivers one app's ban events to its webhook, through the engine's event feed (durable offset, retries with
/// backoff, per-user order, dead letters). Each event is one POST of its JSON, signed twice:
/// <list type="bullet">
/// <item>RongCloud's callback style, in the query: <c>appKey</c>, <c>nonce</c>, <c>signTimestamp</c> (ms) and
/// <c>signature</c> = hex SHA1 of <c>secret + nonce + signTimestamp</c>;</item>
/// <item>over the body, in <c>X-BanActors-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256(secret, t + "." + body)&gt;</c>.</item>
/// </list>
/// A 2xx answer is a delivery; anything else, no answer within <see cref="Timeout"/> or no connection is a failure
/// that the feed retries.
/// </summary>
internal sealed class WebhookHandler(AppCredentials app, WebhookOptions webhook, HttpClient http, TimeProvider clock)
    : IBanEventHandler
{
    public const string SignatureHeader = "X-BanActors-Signature";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly Uri _url = new(webhook.Url);
    private readonly byte[] _secret = Encoding.UTF8.GetBytes(webhook.Secret ?? app.AppSecret);

    public static string HandlerName(string appKey) => "webhook:" + appKey;

    public string Name => HandlerName(app.AppKey);

    public string? AppKey => app.AppKey;

    public async Task HandleAsync(BanEvent banEvent, CancellationToken cancellationToken)
    {
        var body = EventJson.Serialize(banEvent);
        var now = clock.GetUtcNow();
        var signTimestamp = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var seconds = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

        using var request = new HttpRequestMessage(HttpMethod.Post, WithQuery(_url, app.AppKey, nonce, signTimestamp, Sha1(nonce, signTimestamp)));
        request.Content = new ByteArrayContent(body);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(SignatureHeader, $"t={seconds},v1={Hmac(seconds, body)}");

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new WebhookDeliveryException($"no answer within {Timeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            throw new WebhookDeliveryException($"no connection: {ex.Message}", ex);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
                throw new WebhookDeliveryException($"answered HTTP {(int)response.StatusCode}");
        }
    }

    private string Sha1(string nonce, string signTimestamp)
    {
        var text = new byte[_secret.Length + Encoding.UTF8.GetByteCount(nonce + signTimestamp)];
        _secret.CopyTo(text, 0);
        Encoding.UTF8.GetBytes(nonce + signTimestamp, text.AsSpan(_secret.Length));
        return Convert.ToHexStringLower(SHA1.HashData(text));
    }

    private string Hmac(string seconds, byte[] body)
    {
        var prefix = Encoding.UTF8.GetBytes(seconds + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed, prefix.Length);
        return Convert.ToHexStringLower(HMACSHA256.HashData(_secret, signed));
    }

    private static Uri WithQuery(Uri url, string appKey, string nonce, string signTimestamp, string signature)
    {
        var query = $"appKey={Uri.EscapeDataString(appKey)}&nonce={nonce}&signTimestamp={signTimestamp}&signature={signature}";
        var builder = new UriBuilder(url) { Query = string.IsNullOrEmpty(url.Query) ? query : url.Query.TrimStart('?') + "&" + query };
        return builder.Uri;
    }

    public override string ToString() => $"{Name} → {webhook}";
}

/// <summary>A webhook delivery failed; the feed retries it.</summary>
internal sealed class WebhookDeliveryException : Exception
{
    public WebhookDeliveryException(string message) : base(message) { }

    public WebhookDeliveryException(string message, Exception inner) : base(message, inner) { }
}
