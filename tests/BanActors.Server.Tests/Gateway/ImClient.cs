using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace BanActors.Server.Tests.Gateway;

/// <summary>What a client saw: a text frame (JSON), the server's close, or a dropped connection.</summary>
public sealed record ClientEvent(JsonElement? Frame, WebSocketCloseStatus? CloseStatus, string? CloseDescription,
    bool Dropped, long Timestamp)
{
    public string? Type => Frame?.GetProperty("type").GetString();

    public override string ToString() =>
        Frame is { } f ? f.GetRawText() : CloseStatus is { } s ? $"close {(int)s} {CloseDescription}" : "dropped";
}

/// <summary>
/// A real <see cref="ClientWebSocket"/> whose frames are read continuously into a queue (so pings are answered and
/// nothing is missed); every wait is bounded so a broken test fails instead of hanging.
/// </summary>
public sealed class ImClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly ClientWebSocket _socket;
    private readonly Channel<ClientEvent> _events = Channel.CreateUnbounded<ClientEvent>();
    private readonly Task _reading;

    private ImClient(ClientWebSocket socket)
    {
        _socket = socket;
        _reading = ReadAsync();
    }

    public WebSocketState State => _socket.State;

    public static async Task<ImClient> ConnectAsync(Uri baseUri, string token)
    {
        var socket = new ClientWebSocket();
        var uri = new UriBuilder(baseUri) { Scheme = "ws", Path = "/im/connect", Query = "token=" + Uri.EscapeDataString(token) }.Uri;
        using var timeout = new CancellationTokenSource(DefaultTimeout);
        await socket.ConnectAsync(uri, timeout.Token);
        return new ImClient(socket);
    }

    /// <summary>The next thing the client saw; fails after <paramref name="timeout"/>.</summary>
    public async Task<ClientEvent> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        try
        {
            return await _events.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no frame within {(timeout ?? DefaultTimeout).TotalSeconds} s");
        }
        catch (ChannelClosedException)
        {
            throw new Xunit.Sdk.XunitException("the connection ended without a further frame");
        }
    }

    /// <summary>The next event must be a frame of <paramref name="type"/>.</summary>
    public async Task<JsonElement> ExpectFrameAsync(string type)
    {
        var next = await NextAsync();
        Assert.True(next.Type == type, $"expected a '{type}' frame, got {next}");
        return next.Frame!.Value;
    }

    public async Task ExpectConnectedAsync(string userId)
    {
        var frame = await ExpectFrameAsync("connected");
        Assert.Equal(userId, frame.GetProperty("userId").GetString());
    }

    /// <summary>The next event must be a message frame with this text content; returns the frame.</summary>
    public async Task<JsonElement> ExpectMessageAsync(string text)
    {
        var frame = await ExpectFrameAsync("message");
        var content = JsonDocument.Parse(frame.GetProperty("content").GetString()!).RootElement;
        Assert.Equal(text, content.GetProperty("content").GetString());
        return frame;
    }

    /// <summary>The next event must be the server's close with <paramref name="status"/>.</summary>
    public async Task<ClientEvent> ExpectCloseAsync(int status)
    {
        var next = await NextAsync();
        Assert.True(next.CloseStatus is { } s && (int)s == status, $"expected close {status}, got {next}");
        return next;
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                using var message = new MemoryStream();
                WebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer, CancellationToken.None);
                    message.Write(buffer, 0, result.Count);
                } while (!result.EndOfMessage);
                var at = Stopwatch.GetTimestamp();
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    _events.Writer.TryWrite(new ClientEvent(null, result.CloseStatus, result.CloseStatusDescription, false, at));
                    // Complete the close handshake, as a well-behaved client does.
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        using var timeout = new CancellationTokenSource(DefaultTimeout);
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
                    }
                    return;
                }
                var json = JsonDocument.Parse(Encoding.UTF8.GetString(message.ToArray())).RootElement.Clone();
                _events.Writer.TryWrite(new ClientEvent(json, null, null, false, at));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _events.Writer.TryWrite(new ClientEvent(null, null, ex.Message, true, Stopwatch.GetTimestamp()));
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    /// <summary>Leaves like a client app does: a normal close, waiting for the server's answer.</summary>
    public async Task CloseAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(DefaultTimeout);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
            catch (WebSocketException)
            {
                // Already closing from the server's side.
            }
        }
        await _reading.WaitAsync(DefaultTimeout);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await CloseAsync();
        }
        catch (Exception ex) when (ex is TimeoutException or WebSocketException)
        {
            _socket.Abort();
        }
        _socket.Dispose();
    }
}
