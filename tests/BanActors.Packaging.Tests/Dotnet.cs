using System.Diagnostics;
using System.Text;

namespace BanActors.Packaging.Tests;

/// <summary>Runs the dotnet CLI as a developer would, bounded in time, its output kept for the test's log.</summary>
internal static class Dotnet
{
    public static async Task RunAsync(ITestOutputHelper output, string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        using var process = Start(workingDirectory, arguments);
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            output.WriteLine(log.ToString());
            throw new TimeoutException($"dotnet {string.Join(' ', arguments)} took longer than {timeout}");
        }
        output.WriteLine($"dotnet {string.Join(' ', arguments)}: exit {process.ExitCode} after {watch.Elapsed.TotalSeconds:F0} s");
        if (process.ExitCode != 0)
        {
            output.WriteLine(log.ToString());
            throw new InvalidOperationException($"dotnet {string.Join(' ', arguments)} failed with exit code {process.ExitCode}");
        }
    }

    public static Process Start(string workingDirectory, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        // The test host runs under `dotnet test`, whose MSBuild and test-platform variables would steer a nested build.
        foreach (var name in info.Environment.Keys.ToList())
        {
            if (name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
                info.Environment.Remove(name);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        return Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start");
    }
}
