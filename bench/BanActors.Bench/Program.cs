using System.Diagnostics;
using BanActors.Bench;
using BanActors.Bench.Infra;
using BanActors.Bench.Scenarios;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}
if (args.Length >= 2 && args[0] == "--child")
    return await ChildProcess.RunAsync(args[1], args[2..]);

var options = BenchOptions.Parse(args);
BenchEngine.LogLevel = options["akka-loglevel"] ?? "WARNING";
BenchEngine.ExtraHocon = options["hocon"] ?? "";
TempDir.Keep = options.Has("keep");
BenchEngine.JournalSync = (options["journal-sync"] ?? "full").ToUpperInvariant();

var report = new Report
{
    Machine = MachineInfo.Capture(),
    Command = "dotnet run -c Release --project bench/BanActors.Bench --" + (args.Length > 0 ? " " + string.Join(' ', args) : ""),
};
Console.WriteLine($"BanActors.Bench on {report.Machine.Cores} cores, {report.Machine.Memory}, {report.Machine.Os}, {report.Machine.Dotnet}");
Console.WriteLine($"load average at start: {report.Machine.LoadAverage}");
if (BenchEngine.ExtraHocon.Length > 0) report.Note($"in-process engines with --hocon \"{BenchEngine.ExtraHocon}\"");
report.Note($"in-process engine: journal synchronous={BenchEngine.JournalSync}"
    + (BenchEngine.JournalSync == "NORMAL" ? " (SqliteConnectionPragmas setup added to the actor system)" : " (SQLite default, as the hosts ship the engine)")
    + $"; Akka log level {BenchEngine.LogLevel}; the real server (HTTP, kick) runs as shipped");

IScenario[] all =
[
    new SqliteCeiling(),
    new KestrelCeiling(),
    new InProcessBans(),
    new ConnectGate(),
    new HttpBans(),
    new RedisPeer(),
    new UnbanTimeliness(),
    new Restart(),
    new RestartHistory(),
    new KickLatency(),
    new ClusterScenario(),
    new CrashCyclesScenario(),
    new LedgerLogPages(),
    new FeedExpiryLag(),
    new LedgerCost(),
    new WebhookDelivery(),
    new Soak(),
];
var selected = options.Scenarios;
foreach (var name in selected.Where(s => s != "all" && all.All(x => x.Name != s)))
{
    Console.Error.WriteLine($"unknown scenario '{name}'\n{BenchOptions.Usage}");
    return 2;
}

foreach (var scenario in all)
{
    if (!selected.Contains("all") && !selected.Contains(scenario.Name)) continue;
    // Half an hour of load: only when asked for by name.
    if (scenario is Soak && !selected.Contains(scenario.Name)) continue;
    Console.WriteLine();
    Console.WriteLine($"== {scenario.Title}  (load {MachineInfo.LoadAverageNow()})");
    var sw = Stopwatch.StartNew();
    try
    {
        await scenario.RunAsync(options, report);
    }
    catch (Exception ex)
    {
        report.Skip(scenario.Name, $"failed: {ex.GetType().Name}: {ex.Message}");
        Console.Error.WriteLine(ex);
    }
    Console.WriteLine($"   ({sw.Elapsed.TotalSeconds:0.0} s)");
}

report.FinishedUtc = DateTimeOffset.UtcNow;
if (MachineInfo.LoadAverageOne(report.Machine.LoadAverage) is { } startLoad && startLoad > 0.5 * Environment.ProcessorCount
    || MachineInfo.LoadAverageOne(MachineInfo.LoadAverageNow()) is { } endLoad && endLoad > 0.5 * Environment.ProcessorCount)
    report.Note($"other work was running on this machine during the run (load average {report.Machine.LoadAverage} at the start, "
        + $"{MachineInfo.LoadAverageNow()} at the end, on {Environment.ProcessorCount} cores): absolute figures are depressed; "
        + "ratios within the run and CPU time per operation are the steadier comparisons");
report.LoadAtEnd = MachineInfo.LoadAverageNow();
Summary.Fill(report);
Console.WriteLine();
Console.WriteLine(report.ToMarkdown());
if (!options.Has("no-write"))
{
    var folder = options["out"] ?? Path.Combine(RepoRoot.Find(), "bench", "results");
    Console.WriteLine($"written: {report.Write(folder)}");
}
return 0;
