using Akka.Actor;

namespace BanActors.Storage;

/// <summary>
/// How this node's journal writes went lately, per actor system (an Akka extension): a health check that only probes
/// the store can miss a fault that makes real writes fail (a full disk lets a probe take the write lock and roll
/// back), so <c>/healthz</c> also reports unhealthy while the last write failed, for at most <see cref="Window"/>
/// after it (real time: the engine's clock may be a test's).
/// </summary>
internal sealed class JournalWriteMonitor : IExtension
{
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(30);

    private long _lastSuccess;
    private long _lastFailure;
    private string? _lastError;

    public static JournalWriteMonitor Get(ActorSystem system) => system.WithExtension<JournalWriteMonitor, Provider>();

    public void Succeeded() => Interlocked.Exchange(ref _lastSuccess, Environment.TickCount64);

    public void Failed(Exception cause)
    {
        _lastError = cause.GetType().Name + ": " + cause.Message;
        Interlocked.Exchange(ref _lastFailure, Environment.TickCount64);
    }

    /// <summary>Why writes are failing now, or null: the last write failed, within the window, with no success since.</summary>
    public string? Failing
    {
        get
        {
            var failure = Interlocked.Read(ref _lastFailure);
            if (failure == 0 || failure <= Interlocked.Read(ref _lastSuccess)) return null;
            return Environment.TickCount64 - failure < Window.TotalMilliseconds ? _lastError : null;
        }
    }

    private sealed class Provider : ExtensionIdProvider<JournalWriteMonitor>
    {
        public override JournalWriteMonitor CreateExtension(ExtendedActorSystem system) => new();
    }
}
