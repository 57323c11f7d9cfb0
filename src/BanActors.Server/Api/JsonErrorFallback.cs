using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;

namespace BanActors.Server.Api;

/// <summary>
/// The last word on every answer: whatever the framework would send without a body (no route: 404, wrong method:
/// 405, a request Kestrel or a handler refused) or as a bare 500 (an unhandled exception) goes out as the API's JSON
/// error shape with a code, so that a RongCloud SDK always reads a code and never fails over on a bare status.
/// </summary>
internal static class JsonErrorFallback
{
    /// <summary>Adds the fallback first in the pipeline, so that it sees every answer and every exception.</summary>
    public static IApplicationBuilder UseJsonErrorFallback(this IApplicationBuilder app) =>
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (Exception ex) when (!http.Response.HasStarted)
            {
                if (http.RequestAborted.IsCancellationRequested) return;
                var (code, message) = ex is BadHttpRequestException bad && bad.StatusCode < 500
                    ? (bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? ErrorCodes.TooLong : ErrorCodes.BadParameter, bad.Message)
                    : (ErrorCodes.Internal, "internal error");
                if (code == ErrorCodes.Internal)
                    http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(JsonErrorFallback).FullName!)
                        .LogError(ex, "{Method} {Path} failed", http.Request.Method, http.Request.Path);
                http.Response.Clear();
                await WriteAsync(http, code, message, ErrorCodes.HttpStatus(code));
                return;
            }
            if (http.Response.HasStarted || http.Response.ContentLength is not null || http.Response.ContentType is not null) return;
            if (http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } && http.WebSockets.IsWebSocketRequest) return;
            var status = http.Response.StatusCode;
            switch (status)
            {
                case StatusCodes.Status404NotFound:
                    await WriteAsync(http, ErrorCodes.NotFound, $"no such endpoint: {http.Request.Method} {http.Request.Path}", status);
                    break;
                case StatusCodes.Status405MethodNotAllowed:
                    var allow = http.Response.Headers.Allow.ToString();
                    await WriteAsync(http, ErrorCodes.MethodNotAllowed,
                        $"{http.Request.Method} is not allowed here" + (allow.Length > 0 ? $"; use {allow}" : ""), status);
                    break;
                // The console answers its own 401/403 (its page reads the status); elsewhere a bodiless 4xx gets a code.
                case >= 400 and < 500 when !http.Request.Path.StartsWithSegments("/console"):
                    await WriteAsync(http, status switch
                    {
                        StatusCodes.Status401Unauthorized => ErrorCodes.Unauthorized,
                        StatusCodes.Status403Forbidden => ErrorCodes.Forbidden,
                        StatusCodes.Status413PayloadTooLarge => ErrorCodes.TooLong,
                        StatusCodes.Status429TooManyRequests => ErrorCodes.RateLimited,
                        _ => ErrorCodes.BadParameter,
                    }, "the request was refused", status);
                    break;
            }
        });

    private static Task WriteAsync(HttpContext http, int code, string message, int status)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = RongCloudResults.ContentType;
        return http.Response.WriteAsync(JsonSerializer.Serialize(
            new { code, errorMessage = message, url = http.Request.Path.ToString() }, RongCloudResults.JsonOptions));
    }
}
