using Akka.Actor;
using Akka.Event;

namespace BanActors.Bench.Infra;

/// <summary>
/// Akka logger for bench runs: prints the first few warnings and errors, then only counts them, so that a storm
/// of failures (e.g. thousands of failed persists) is reported without the console becoming the bottleneck.
/// </summary>
public sealed class BenchLogger : ReceiveActor
{
    private const int PrintLimit = 10;
    private static int _printed;
    private static int _errors;
    private static int _warnings;

    public static int Errors => Volatile.Read(ref _errors);

    public static int Warnings => Volatile.Read(ref _warnings);

    public BenchLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e =>
        {
            if (e is Error) Interlocked.Increment(ref _errors);
            else if (e is Warning) Interlocked.Increment(ref _warnings);
            if (Interlocked.Increment(ref _printed) <= PrintLimit) Console.Error.WriteLine(e.ToString());
            else if (_printed == PrintLimit + 1) Console.Error.WriteLine("[bench] further Akka log events are counted, not printed");
        });
    }
}
