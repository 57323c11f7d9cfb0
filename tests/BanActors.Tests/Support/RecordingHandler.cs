using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Tests.Support;

/// <summary>One event taken, and the node whose handler took it.</summary>
internal sealed record Delivery(string Node, BanEvent Event);

/// <summary>An event handler that keeps what it took, and fails on demand (a receiver that is down).</summary>
internal sealed class RecordingHandler(string name = "recorder", string? appKey = null) : IBanEventHandler
{
    private readonly ConcurrentQueue<BanEvent> _taken = new();
    private int _failures;

    public string Name => name;

    public string? AppKey => appKey;

    /// <summary>Events for which this returns true fail (thrown at the feed), the others are taken.</summary>
    public Func<BanEvent, bool> Fails { get; set; } = _ => false;

    /// <summary>
    /// Awaited before each event is taken (a receiver that is slow, or never answers); cancelled with the delivery.
    /// </summary>
    public Func<BanEvent, CancellationToken, Task>? Before { get; set; }

    /// <summary>
    /// Where every taken event is also logged with <see cref="Node"/>: one log shared by the handlers of a cluster's
    /// nodes (same <see cref="Name"/> on each, as DI registers them) tells which node delivered.
    /// </summary>
    public ConcurrentQueue<Delivery>? Log { get; init; }

    public string Node { get; init; } = "";

    public IReadOnlyList<BanEvent> Taken => _taken.ToList();

    public int Failures => Volatile.Read(ref _failures);

    public async Task HandleAsync(BanEvent banEvent, CancellationToken cancellationToken)
    {
        if (Before is { } before) await before(banEvent, cancellationToken);
        if (Fails(banEvent))
        {
            Interlocked.Increment(ref _failures);
            throw new InvalidOperationException("the receiver is down");
        }
        _taken.Enqueue(banEvent);
        Log?.Enqueue(new Delivery(Node, banEvent));
    }

    /// <summary>Waits (bounded, for the feed's I/O, not for a timer) until <paramref name="done"/> holds.</summary>
    public static async Task EventuallyAsync(Func<bool> done, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!done())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"not within {seconds} s: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Moves the engine's clock by <paramref name="step"/> until <paramref name="done"/> holds (bounded).</summary>
    public static async Task AdvanceUntilAsync(FakeTimeProvider clock, TimeSpan step, Func<bool> done, string what, int steps = 500)
    {
        for (var i = 0; i < steps && !done(); i++)
        {
            clock.Advance(step);
            await Task.Delay(20);
        }
        if (!done()) throw new TimeoutException($"not after {steps} steps of {step}: {what}");
    }
}
