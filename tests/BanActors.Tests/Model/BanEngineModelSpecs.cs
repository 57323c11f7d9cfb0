using System.Diagnostics;
using Akka.TestKit.Xunit2;
using BanActors.Tests.Support;
using CsCheck;
using Xunit.Abstractions;

namespace BanActors.Tests.Model;

/// <summary>
/// Model-based specs: random sequences of bans, re-bans, unbans, clock moves, restarts (with time passing while down),
/// idle spells (every user actor passivated), connects, disconnects and messages run against the real engine (SQLite
/// journal, fake clock, new actor system on restart) and against <see cref="BanModel"/>. After every step each user's
/// status, the block list, online status, kicked sessions, delivered and kept messages, pushes and the ledgers the
/// step changed must equal the model's. A failure is shrunk (CsCheck, then by dropping and simplifying steps) and
/// printed as the smallest failing sequence found, with the seed that reproduces it.
/// </summary>
/// <remarks>
/// Replay a failure with <c>CsCheck_Seed=&lt;seed&gt; dotnet test tests/BanActors.Tests --filter FullyQualifiedName~Model</c>:
/// the seed runs first, then the remaining iterations look for a shorter failing sequence. To search longer (for a
/// rarer failure, or a smaller counterexample) set <c>CsCheck_Iter=500</c> or <c>CsCheck_Time=120</c> (seconds).
/// </remarks>
public sealed class BanEngineModelSpecs : TestKit
{
    private readonly ITestOutputHelper _output;

    public BanEngineModelSpecs(ITestOutputHelper output) : base(SpecConfig.Default, output: output) => _output = output;

    private static readonly Gen<int> User = Gen.Int[0, BanModel.Users - 1];

    private static readonly TimeSpan[] ShortSteps =
        [TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(3), TimeSpan.FromMinutes(5)];

    private static readonly Gen<TimeSpan> Step = Gen.Frequency(
        (12, Gen.OneOf(ShortSteps)),
        // Exactly the retention of kept messages: the boundary where they are still delivered.
        (1, Gen.Const(EngineUnderTest.Retention)));

    // Restarts cost a new actor system and idle spells real time, so both are rare; bans (and so re-bans of the same
    // three users) are common.
    private static readonly Gen<Operation> AnyOperation = Gen.Frequency<Operation>(
        (6, from user in User from minutes in Gen.Int[1, 5] select (Operation)new Operation.Ban(user, minutes)),
        (2, User.Select(user => (Operation)new Operation.Unban(user))),
        (5, Step.Select(by => (Operation)new Operation.Advance(by))),
        (1, Gen.Frequency((2, Gen.Const(TimeSpan.Zero)), (1, Step)).Select(down => (Operation)new Operation.Restart(down))),
        (1, Gen.Const<Operation>(new Operation.Idle())),
        (4, User.Select(user => (Operation)new Operation.Connect(user))),
        (2, from user in User from pick in Gen.Int[0, 3] select (Operation)new Operation.Disconnect(user, pick)),
        (4, User.Select(user => (Operation)new Operation.Send(user))));

    private static readonly Gen<Operation[]> Sequence = AnyOperation.Array[1, 25];

    [Fact]
    public async Task The_engine_agrees_with_the_model_after_every_step_of_random_sequences()
    {
        var watch = Stopwatch.StartNew();
        var seen = new Coverage();
        (Operation[] Operations, ModelMismatchException Failure)? smallest = null;
        try
        {
            await Sequence.SampleAsync(async operations =>
                {
                    if (await FailureOfAsync(operations, seen) is not { } failure) return;
                    if (smallest is null || failure.Step < smallest.Value.Failure.Step) smallest = (operations, failure);
                    throw failure;
                },
                writeLine: _output.WriteLine,
                // CsCheck_Iter / CsCheck_Time from the environment take over from the bounded default.
                iter: Environment.GetEnvironmentVariable("CsCheck_Iter") is null ? 40 : -1,
                threads: 1,
                print: Print);
        }
        catch (CsCheckException sampled) when (smallest is { } found)
        {
            // CsCheck shrinks by sampling again and keeping smaller failures; within a bounded run that leaves steps
            // that do not matter. Removing them one at a time, while the run still fails, gives the counterexample.
            var (operations, failure, runs) = await ShrinkAsync(found.Operations, found.Failure, TimeSpan.FromSeconds(90));
            throw new ModelMismatchException(failure.Step,
                $"{sampled.Message.Split(Environment.NewLine)[0]}{Environment.NewLine}" +
                $"Smallest failing sequence ({runs} shrinking runs after CsCheck's):{Print(operations)}{Environment.NewLine}" +
                failure.Message, sampled);
        }
        _output.WriteLine($"{seen} in {watch.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Runs the sequence on a new engine and on the model; the first disagreement, or null if there is none.</summary>
    private async Task<ModelMismatchException?> FailureOfAsync(Operation[] operations, Coverage? seen = null)
    {
        seen?.Count("sequences");
        var model = new BanModel(EngineHost.Epoch, EngineUnderTest.Retention);
        await using var engine = await EngineUnderTest.StartAsync(check => AwaitAssertAsync(check, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10)));
        for (var i = 0; i < operations.Length; i++)
        {
            var step = i + 1;
            var operation = operations[i];
            seen?.Count(Coverage.Classify(model, operation));
            var target = operation is Operation.Disconnect disconnect ? model.DisconnectTarget(disconnect) : null;
            var lengths = model.HistoryLengths();
            var expectedAnswer = model.Apply(step, operation);
            // Ledgers that changed, and all of them after a restart and at the end.
            var historyOf = Enumerable.Range(0, BanModel.Users)
                .Where(u => step == operations.Length || operation is Operation.Restart || model.HistoryLengths()[u] != lengths[u])
                .ToList();
            string answer;
            Observation observed;
            try
            {
                answer = await engine.ApplyAsync(step, operation, target);
                observed = await engine.ObserveAsync(historyOf);
            }
            catch (Exception ex)
            {
                return new ModelMismatchException(step, $"step {step} {operation} threw {ex.GetType().Name}: {ex.Message}", ex);
            }
            if (answer != expectedAnswer)
                return new ModelMismatchException(step,
                    $"step {step} {operation}: model answered \"{expectedAnswer}\", engine \"{answer}\"{Environment.NewLine}  model: {model}");
            var diff = Observation.Diff(model.Observe(historyOf), observed);
            if (diff.Length > 0)
                return new ModelMismatchException(step,
                    $"after step {step} {operation}:{Environment.NewLine}{diff}{Environment.NewLine}  model: {model}");
        }
        return null;
    }

    /// <summary>
    /// Drops the steps after the failing one, then each step whose removal still fails, then makes each remaining step
    /// simpler where that still fails; stops early after <paramref name="budget"/>.
    /// </summary>
    private async Task<(Operation[] Operations, ModelMismatchException Failure, int Runs)> ShrinkAsync(
        Operation[] operations, ModelMismatchException failure, TimeSpan budget)
    {
        var watch = Stopwatch.StartNew();
        var current = operations[..failure.Step];
        var runs = 0;
        async Task<bool> StillFailsAsync(Operation[] candidate)
        {
            runs++;
            if (await FailureOfAsync(candidate) is not { } found) return false;
            (current, failure) = (candidate[..found.Step], found);
            return true;
        }

        bool changed;
        do
        {
            changed = false;
            for (var i = current.Length - 1; i >= 0 && watch.Elapsed < budget; i = Math.Min(i, current.Length) - 1)
            {
                if (current.Length > 1 && await StillFailsAsync([.. current[..i], .. current[(i + 1)..]])) changed = true;
            }
            for (var i = 0; i < current.Length && watch.Elapsed < budget; i++)
            {
                foreach (var simpler in Simpler(current[i]))
                {
                    if (await StillFailsAsync([.. current[..i], simpler, .. current[(i + 1)..]]))
                    {
                        changed = true;
                        break;
                    }
                }
            }
        } while (changed && watch.Elapsed < budget);
        return (current, failure, runs);
    }

    private static IEnumerable<Operation> Simpler(Operation operation) => operation switch
    {
        Operation.Ban(var user, var minutes) => Enumerable.Range(1, minutes - 1).Select(m => (Operation)new Operation.Ban(user, m)),
        Operation.Advance(var by) => ShortSteps.Where(t => t < by).Select(t => (Operation)new Operation.Advance(t)),
        Operation.Disconnect(var user, var pick) when pick > 0 => [new Operation.Disconnect(user, 0)],
        Operation.Restart(var down) when down > TimeSpan.Zero => [new Operation.Restart(TimeSpan.Zero)],
        _ => [],
    };

    private static string Print(Operation[] operations) =>
        Environment.NewLine + string.Join(Environment.NewLine, operations.Select((o, i) => $"  {i + 1,2}. {o}"));

    /// <summary>How often each interesting case ran, so a passing run shows what it covered.</summary>
    private sealed class Coverage
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new();

        public void Count(string what) => _counts.AddOrUpdate(what, 1, (_, n) => n + 1);

        public static string Classify(BanModel model, Operation operation) => operation switch
        {
            Operation.Ban(var user, _) when model.IsBanned(user) => "re-ban",
            Operation.Ban(var user, _) when model.LiveSessions(user).Count > 0 => "ban kicking sessions",
            Operation.Ban => "ban",
            Operation.Unban(var user) => model.IsBanned(user) ? "unban of a running ban" : "unban of no ban",
            Operation.Advance(var by) => Enumerable.Range(0, BanModel.Users)
                .Any(u => model.BannedUntil(u) is { } until && until <= model.Now + by) ? "advance past an end time" : "advance",
            Operation.Restart(var down) => Enumerable.Range(0, BanModel.Users).Any(model.IsBanned)
                ? down > TimeSpan.Zero ? "restart with bans running and time passing while down" : "restart with bans running"
                : "restart",
            Operation.Idle => Enumerable.Range(0, BanModel.Users).Any(model.IsBanned) ? "idle with bans running" : "idle",
            Operation.Connect(var user) => model.IsBanned(user) ? "connect refused" : "connect",
            Operation.Disconnect d => model.DisconnectTarget(d) is null ? "disconnect of nobody" : "disconnect",
            Operation.Send(var user) => model.IsBanned(user) ? "send to a banned user"
                : model.LiveSessions(user).Count > 0 ? "send to an online user" : "send to an offline user",
            _ => operation.GetType().Name,
        };

        public override string ToString() =>
            string.Join(", ", _counts.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value}"));
    }

    private sealed class ModelMismatchException(int step, string message, Exception? inner = null) : Exception(message, inner)
    {
        /// <summary>The step (from 1) after which the engine and the model disagreed.</summary>
        public int Step { get; } = step;
    }
}
