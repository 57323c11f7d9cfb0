using BanActors.Sessions;

namespace BanActors.Tests.Support;

/// <summary>A session that records the kick it received, standing in for a client connection.</summary>
public sealed class RecordingSession(string sessionId) : IBanSession
{
    private readonly TaskCompletionSource<(int Code, string Reason)> _kicked =
        new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string SessionId { get; } = sessionId;

    public bool WasKicked => _kicked.Task.IsCompleted;

    public Task<(int Code, string Reason)> Kicked => _kicked.Task;

    public void Kick(int code, string reason) => _kicked.TrySetResult((code, reason));
}
