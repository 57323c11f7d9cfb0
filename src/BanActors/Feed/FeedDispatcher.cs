using Akka.Actor;
using Akka.Event;
using BanActors.Storage;

namespace BanActors.Feed;

/// <summary>
/// Runs the engine's event handlers (one <see cref="FeedConsumer"/> each) for as long as it lives: one per engine,
/// a cluster singleton in a cluster, so one node at a time delivers and the next resumes from the stored offsets.
/// </summary>
internal sealed class FeedDispatcher : UntypedActor
{
    private readonly IReadOnlyList<IBanEventHandler> _handlers;
    private readonly FeedStore _store;
    private readonly TimeProvider _clock;
    private readonly FeedSettings _settings;
    private readonly CancellationTokenSource _stop = new();

    public FeedDispatcher(IReadOnlyList<IBanEventHandler> handlers, FeedStore store, TimeProvider clock, FeedSettings settings)
    {
        _handlers = handlers;
        _store = store;
        _clock = clock;
        _settings = settings;
    }

    public static Props Props(IReadOnlyList<IBanEventHandler> handlers, FeedStore store, TimeProvider clock, FeedSettings settings) =>
        Akka.Actor.Props.Create(() => new FeedDispatcher(handlers, store, clock, settings));

    protected override void PreStart()
    {
        var log = Context.GetLogger();
        var signal = LedgerSignal.For(Context.System);
        foreach (var handler in _handlers)
        {
            var consumer = new FeedConsumer(handler, _store, signal, _clock, _settings, log);
            _ = Task.Run(() => consumer.RunAsync(_stop.Token));
        }
    }

    protected override void PostStop()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    protected override void OnReceive(object message) => Unhandled(message);
}
