using System.Threading.Channels;
using BanActors.Server.Api;

namespace BanActors.Server.Events;

/// <summary>
/// The event feed over HTTP, signed like the rest of the API: <c>GET /events/stream</c> (Server-Sent Events, resumable
/// with <c>Last-Event-ID</c>), and the app's webhook dead letters: <c>/events/deadletters.json</c> and
/// <c>/events/deadletters/replay.json</c>.
/// </summary>
internal static class EventEndpoints
{
    public const string StreamPath = "/events/stream";
    public const string LastEventIdHeader = "Last-Event-ID";

    /// <summary>A comment line this often keeps proxies from closing an idle stream.</summary>
    internal static TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(15);

    public static IEndpointRouteBuilder MapEventEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapRongCloudGet(StreamPath, StreamAsync);
        app.MapRongCloud("/events/deadletters.json", DeadLettersAsync);
        app.MapRongCloud("/events/deadletters/replay.json", ReplayAsync);
        return app;
    }

    private static async Task<IResult> StreamAsync(RongCloudContext context)
    {
        await WriteStreamAsync(context.Http, context.App.AppKey, LastEventId(context.Http.Request));
        return Results.Empty;
    }

    /// <summary>
    /// Answers with the Server-Sent Events of <paramref name="appKey"/> after <paramref name="after"/> (null: from now),
    /// with a keep-alive comment while none comes, until the client goes. Also the console's live feed.
    /// </summary>
    internal static async Task WriteStreamAsync(HttpContext http, string appKey, string? after)
    {
        var feed = http.RequestServices.GetRequiredService<IBanEventFeed>();
        var aborted = http.RequestAborted;
        // No Last-Event-ID: from now, fixed before the stream is answered, so nothing recorded after the 200 is missed.
        after ??= await feed.GetPositionAsync(aborted);
        var logger = http.RequestServices.GetRequiredService<ILogger<IBanEventFeed>>();
        // Ends the read-ahead when the client goes or the writing fails.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);

        // Read ahead into a channel, so that the writer below can send a keep-alive while no event comes.
        var events = Channel.CreateBounded<BanEvent>(new BoundedChannelOptions(1000) { SingleReader = true, SingleWriter = true });
        await using var enumerator = feed.ReadAsync(appKey, after, stop.Token).GetAsyncEnumerator(stop.Token);
        // The first read checks the offset and the storage before the stream is answered with 200.
        var first = enumerator.MoveNextAsync().AsTask();
        await Task.WhenAny(first, Task.Delay(TimeSpan.FromMilliseconds(200), aborted));
        if (first.IsCompleted) await first;

        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.WriteAsync("retry: 2000\n\n", aborted);
        await response.Body.FlushAsync(aborted);

        var reader = Task.Run(async () =>
        {
            try
            {
                if (await first)
                {
                    await events.Writer.WriteAsync(enumerator.Current, stop.Token);
                    while (await enumerator.MoveNextAsync()) await events.Writer.WriteAsync(enumerator.Current, stop.Token);
                }
                events.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                events.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);

        try
        {
            while (!aborted.IsCancellationRequested)
            {
                using var idle = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                idle.CancelAfter(KeepAlive);
                bool more;
                try
                {
                    more = await events.Reader.WaitToReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
                {
                    await response.WriteAsync(": keep-alive\n\n", aborted);
                    await response.Body.FlushAsync(aborted);
                    continue;
                }
                if (!more) break;
                while (events.Reader.TryRead(out var e))
                {
                    await response.WriteAsync($"id: {e.Id}\nevent: {e.Type}\ndata: ", aborted);
                    await response.Body.WriteAsync(EventJson.Serialize(e), aborted);
                    await response.WriteAsync("\n\n", aborted);
                }
                await response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The answer has started: the client sees the stream end and reconnects with its Last-Event-ID.
            logger.LogWarning(ex, "The event stream of {AppKey} ended", appKey);
        }
        await stop.CancelAsync();
        await reader;
    }

    /// <summary>The stream's <c>Last-Event-ID</c> header: null when absent; a bad one is refused with 1002.</summary>
    internal static string? LastEventId(HttpRequest request)
    {
        var values = request.Headers[LastEventIdHeader];
        if (values.Count > 1) throw new RongCloudRequestException(ErrorCodes.BadParameter, $"{LastEventIdHeader} must be given once");
        var id = values.Count == 1 ? values[0] : null;
        if (string.IsNullOrEmpty(id)) return null;
        if (id.Length > 19 || !id.AsSpan().ContainsOnlyDigits())
            throw new RongCloudRequestException(ErrorCodes.BadParameter, $"{LastEventIdHeader} must be the id of an event");
        return id;
    }

    private static async Task<IResult> DeadLettersAsync(RongCloudContext context)
    {
        var size = context.OptionalInt("size", 1, BanRules.MaxLogPageSize) ?? 100;
        var feed = context.Http.RequestServices.GetRequiredService<IBanEventFeed>();
        var letters = await feed.GetDeadLettersAsync(WebhookHandler.HandlerName(context.App.AppKey), size, context.Aborted);
        return RongCloudResults.Ok(new
        {
            deadLetters = letters.Select(l => new
            {
                @event = EventJson.Of(l.Event),
                attempts = l.Attempts,
                error = l.Error,
                deadTime = l.DeadSince.ToUnixTimeMilliseconds(),
            }),
        });
    }

    private static async Task<IResult> ReplayAsync(RongCloudContext context)
    {
        var ids = context.Form["id"];
        if (ids.Count > BanRules.MaxLogPageSize)
            throw new RongCloudRequestException(ErrorCodes.TooLong, $"too many id values: at most {BanRules.MaxLogPageSize}");
        var list = new List<string>(ids.Count);
        foreach (var id in ids.OfType<string>())
        {
            if (string.IsNullOrEmpty(id) || id.Length > 19 || !id.AsSpan().ContainsOnlyDigits())
                throw new RongCloudRequestException(ErrorCodes.BadParameter, "id must be the id of an event");
            list.Add(id);
        }
        var feed = context.Http.RequestServices.GetRequiredService<IBanEventFeed>();
        var replayed = await feed.ReplayDeadLettersAsync(WebhookHandler.HandlerName(context.App.AppKey),
            list.Count == 0 ? null : list, context.Aborted);
        return RongCloudResults.Ok(new { replayed });
    }
}
