using System.Net;
using System.Text.Json;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests.Events;

/// <summary>
/// <c>GET /events/stream</c> on a real Kestrel: Server-Sent Events of one app, signed like the API, whose <c>id:</c>
/// resumes with <c>Last-Event-ID</c> right after that event and nothing before it.
/// </summary>
public sealed class StreamSpecs
{
    private static readonly TestApp Mine = new("streamer", "secret-streamer");
    private static readonly TestApp Theirs = new("streamother", "secret-streamother");

    private sealed record Frame(string Id, string Event, JsonElement Data);

    [Fact]
    public async Task Without_a_signature_the_stream_is_refused_with_401_and_1004_and_a_bad_last_event_id_with_1002()
    {
        await using var server = await ServerHost.StartAsync([Mine]);
        using var unsigned = await server.Http.GetAsync("/events/stream");
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);
        Assert.Equal(1004, JsonDocument.Parse(await unsigned.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/events/stream");
        server.Client(Mine).Sign(request, Signing.Default);
        request.Headers.TryAddWithoutValidation("Last-Event-ID", "12x");
        using var bad = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal(1002, JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task The_stream_carries_the_apps_events_live_and_resumes_after_the_last_event_id_without_replaying_before_it()
    {
        await using var server = await ServerHost.StartAsync([Mine, Theirs]);
        var client = server.Client(Mine);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await using (var live = await OpenAsync(server, Mine, null, timeout.Token))
        {
            await client.PostAsync("/user/block.json", ("userId", "u1"), ("minute", "10"), ("reason", "spam"));
            await server.Client(Theirs).PostAsync("/user/block.json", ("userId", "u1"), ("minute", "10"));
            await client.PostAsync("/user/unblock.json", ("userId", "u1"));
            var frames = await live.ReadAsync(2, timeout.Token);
            Assert.Equal(["user.blocked", "user.unblocked"], frames.Select(f => f.Event));
            Assert.All(frames, f => Assert.Equal(f.Id, f.Data.GetProperty("id").GetString()));
            Assert.All(frames, f => Assert.Equal("streamer", f.Data.GetProperty("appKey").GetString()));
            Assert.Equal("spam", frames[0].Data.GetProperty("reason").GetString());

            await client.PostAsync("/user/block.json", ("userId", "u2"), ("minute", "5"));
            var third = (await live.ReadAsync(1, timeout.Token)).Single();
            Assert.Equal("u2", third.Data.GetProperty("userId").GetString());

            // Resumed after the first event: the second and third, nothing before.
            await using var resumed = await OpenAsync(server, Mine, frames[0].Id, timeout.Token);
            var again = await resumed.ReadAsync(2, timeout.Token);
            Assert.Equal([frames[1].Id, third.Id], again.Select(f => f.Id));
        }
    }

    private static async Task<SseReader> OpenAsync(ServerHost server, TestApp app, string? lastEventId, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/events/stream");
        server.Client(app).Sign(request, Signing.Default);
        if (lastEventId is not null) request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        var response = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/event-stream", response.Content.Headers.ContentType?.ToString());
        return new SseReader(response, new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken)));
    }

    /// <summary>Reads SSE frames (<c>id:</c>, <c>event:</c>, <c>data:</c>, blank line), skipping comments and <c>retry:</c>.</summary>
    private sealed class SseReader(HttpResponseMessage response, StreamReader reader) : IAsyncDisposable
    {
        public async Task<List<Frame>> ReadAsync(int count, CancellationToken cancellationToken)
        {
            var frames = new List<Frame>();
            string? id = null, type = null, data = null;
            while (frames.Count < count)
            {
                var line = await reader.ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException("the stream ended");
                if (line.Length == 0)
                {
                    if (data is not null) frames.Add(new Frame(id!, type!, JsonDocument.Parse(data).RootElement));
                    id = type = data = null;
                }
                else if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
                else if (line.StartsWith("event: ", StringComparison.Ordinal)) type = line[7..];
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) data = line[6..];
            }
            return frames;
        }

        public ValueTask DisposeAsync()
        {
            reader.Dispose();
            response.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
