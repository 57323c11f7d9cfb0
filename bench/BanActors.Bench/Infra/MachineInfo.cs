using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;

namespace BanActors.Bench.Infra;

/// <summary>The facts about the machine that a reader needs to compare two runs.</summary>
public sealed record MachineInfo(
    int Cores,
    string Cpu,
    string Memory,
    string Os,
    string Dotnet,
    string Gc,
    string LoadAverage,
    string? GitCommit)
{
    public static MachineInfo Capture() => new(
        Environment.ProcessorCount,
        CpuModel(),
        MemTotal(),
        RuntimeInformation.OSDescription + " " + RuntimeInformation.OSArchitecture,
        RuntimeInformation.FrameworkDescription,
        (GCSettings.IsServerGC ? "server" : "workstation") + (GCSettings.LatencyMode == GCLatencyMode.Interactive ? ", concurrent" : ""),
        LoadAverageNow(),
        Git("rev-parse --short HEAD"));

    public IEnumerable<(string, string)> Pairs()
    {
        yield return ("cores", Cores.ToString(CultureInfo.InvariantCulture));
        yield return ("cpu", Cpu);
        yield return ("memory", Memory);
        yield return ("os", Os);
        yield return (".NET", Dotnet);
        yield return ("GC", Gc);
        yield return ("load average at start (1/5/15 min)", LoadAverage);
        if (GitCommit is not null) yield return ("commit", GitCommit);
    }

    public static string LoadAverageNow()
    {
        try
        {
            var parts = File.ReadAllText("/proc/loadavg").Split(' ');
            return $"{parts[0]} / {parts[1]} / {parts[2]}";
        }
        catch (IOException) { return "unknown"; }
        catch (UnauthorizedAccessException) { return "unknown"; }
    }

    /// <summary>The 1-minute figure of a "a / b / c" load average string.</summary>
    public static double? LoadAverageOne(string loadAverage) =>
        double.TryParse(loadAverage.Split('/')[0].Trim(), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : null;

    private static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
        }
        catch (IOException) { return RuntimeInformation.ProcessArchitecture.ToString(); }
    }

    private static string MemTotal()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal", StringComparison.Ordinal));
            var kb = long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            return $"{kb / 1024.0 / 1024.0:0.0} GiB";
        }
        catch (Exception) { return $"{GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1024.0 / 1024 / 1024:0.0} GiB available to .NET"; }
    }

    private static string? Git(string args)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("git", args)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit(5000);
            return p.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (Exception) { return null; }
    }
}
