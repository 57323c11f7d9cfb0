using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using BanActors;

namespace ImBackend;

/// <summary>The backend's live connections, by session id.</summary>
public sealed class ChatSessions
{
    /// <summary>This backend is one app for the engine; a multi-tenant backend would use its tenant id.</summary>
    public const string AppKey = "imbackend";

    private readonly ConcurrentDictionary<string, ChatSession> _sessions = new();

    public static UserKey Key(string user) => new(AppKey, user);

    public void Add(ChatSession session) => _sessions[session.SessionId] = session;

    public void Remove(ChatSession session) => _sessions.TryRemove(session.SessionId, out _);

    public IEnumerable<object> List() => _sessions.Values.Select(s => new { user = s.User, sessionId = s.SessionId });
}

/// <summary>
/// One client's WebSocket. The engine calls <see cref="Kick"/> or <see cref="KickBanned"/> from its registry actor, so
/// they only signal <see cref="RunAsync"/>, which sends the <c>kicked</c> frame and closes the socket.
/// </summary>
public sealed class ChatSession(string user, WebSocket socket) : IBanSession
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly TaskCompletionSource<object> _kicked = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string User { get; } = user;

    public string SessionId { get; } = Guid.NewGuid().ToString("N");

    public void Kick(int code, string reason) => _kicked.TrySetResult(new { type = "kicked", code, reason });

    public void KickBanned(DateTimeOffset until, string? banReason) =>
        _kicked.TrySetResult(new { type = "kicked", code = ConnectionCodes.UserBlocked, reason = ConnectionCodes.UserBlockedReason, until, banReason });

    /// <summary>Runs the connection until the client leaves or the engine kicks it.</summary>
    public async Task RunAsync(CancellationToken aborted)
    {
        await SendAsync(new { type = "connected", user = User, sessionId = SessionId }, aborted);
        var receiving = ReceiveUntilClosedAsync(aborted);
        if (await Task.WhenAny(receiving, _kicked.Task) == _kicked.Task)
        {
            await SendAsync(await _kicked.Task, aborted);
            await socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, ConnectionCodes.UserBlockedReason, aborted);
        }
        try
        {
            await receiving.WaitAsync(TimeSpan.FromSeconds(5), aborted);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException or WebSocketException)
        {
            // The client did not answer the close frame; the connection is dropped with the request.
        }
    }

    /// <summary>The engine refused the connection (the user is banned, or the engine is unavailable).</summary>
    public async Task RefuseAsync(SessionRefused refused)
    {
        await SendAsync(new { type = "refused", code = refused.Code, reason = refused.Reason, until = refused.BanUntil }, CancellationToken.None);
        await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, refused.Reason, CancellationToken.None);
    }

    private Task SendAsync(object frame, CancellationToken cancellationToken) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame, Json), WebSocketMessageType.Text, true, cancellationToken);

    // A real backend would route the client's chat messages here; the sample only waits for the close.
    private async Task ReceiveUntilClosedAsync(CancellationToken aborted)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer, aborted);
                if (result.MessageType != WebSocketMessageType.Close) continue;
                if (socket.State == WebSocketState.CloseReceived)
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", aborted);
                return;
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The connection dropped.
        }
    }
}
