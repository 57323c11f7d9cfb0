using System.Diagnostics;
using System.Globalization;
using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 2: signed <c>/user/block.json</c> over loopback against the real server (src/BanActors.Server) in
/// a child process on its own SQLite file, rate limit raised for the run
/// (<c>BanActors:RateLimit:PermitsPerSecond</c>), loaded by the bench's C# client (<see cref="SignedHttp"/>).
/// </summary>
public sealed class HttpBans : IScenario
{
    public string Name => "http";

    public string Title => "2. HTTP ban throughput (real server, signed /user/block.json)";

    public static ProcessStartInfo? RealServer(string workDir, int port, params string[] extra)
    {
        var dll = ServerProcess.RealServerDll();
        if (dll is null) return null;
        var psi = new ProcessStartInfo("dotnet") { WorkingDirectory = workDir };
        foreach (var a in new[]
                 {
                     dll, "--urls", $"http://127.0.0.1:{port}",
                     $"--BanActors:Apps:0:AppKey={SignedHttp.AppKey}", $"--BanActors:Apps:0:AppSecret={SignedHttp.AppSecret}",
                     "--BanActors:RateLimit:PermitsPerSecond=100000000",
                     "--BanActors:Storage:Provider=Sqlite",
                     $"--BanActors:Storage:ConnectionString=Data Source={Path.Combine(workDir, "bans.db")}",
                     "--Logging:LogLevel:Default=Warning",
                 })
            psi.ArgumentList.Add(a);
        foreach (var a in extra) psi.ArgumentList.Add(a);
        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        return psi;
    }

    /// <summary>
    /// The real server on a free port with its database in <paramref name="dir"/>, answering <c>/healthz</c>; null
    /// (and <paramref name="scenario"/> reported as skipped, with why) when it is not built or does not start.
    /// </summary>
    public static async Task<ServerProcess?> StartRealServerAsync(TempDir dir, string scenario, Report report)
    {
        var port = RedisPeer.FreePort();
        var psi = RealServer(dir.Path, port);
        if (psi is null)
        {
            report.Skip(scenario, "src/BanActors.Server is not built next to the bench");
            return null;
        }
        var server = ServerProcess.Start(psi, port);
        if (await server.WaitAnsweringAsync("/healthz", TimeSpan.FromSeconds(60)) is not null) return server;
        report.Skip(scenario, "the server did not start: " + server.RecentOutput);
        server.Dispose();
        return null;
    }

    public async Task RunAsync(BenchOptions options, Report report)
    {
        using var dir = new TempDir(Name);
        using var server = await StartRealServerAsync(dir, Name, report);
        if (server is null) return;
        using (var probe = new SignedHttp(server.Address, 1))
        {
            try
            {
                await probe.PostAsync("/user/block.json", SignedHttp.BlockForm(["probe"], 1));
            }
            catch (HttpRequestException ex)
            {
                report.Skip(Name, $"the server does not serve a signed /user/block.json yet ({ex.Message}); "
                    + "the HTTP API (branch api) was not in this build");
                return;
            }
        }
        report.Note(string.Create(CultureInfo.InvariantCulture,
            $"http: real server as a child process (`dotnet BanActors.Server.dll`, its own GC settings), rate limit raised to 100,000,000/s, log level Warning; load from HttpClient/SocketsHttpHandler in the bench process, one HTTP/1.1 connection per request in flight"));
        await HttpLoad.RunBlockSteps(Name, "real server", server, options, report, reban: true);
    }
}
