using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace BanActors.Tests.Support;

/// <summary>An event handler that keeps what it took, and fails on demand (a receiver that is down).</summary>
internal sealed class RecordingHandler(string name = "recorder", string? appKey = null) : IBanEventHandler
{
    private readonly ConcurrentQueue<BanEvent> _taken = new();
    private int _failures;

    public string Name => name;

    public string? AppKey => appKey;

    /// <summary>Events for which this returns true fail (thrown at the feed), the others are taken.</summary>
    public Func<BanEvent, bool> Fails { get; set; } = _ => false;

    public IReadOnlyList<BanEvent> Taken => _taken.ToList();

    public int Failures => Volatile.Read(ref _failures);

    public Task HandleAsync(BanEvent banEvent, CancellationToken cancellationToken)
    {
        if (Fails(banEvent))
        {
            Interlocked.Increment(ref _failures);
            throw new InvalidOperationException("the receiver is down");
        }
        _taken.Enqueue(banEvent);
        return Task.CompletedTask;
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
