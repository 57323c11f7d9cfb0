using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 7: N WebSocket sessions on the real server's IM gateway; each user is banned over HTTP and the time
/// from the HTTP 200 to the client seeing the close is measured.
/// </summary>
public sealed class KickLatency : IScenario
{
    public string Name => "kick";

    public string Title => "7. Kick latency (WebSocket sessions closed by a ban)";

    public Task RunAsync(BenchOptions options, Report report)
    {
        report.Skip(Name, "the IM gateway (branch gateway: WebSocket /im/connect and /user/getToken.json) is not in this build");
        return Task.CompletedTask;
    }
}
