using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http;

namespace BanActors.Bench.Infra;

/// <summary>A server in a child process on 127.0.0.1 (the real BanActors.Server, or the bench's bare Kestrel).</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Keep(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Keep(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri Address { get; }

    public Stopwatch SinceStart { get; } = Stopwatch.StartNew();

    public string RecentOutput => string.Join('\n', _output.TakeLast(20));

    public int Pid => _process.Id;

    private void Keep(string line)
    {
        _output.Enqueue(line);
        while (_output.Count > 200) _output.TryDequeue(out _);
    }

    public static ServerProcess Start(ProcessStartInfo psi, int port)
    {
        psi.UseShellExecute = false;
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + psi.FileName);
        return new ServerProcess(p, new Uri($"http://127.0.0.1:{port}/"));
    }

    /// <summary>The real server (src/BanActors.Server), built in the same configuration as this bench.</summary>
    public static string? RealServerDll()
    {
        var bench = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var tfm = Path.GetFileName(bench);
        var config = Path.GetFileName(Path.GetDirectoryName(bench)!);
        var dll = Path.Combine(RepoRoot.Find(), "src", "BanActors.Server", "bin", config, tfm, "BanActors.Server.dll");
        return File.Exists(dll) ? dll : null;
    }

    /// <summary>Polls <paramref name="path"/> until it answers (any HTTP status), or the process exits, or the timeout.</summary>
    public async Task<TimeSpan?> WaitAnsweringAsync(string path, TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(2) };
        var until = Stopwatch.StartNew();
        while (until.Elapsed < timeout)
        {
            if (_process.HasExited) return null;
            try
            {
                using var r = await client.GetAsync(path).ConfigureAwait(false);
                return SinceStart.Elapsed;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(5).ConfigureAwait(false);
        }
        return null;
    }

    public long WorkingSet()
    {
        _process.Refresh();
        return _process.WorkingSet64;
    }

    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                if (!_process.WaitForExit(3000)) _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        catch (IOException) { }
        _process.Dispose();
    }
}
