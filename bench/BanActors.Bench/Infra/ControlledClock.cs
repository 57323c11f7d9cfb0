using System.Collections.Concurrent;

namespace BanActors.Bench.Infra;

/// <summary>
/// A real-time clock that the bench can freeze and then move forward, with the engine's timers following
/// the move. Used for unban timeliness: every ban is made while the clock is frozen (so all end at the same
/// instant, a minute later), then the clock jumps to two seconds before that end and runs on in real time.
/// The engine's timers (created through this provider) are re-armed on each jump, so they fire when the
/// clock reaches their due time, exactly as with a wall clock that had simply run for a minute.
/// </summary>
public sealed class ControlledClock : TimeProvider
{
    private readonly ConcurrentDictionary<ClockTimer, byte> _timers = new();
    // Read on every GetUtcNow by every actor, so swapped whole rather than guarded by a lock: a lock here was
    // contended by thousands of user actors at once and showed in the profiles of the very expiries it timed.
    private volatile Setting _setting = new(null, TimeSpan.Zero);

    private sealed record Setting(DateTimeOffset? FrozenAt, TimeSpan Offset);

    public override DateTimeOffset GetUtcNow()
    {
        var setting = _setting;
        return setting.FrozenAt ?? DateTimeOffset.UtcNow + setting.Offset;
    }

    public bool IsFrozen => _setting.FrozenAt is not null;

    /// <summary>Stops the clock at <paramref name="at"/>; timers stop firing (except those already due).</summary>
    public void Freeze(DateTimeOffset at)
    {
        _setting = new Setting(at, TimeSpan.Zero);
        Rearm();
    }

    /// <summary>Sets the clock to <paramref name="now"/> and lets it run in real time from there.</summary>
    public void RunFrom(DateTimeOffset now)
    {
        _setting = new Setting(null, now - DateTimeOffset.UtcNow);
        Rearm();
    }

    public int PendingTimers => _timers.Count;

    private void Rearm()
    {
        foreach (var timer in _timers.Keys) timer.Arm();
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ClockTimer(this, callback, state);
        _timers[timer] = 0;
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class ClockTimer : ITimer
    {
        private readonly ControlledClock _clock;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private readonly ITimer _real;
        private readonly object _gate = new();
        private DateTimeOffset? _due;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _disposed;

        public ClockTimer(ControlledClock clock, TimerCallback callback, object? state)
        {
            _clock = clock;
            _callback = callback;
            _state = state;
            _real = System.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                if (_disposed) return false;
                _due = dueTime == Timeout.InfiniteTimeSpan ? null : _clock.GetUtcNow() + dueTime;
                _period = period;
            }
            Arm();
            return true;
        }

        public void Arm()
        {
            lock (_gate)
            {
                if (_disposed) return;
                if (_due is not { } due)
                {
                    _real.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    return;
                }
                var delay = due - _clock.GetUtcNow();
                if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
                if (_clock.IsFrozen && delay > TimeSpan.Zero) delay = Timeout.InfiniteTimeSpan;
                _real.Change(delay, Timeout.InfiniteTimeSpan);
            }
        }

        private void Fire()
        {
            lock (_gate)
            {
                if (_disposed || _due is not { } due) return;
                if (_clock.GetUtcNow() < due)
                {
                    Arm();
                    return;
                }
                _due = _period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan ? due + _period : null;
            }
            _callback(_state);
            Arm();
        }

        public void Dispose()
        {
            lock (_gate) _disposed = true;
            _real.Dispose();
            _clock._timers.TryRemove(this, out _);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
