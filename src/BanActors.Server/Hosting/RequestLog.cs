using System.Diagnostics;

namespace BanActors.Server.Hosting;

/// <summary>
/// The server's access log, in place of ASP.NET Core's "Request starting/finished" lines, which print the whole URL:
/// the gateway's <c>/im/connect?token=...</c> would put every user's IM token in the log. This one logs the method,
/// the path (never the query string), the status and the time, at Debug in <c>BanActors.Server.Requests</c>.
/// </summary>
internal static partial class RequestLog
{
    public const string Category = "BanActors.Server.Requests";

    /// <summary>Silences the framework's URL-printing request lines (a host that configures that exact category still can).</summary>
    public static ILoggingBuilder WithoutUrlLogging(this ILoggingBuilder logging) =>
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);

    public static IApplicationBuilder UseRequestLog(this IApplicationBuilder app)
    {
        var log = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(Category);
        return app.Use(async (http, next) =>
        {
            if (!log.IsEnabled(LogLevel.Debug))
            {
                await next(http);
                return;
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(http);
            }
            finally
            {
                Answered(log, http.Request.Method, http.Request.Path, http.Response.StatusCode,
                    Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        });
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Method} {Path} answered {StatusCode} in {ElapsedMilliseconds:0.0} ms")]
    private static partial void Answered(ILogger logger, string method, string path, int statusCode, double elapsedMilliseconds);
}
