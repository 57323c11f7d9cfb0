using Akka.Actor;
using BanActors.Bans;

namespace BanActors.Bench.Infra;

/// <summary>Calls back for every <see cref="BanEnded"/> on the event stream: an unban that has been persisted.</summary>
internal sealed class EndedObserver(Action<BanEnded> onEnded) : UntypedActor
{
    protected override void PreStart() => Context.System.EventStream.Subscribe(Self, typeof(BanEnded));

    protected override void OnReceive(object message)
    {
        if (message is BanEnded e) onEnded(e);
    }
}
