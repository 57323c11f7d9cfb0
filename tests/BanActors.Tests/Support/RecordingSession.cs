using System.Collections.Concurrent;
using BanActors.Sessions;

namespace BanActors.Tests.Support;

/// <summary>
/// A session that records the kick it received and the messages written to it, standing in for a client connection.
/// Like the gateway's session, it takes live messages until it is kicked.
/// </summary>
public sealed class RecordingSession(string sessionId) : IBanSession
{
    private readonly TaskCompletionSource<(int Code, string Reason)> _kicked =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<UserMessage> _delivered = new();

    public string SessionId { get; } = sessionId;

    public bool WasKicked => _kicked.Task.IsCompleted;

    public Task<(int Code, string Reason)> Kicked => _kicked.Task;

    /// <summary>Every message written to this session, live or kept, in the order it was written.</summary>
    public IReadOnlyList<UserMessage> Delivered => _delivered.ToList();

    public void Kick(int code, string reason) => _kicked.TrySetResult((code, reason));

    public bool TryDeliver(UserMessage message)
    {
        if (WasKicked) return false;
        _delivered.Enqueue(message);
        return true;
    }
}
