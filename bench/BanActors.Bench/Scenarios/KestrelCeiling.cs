using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BanActors.Bench.Infra;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace BanActors.Bench.Scenarios;

/// <summary>
/// Scenario 3b: the ceiling of the HTTP layer. A bare Kestrel endpoint in a child process (server GC, as an
/// ASP.NET app gets by default) that only parses the <c>/user/block.json</c> form and checks the signature,
/// loaded over loopback by the same C# client as the real server.
/// </summary>
public sealed class KestrelCeiling : IScenario
{
    public string Name => "ceiling-kestrel";

    public string Title => "3b. Ceiling: bare signed Kestrel endpoint";

    public async Task RunAsync(BenchOptions options, Report report)
    {
        var port = RedisPeer.FreePort();
        var psi = ChildProcess.StartInfo("kestrel", port.ToString(CultureInfo.InvariantCulture));
        psi.Environment["DOTNET_gcServer"] = "1";
        using var server = ServerProcess.Start(psi, port);
        if (await server.WaitAnsweringAsync("/", TimeSpan.FromSeconds(30)) is null)
        {
            report.Skip(Name, "the bare Kestrel child did not start: " + server.RecentOutput);
            return;
        }
        await HttpLoad.RunBlockSteps(Name, "bare endpoint", server, options, report, reban: false);
    }

    /// <summary>Child process: the bare endpoint on 127.0.0.1:port until stdin closes.</summary>
    public static async Task<int> RunChild(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var secrets = new Dictionary<string, string> { [SignedHttp.AppKey] = SignedHttp.AppSecret };
        app.MapGet("/", () => "bare");
        app.MapPost("/user/block.json", async (HttpContext ctx) =>
        {
            string? H(string name) => ctx.Request.Headers.TryGetValue(name, out var v) ? v.ToString()
                : ctx.Request.Headers.TryGetValue("RC-" + name, out var rc) ? rc.ToString() : null;
            var appKey = H("App-Key");
            var nonce = H("Nonce");
            var timestamp = H("Timestamp");
            var signature = H("Signature");
            if (appKey is null || nonce is null || timestamp is null || signature is null
                || !secrets.TryGetValue(appKey, out var secret) || !SignatureMatches(secret, nonce, timestamp, signature))
                return Results.Json(new { code = 1004, errorMessage = "signature check failed", url = "/user/block.json" }, statusCode: 401);
            if (!ctx.Request.HasFormContentType)
                return Results.Json(new { code = 1003, errorMessage = "no body", url = "/user/block.json" }, statusCode: 400);
            var form = await ctx.Request.ReadFormAsync();
            var users = form["userId"];
            if (users.Count is < 1 or > 20 || users.Any(u => string.IsNullOrEmpty(u) || u.Length > 64)
                || !int.TryParse(form["minute"], NumberStyles.None, CultureInfo.InvariantCulture, out var minute) || minute is < 1 or > 43_200)
                return Results.Json(new { code = 1002, errorMessage = "bad parameter", url = "/user/block.json" }, statusCode: 400);
            return Results.Json(new { code = 200 });
        });
        await app.StartAsync();
        Console.WriteLine("ready");
        await Console.In.ReadToEndAsync();
        await app.StopAsync();
        return 0;
    }

    private static bool SignatureMatches(string secret, string nonce, string timestamp, string signature)
    {
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(Encoding.UTF8.GetBytes(secret + nonce + timestamp), hash);
        var expected = Convert.ToHexStringLower(hash);
        var given = signature.ToLowerInvariant();
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(given));
    }
}

/// <summary>The signed block load shared by the ceiling and the real server.</summary>
public static class HttpLoad
{
    public static async Task RunBlockSteps(string scenario, string label, ServerProcess server, BenchOptions options, Report report, bool reban)
    {
        var n = options.N;
        // Warm-up (JIT on both sides, connections), not reported.
        using (var warm = new SignedHttp(server.Address, options.HttpConnections))
            await Load.RunAsync(Math.Min(n, 2_000), 64, options.MaxStep,
                i => warm.PostAsync("/user/block.json", SignedHttp.BlockForm([$"warm-{i}"], 60)));

        foreach (var c in new[] { options.HttpConnections, options.HttpConnections * 4 })
        {
            using var client = new SignedHttp(server.Address, c);
            var single = await Step(server, c, n, i => client.PostAsync("/user/block.json", SignedHttp.BlockForm([$"h{c}-{i}"], 60)));
            report.Add(Row.From(scenario, $"{label}: 1 user/request" + (reban ? " (first ban)" : ""), c, single.Result, "req/s",
                note: single.Note));
            report.Figure($"{scenario}.single.c{c}", single.Result.PerSecond);
            if (reban)
            {
                var again = await Step(server, c, single.Result.Completed,
                    i => client.PostAsync("/user/block.json", SignedHttp.BlockForm([$"h{c}-{i}"], 90)));
                report.Add(Row.From(scenario, $"{label}: 1 user/request (re-ban)", c, again.Result, "req/s", note: again.Note));
                report.Figure($"{scenario}.reban.c{c}", again.Result.PerSecond);
            }
            var twenty = await Step(server, c, Math.Max(1, n / 10),
                i => client.PostAsync("/user/block.json", SignedHttp.BlockForm(Enumerable.Range(0, 20).Select(k => $"m{c}-{i}-{k}"), 60)));
            report.Add(Row.From(scenario, $"{label}: 20 users/request" + (reban ? " (first bans)" : ""), c, twenty.Result, "req/s",
                note: $"{twenty.Result.PerSecond * 20:N0} bans/s; " + twenty.Note));
            report.Figure($"{scenario}.twenty.c{c}", twenty.Result.PerSecond);
            report.Figure($"{scenario}.twenty.c{c}.bans", twenty.Result.PerSecond * 20);
        }
    }

    private static async Task<(LoadResult Result, string Note)> Step(ServerProcess server, int c, int n, Func<int, Task> op)
    {
        var cpu0 = server.CpuTime();
        var r = await Load.RunAsync(n, c, TimeSpan.FromSeconds(60), op);
        var serverCpu = server.CpuTime() - cpu0;
        var perReq = r.Completed == 0 ? double.NaN : serverCpu.TotalMilliseconds * 1000 / r.Completed;
        return (r, $"server CPU {perReq:N0} µs/req; CPU µs/op column = load client");
    }
}
