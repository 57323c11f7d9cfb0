using System.Net.WebSockets;
using System.Threading.Channels;
using BanActors.Bans;
using BanActors.Messaging;
using BanActors.Sessions;

namespace BanActors.Server.Gateway;

/// <summary>
/// One client connection on <c>/im/connect</c>, registered with the engine's connection registry. A single send
/// loop writes every frame: <c>connected</c>, then the kept messages, then live messages as they are queued.
/// <see cref="Kick"/> and <see cref="TryDeliver"/> are called from the registry actor and only signal that loop.
/// </summary>
internal sealed partial class WebSocketSession : IBanSession
{
    private sealed record KickRequest(int Code, string Reason, DateTimeOffset? Until = null, string? BanReason = null);

    private readonly WebSocket _socket;
    private readonly MessageDelivery _delivery;
    private readonly GatewayOptions _options;
    private readonly ILogger _log;
    // A null item only wakes the loop to load kept messages (the flag says so even when the queue was full).
    private readonly Channel<UserMessage?> _queue;
    // Cancelled when the loop must stop waiting: kicked, or the client is gone.
    private readonly CancellationTokenSource _wake = new();
    private KickRequest? _kick;
    private int _keptRequested;
    private volatile bool _clientGone;
    private volatile bool _serverStopping;
    private readonly List<UserMessage> _notWritten = [];

    public WebSocketSession(UserKey user, WebSocket socket, MessageDelivery delivery, GatewayOptions options, ILogger log)
    {
        User = user;
        _socket = socket;
        _delivery = delivery;
        _options = options;
        _log = log;
        _queue = Channel.CreateBounded<UserMessage?>(new BoundedChannelOptions(options.SendQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public UserKey User { get; }

    public string SessionId { get; } = Guid.NewGuid().ToString("N");

    public void Kick(int code, string reason) => Kick(new KickRequest(code, reason));

    public void KickBanned(DateTimeOffset until, string? banReason) =>
        Kick(new KickRequest(ConnectionCodes.UserBlocked, ConnectionCodes.UserBlockedReason, until,
            _options.ShowBanReason ? banReason : null));

    private void Kick(KickRequest request)
    {
        if (Interlocked.CompareExchange(ref _kick, request, null) is not null) return;
        _queue.Writer.TryComplete();
        // CancelAsync runs the loop's continuation on the thread pool, never on the registry actor's thread.
        _ = _wake.CancelAsync();
    }

    public bool TryDeliver(UserMessage message) => Volatile.Read(ref _kick) is null && _queue.Writer.TryWrite(message);

    public void NotifyKeptMessages()
    {
        Interlocked.Exchange(ref _keptRequested, 1);
        _queue.Writer.TryWrite(null);
    }

    /// <summary>The server is stopping: close with 1001 (going away) now rather than when the host gives up waiting.</summary>
    public void Shutdown()
    {
        _serverStopping = true;
        _queue.Writer.TryComplete();
        _ = _wake.CancelAsync();
    }

    /// <summary>Runs the session until the client leaves, the connection drops or the user is kicked.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        var receiving = ReceiveUntilClosedAsync(aborted);
        try
        {
            if (Volatile.Read(ref _kick) is { } early)
            {
                // Banned between admission and this point: to the client this is a refused connect.
                await SendAsync(GatewayFrames.Refused(early.Code, early.Reason, early.Until, early.BanReason));
                await CloseAsync(GatewayFrames.CloseStatusFor(early.Code), early.Reason);
            }
            else
            {
                await SendAsync(GatewayFrames.Connected(User.UserId));
                Interlocked.Exchange(ref _keptRequested, 1);
                await PumpAsync();
                if (Volatile.Read(ref _kick) is { } kick)
                {
                    await SendAsync(GatewayFrames.Kicked(kick.Code, kick.Reason, kick.Until, kick.BanReason));
                    await CloseAsync(GatewayFrames.CloseStatusFor(kick.Code), kick.Reason);
                    LogKicked(_log, User, SessionId);
                }
                else if (_socket.State == WebSocketState.CloseReceived)
                {
                    await CloseAsync(WebSocketCloseStatus.NormalClosure, "");
                }
                else if (_serverStopping && _socket.State == WebSocketState.Open)
                {
                    await CloseAsync(WebSocketCloseStatus.EndpointUnavailable, "SERVER_SHUTDOWN");
                }
            }
            // Wait for the client's answer to our close frame; a client that never answers is dropped.
            await receiving.WaitAsync(_options.CloseTimeout, aborted);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException or IOException)
        {
            LogConnectionLost(_log, User, SessionId, ex.Message);
        }
        catch (Exception ex)
        {
            // E.g. the offline store failed while kept messages were loaded: drop the connection, keep the rest.
            LogSessionFailed(_log, ex, User, SessionId);
        }
        finally
        {
            await EndAsync(receiving);
        }
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            if (Volatile.Read(ref _kick) is not null || _clientGone || _serverStopping) return;
            if (Interlocked.Exchange(ref _keptRequested, 0) == 1)
                await _delivery.DeliverKeptAsync(User, WriteKeptAsync);
            if (_queue.Reader.TryRead(out var item))
            {
                // Re-checked per message: a kick must not wait behind a backlog.
                if (item is not null && Volatile.Read(ref _kick) is null) await SendAsync(GatewayFrames.Message(item));
                else if (item is not null) KeepLater(item);
                continue;
            }
            try
            {
                if (!await _queue.Reader.WaitToReadAsync(_wake.Token)) return;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async ValueTask<bool> WriteKeptAsync(UserMessage message, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _kick) is not null || _clientGone || _serverStopping) return false;
        await SendAsync(GatewayFrames.Message(message));
        return true;
    }

    private void KeepLater(UserMessage message) => _notWritten.Add(message);

    private async Task SendAsync(byte[] frame)
    {
        // A client that stops reading must not hold the loop (and a kick) forever; cancelling aborts the socket.
        using var timeout = new CancellationTokenSource(_options.SendTimeout);
        await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    private async Task CloseAsync(WebSocketCloseStatus status, string reason)
    {
        using var timeout = new CancellationTokenSource(_options.CloseTimeout);
        await _socket.CloseOutputAsync(status, reason, timeout.Token);
    }

    private async Task ReceiveUntilClosedAsync(CancellationToken aborted)
    {
        // Clients send nothing the server acts on yet; reading is how a close or a dead connection is noticed
        // (the keep-alive pings abort the socket when the client stops answering).
        var buffer = new byte[1024];
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, aborted);
                if (result.MessageType == WebSocketMessageType.Close) return;
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            LogConnectionLost(_log, User, SessionId, ex.Message);
        }
        finally
        {
            _clientGone = true;
            _queue.Writer.TryComplete();
            await _wake.CancelAsync();
        }
    }

    private async Task EndAsync(Task receiving)
    {
        // From here on TryDeliver fails, so publishers keep new messages themselves.
        _queue.Writer.TryComplete();
        if (_socket.State is not (WebSocketState.Closed or WebSocketState.Aborted)) _socket.Abort();
        await receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        while (_queue.Reader.TryRead(out var item))
        {
            if (item is not null) _notWritten.Add(item);
        }
        if (_notWritten.Count == 0) return;
        try
        {
            await _delivery.KeepUndeliveredAsync(_notWritten);
        }
        catch (Exception ex)
        {
            LogKeepFailed(_log, ex, _notWritten.Count, User);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of {User} kicked")]
    private static partial void LogKicked(ILogger log, UserKey user, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Connection of {User} (session {SessionId}) ended: {Reason}")]
    private static partial void LogConnectionLost(ILogger log, UserKey user, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId} of {User} failed")]
    private static partial void LogSessionFailed(ILogger log, Exception ex, UserKey user, string sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} queued messages for {User} could not be kept")]
    private static partial void LogKeepFailed(ILogger log, Exception ex, int count, UserKey user);
}
