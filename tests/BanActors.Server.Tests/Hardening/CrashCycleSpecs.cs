using System.Diagnostics;
using Xunit.Abstractions;

namespace BanActors.Server.Tests.Hardening;

/// <summary>
/// The real server process, killed with SIGKILL under concurrent signed bans and unbans and restarted on the same
/// SQLite file, three times: what it answered 200 is exactly what it lists afterwards. The long version (20 cycles)
/// is the bench's <c>crash-cycles</c> scenario.
/// </summary>
public sealed class CrashCycleSpecs(ITestOutputHelper output) : IDisposable
{
    private const int Cycles = 3;
    private const int InFlight = 24;
    private static readonly TimeSpan LoadPerCycle = TimeSpan.FromSeconds(3);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), "banactors-server-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Every_acknowledged_ban_and_unban_is_exactly_what_the_server_lists_after_each_kill_9_and_restart()
    {
        Directory.CreateDirectory(_folder);
        var took = Stopwatch.StartNew();
        var cycles = new CrashCycles(_folder, ServerChild.FreePort(), InFlight, LoadPerCycle, output.WriteLine);
        var server = await cycles.StartAsync();
        try
        {
            for (var cycle = 1; cycle <= Cycles; cycle++)
            {
                (server, var result) = await cycles.RunCycleAsync(cycle, server);
                Assert.True(result.Mismatches.Count == 0,
                    $"after kill {cycle}: {result.Mismatches.Count} users not as acknowledged:\n" + string.Join('\n', result.Mismatches.Take(20)));
                // A run where nothing was acknowledged, or nothing was cut off, would prove nothing.
                Assert.True(result.AcknowledgedBans > 20 && result.AcknowledgedUnbans > 5, result.ToString());
                Assert.Equal(0, result.ErrorAnswers);
            }
        }
        finally
        {
            server.Dispose();
        }
        output.WriteLine($"{Cycles} cycles, {cycles.Users} users, {took.Elapsed.TotalSeconds:0.0} s");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
