namespace BanActors.Bans;

/// <summary>Timers on the engine's one clock (<see cref="TimeProvider"/>), so a test that moves the clock moves all of them.</summary>
internal static class ClockTimers
{
    // System.Threading timers cap near 49 days; a later due time is re-armed by whoever the timer wakes.
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(40);

    /// <summary>Fires <paramref name="fire"/> once at <paramref name="due"/>, or at once when it has passed.</summary>
    public static ITimer At(TimeProvider clock, DateTimeOffset due, Action fire) => After(clock, due - clock.GetUtcNow(), fire);

    /// <summary>Fires <paramref name="fire"/> once after <paramref name="delay"/>, clamped to [0, 40 days].</summary>
    public static ITimer After(TimeProvider clock, TimeSpan delay, Action fire)
    {
        if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
        if (delay > MaxDelay) delay = MaxDelay;
        return clock.CreateTimer(static state => ((Action)state!)(), fire, delay, Timeout.InfiniteTimeSpan);
    }
}
