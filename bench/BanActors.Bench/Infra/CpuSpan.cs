using System.Diagnostics;

namespace BanActors.Bench.Infra;

/// <summary>
/// The bench process's CPU time (all threads, user and kernel) from <see cref="Start"/> on, per operation: for phases
/// that are not a load loop (expiries that the engine drives itself), where <see cref="Load"/> cannot measure it.
/// It includes the lead before the phase (an idle engine costs little) and whatever the bench does meanwhile.
/// </summary>
public readonly struct CpuSpan
{
    private readonly TimeSpan _start;

    private CpuSpan(TimeSpan start) => _start = start;

    public static CpuSpan Start() => new(Process.GetCurrentProcess().TotalProcessorTime);

    /// <summary>CPU µs since the start per operation; null when no operation was seen.</summary>
    public double? MicrosPer(int operations) =>
        operations <= 0 ? null : (Process.GetCurrentProcess().TotalProcessorTime - _start).TotalMicroseconds / operations;
}
