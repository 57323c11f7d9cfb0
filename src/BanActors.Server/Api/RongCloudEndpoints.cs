using System.Text;
using System.Threading.RateLimiting;
using BanActors.Hosting;
using BanActors.Server.Hosting;
using BanActors.Server.Security;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace BanActors.Server.Api;

/// <summary>Maps endpoints of the RongCloud-compatible server API.</summary>
public static class RongCloudEndpoints
{
    /// <summary>
    /// Maps a POST endpoint that checks the signature, resolves the app, applies the per App-Key and endpoint
    /// rate limit, caps and parses the form body, and maps engine failures to RongCloud errors
    /// (<see cref="BanEngineUnavailableException"/> → 1000/500, <see cref="BanRequestRejectedException"/> → 1002/400,
    /// <see cref="RongCloudRequestException"/> → its code) before and around <paramref name="handler"/>.
    /// </summary>
    public static RouteHandlerBuilder MapRongCloud(this IEndpointRouteBuilder app, string path,
        Func<RongCloudContext, Task<IResult>> handler)
    {
        var pipeline = app.ServiceProvider.GetService<RongCloudPipeline>()
            ?? throw new InvalidOperationException("Call builder.AddBanActorsServer() before mapping RongCloud endpoints");
        // A Func, not a RequestDelegate, so that the returned IResult is executed.
        return app.MapPost(path, (Func<HttpContext, Task<IResult>>)(http => pipeline.HandleAsync(http, path, handler)));
    }

    /// <summary>A GET endpoint through the same pipeline (signature in the headers, no body), e.g. a stream.</summary>
    internal static RouteHandlerBuilder MapRongCloudGet(this IEndpointRouteBuilder app, string path,
        Func<RongCloudContext, Task<IResult>> handler)
    {
        var pipeline = app.ServiceProvider.GetRequiredService<RongCloudPipeline>();
        return app.MapGet(path, (Func<HttpContext, Task<IResult>>)(http => pipeline.HandleAsync(http, path, handler)));
    }
}

/// <summary>The partition of the rate limiter: one window per app and endpoint.</summary>
public readonly record struct RateLimitPartitionKey(string AppKey, string Path);

/// <summary>Everything a RongCloud request goes through before and around its handler.</summary>
internal sealed class RongCloudPipeline(
    SignatureVerifier signatures,
    PartitionedRateLimiter<RateLimitPartitionKey> limiter,
    IOptions<BanActorsServerOptions> options,
    ILogger<RongCloudPipeline> logger)
{
    private const int DrainFactor = 16;

    private readonly long _maxBodyBytes = options.Value.Api.MaxBodyBytes;
    private readonly int _permitsPerSecond = options.Value.RateLimit.PermitsPerSecond;

    public async Task<IResult> HandleAsync(HttpContext http, string path, Func<RongCloudContext, Task<IResult>> handler)
    {
        var signature = signatures.Verify(http.Request.Headers);
        if (!signature.IsValid)
        {
            logger.LogInformation("Refused {Path} for App-Key {AppKey}: {Outcome}", path, signature.AppKey ?? "(unknown)", signature.Outcome);
            var code = signature.Outcome == SignatureOutcome.UnknownApp ? ErrorCodes.BadParameter : ErrorCodes.Unauthorized;
            return RongCloudResults.Error(code, signature.Detail, path);
        }
        var app = signature.App!;

        // After the signature check, so that requests forged with a public App-Key cannot spend the app's budget.
        using var lease = limiter.AttemptAcquire(new RateLimitPartitionKey(app.AppKey, path));
        if (!lease.IsAcquired)
        {
            logger.LogDebug("Rate limit of {AppKey} on {Path} exceeded", app.AppKey, path);
            http.Response.Headers.RetryAfter = "1";
            return RongCloudResults.Error(ErrorCodes.RateLimited,
                $"too many requests: at most {_permitsPerSecond} per second for this App-Key on this endpoint", path);
        }

        try
        {
            var form = await ReadFormAsync(http);
            return await handler(new RongCloudContext { App = app, Form = form, Path = path, Http = http });
        }
        catch (RongCloudRequestException ex)
        {
            return RongCloudResults.Error(ex.Code, ex.Message, path);
        }
        catch (BanRequestRejectedException ex)
        {
            return RongCloudResults.Error(ErrorCodes.BadParameter, ex.Message, path);
        }
        catch (BanEngineUnavailableException ex)
        {
            logger.LogWarning("{Path} for {AppKey} failed: the engine is unavailable ({Reason})", path, app.AppKey, ex.Message);
            return RongCloudResults.Error(ErrorCodes.Internal,
                "internal error: the change could not be confirmed as stored; retry later", path);
        }
        catch (Exception ex) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away (mid-body or before the answer): nobody to answer, nothing to report above debug.
            logger.LogDebug(ex, "{Path} for {AppKey}: the client closed the connection", path, app.AppKey);
            return Results.Empty;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "{Path} for {AppKey} failed", path, app.AppKey);
            return RongCloudResults.Error(ErrorCodes.Internal, "internal error", path);
        }
    }

    private async Task<IFormCollection> ReadFormAsync(HttpContext http)
    {
        var request = http.Request;
        var sizeLimit = http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature ? feature : null;
        if (request.ContentLength > _maxBodyBytes)
        {
            // Refused unread. A body up to a few times the cap is left for the server to discard after the answer,
            // so that the client, still sending, gets to read the 1005; a larger one gets its connection dropped.
            if (request.ContentLength > _maxBodyBytes * DrainFactor && sizeLimit is not null)
                sizeLimit.MaxRequestBodySize = _maxBodyBytes;
            throw BodyTooLarge();
        }
        // A body sent without Content-Length (chunked) is cut off at the cap while it is read.
        if (sizeLimit is not null) sizeLimit.MaxRequestBodySize = _maxBodyBytes;
        RefuseUnsupportedEncodings(request);
        if (request.ContentLength == 0 || http.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
            return FormCollection.Empty;

        try
        {
            if (string.IsNullOrEmpty(request.ContentType) || request.HasFormContentType && !IsMultipart(request))
            {
                // Lenient with clients that forget the Content-Type: the body can only be a form.
                return await ReadUrlEncodedAsync(request, http.RequestAborted);
            }
            if (request.HasFormContentType) return new ExactFormCollection(await request.ReadFormAsync(http.RequestAborted));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw BodyTooLarge();
        }
        catch (InvalidDataException ex) when (ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            throw new RongCloudRequestException(ErrorCodes.TooLong, "the form is too large: " + ex.Message);
        }
        catch (Exception ex) when (IsMalformedBody(ex) && !http.RequestAborted.IsCancellationRequested)
        {
            logger.LogDebug(ex, "The body of {Path} could not be read", request.Path);
            throw new RongCloudRequestException(ErrorCodes.BadParameter, "the body is not a well-formed form: " + ex.Message);
        }
        throw new RongCloudRequestException(ErrorCodes.BadParameter,
            "the body must be application/x-www-form-urlencoded");
    }

    /// <summary>
    /// A urlencoded body read pair by pair into a dictionary with exact (ordinal) names, like RongCloud's: the
    /// framework's form is case-insensitive, so <c>userid</c> would be taken for <c>userId</c>.
    /// </summary>
    private static async Task<IFormCollection> ReadUrlEncodedAsync(HttpRequest request, CancellationToken cancel)
    {
        var charset = request.ContentType is { } type && MediaTypeHeaderValue.TryParse(type, out var media)
            ? media.Charset.Value?.Trim('"') : null;
        if (!string.IsNullOrEmpty(charset) && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
            throw new RongCloudRequestException(ErrorCodes.BadParameter,
                $"charset {charset} is not supported: a form is UTF-8");
        var pairs = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        using var reader = new FormReader(request.Body, StrictUtf8);
        while (await reader.ReadNextPairAsync(cancel) is { } pair)
            pairs[pair.Key] = pairs.TryGetValue(pair.Key, out var values) ? StringValues.Concat(values, pair.Value) : pair.Value;
        return new FormCollection(pairs);
    }

    /// <summary>Bodies the server does not decode: a compressed body, or a transfer coding other than chunked.</summary>
    private static void RefuseUnsupportedEncodings(HttpRequest request)
    {
        foreach (var coding in request.Headers.ContentEncoding.SelectMany(SplitList))
            if (!coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
                throw new RongCloudRequestException(ErrorCodes.BadParameter, $"Content-Encoding {coding} is not supported");
        foreach (var coding in request.Headers.TransferEncoding.SelectMany(SplitList))
            if (!coding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
                throw new RongCloudRequestException(ErrorCodes.BadParameter, $"Transfer-Encoding {coding} is not supported");
    }

    private static IEnumerable<string> SplitList(string? header) =>
        (header ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsMultipart(HttpRequest request) =>
        request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>What a broken body throws while it is read: bad framing, bad multipart, bad encoding.</summary>
    private static bool IsMalformedBody(Exception ex) => ex is IOException or BadHttpRequestException or InvalidDataException
        or NotSupportedException or ArgumentException or DecoderFallbackException or FormatException or OverflowException;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private RongCloudRequestException BodyTooLarge() =>
        new(ErrorCodes.TooLong, $"the request body is larger than {_maxBodyBytes} bytes");
}
