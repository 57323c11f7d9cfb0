using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace BanActors.Packaging.Tests;

/// <summary>
/// The packages work for a consumer: <c>dotnet pack</c> makes them, samples/ImBackend restores BanActors from that
/// folder feed (its own NuGet.config) into an empty package folder, builds, and a ban through the sample's endpoint
/// kicks a WebSocket session that the sample itself manages.
/// </summary>
public sealed class SampleBackendSpecs(ITestOutputHelper output) : IDisposable
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(6);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    private readonly string _temp = Directory.CreateTempSubdirectory("banactors-packaging-").FullName;

    [Fact]
    public async Task A_ban_through_the_sample_backend_built_from_the_packages_kicks_its_websocket_session()
    {
        // A version no cache has seen, so the NuGet caches can never hand back an older build of the packages.
        var version = $"1.0.0-test.{DateTime.UtcNow.Ticks}";
        var root = RepositoryRoot();
        var sample = CopySample(root);
        await Dotnet.RunAsync(output, root, BuildTimeout, "pack", Path.Combine(root, "packages.slnf"), "-c", "Release",
            "-o", Path.Combine(_temp, "artifacts", "packages"), $"-p:Version={version}",
            "--artifacts-path", Path.Combine(_temp, "build"), "--disable-build-servers");
        foreach (var package in new[] { "BanActors", "BanActors.PostgreSql", "BanActors.Cluster" })
        {
            Assert.True(File.Exists(Path.Combine(_temp, "artifacts", "packages", $"{package}.{version}.nupkg")), package);
            Assert.True(File.Exists(Path.Combine(_temp, "artifacts", "packages", $"{package}.{version}.snupkg")), package);
        }

        // Offline and fresh: the sample's own feed plus the packages this machine already has, into an empty folder.
        File.WriteAllText(Path.Combine(_temp, "NuGet.config"), $"""
            <configuration>
              <packageSources>
                <clear />
                <add key="machine-cache" value="{GlobalPackages()}" />
              </packageSources>
            </configuration>
            """);
        await Dotnet.RunAsync(output, sample, BuildTimeout, "restore", "--packages", Path.Combine(_temp, "packages"),
            $"-p:BanActorsVersion={version}", "--disable-build-servers");
        var assets = File.ReadAllText(Path.Combine(sample, "obj", "project.assets.json"));
        Assert.Contains($"\"BanActors/{version}\"", assets, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Npgsql/", assets, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Akka.Cluster", assets, StringComparison.Ordinal);
        Assert.DoesNotContain("\"Akka.Remote", assets, StringComparison.Ordinal);
        await Dotnet.RunAsync(output, sample, BuildTimeout, "build", "--no-restore", "-c", "Release",
            $"-p:BanActorsVersion={version}", "--disable-build-servers");

        var port = FreePort();
        var run = Directory.CreateDirectory(Path.Combine(_temp, "run")).FullName;
        using var backend = Dotnet.Start(run, Path.Combine(sample, "bin", "Release", "net10.0", "ImBackend.dll"),
            "--urls", $"http://127.0.0.1:{port}", "--BanDatabase", $"Data Source={Path.Combine(run, "bans.db")}");
        var log = new StringBuilder();
        // The host says when it listens ("Application started", Microsoft.Hosting.Lifetime): no polling.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backend.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (log) log.AppendLine(e.Data);
            if (e.Data.Contains("Application started", StringComparison.Ordinal)) started.TrySetResult();
        };
        backend.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        backend.BeginOutputReadLine();
        backend.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = StepTimeout };
            var exited = backend.WaitForExitAsync();
            Assert.True(await Task.WhenAny(started.Task, exited).WaitAsync(TimeSpan.FromSeconds(60)) == started.Task,
                "the sample backend exited at start");

            using var alice = new ClientWebSocket();
            using (var connecting = new CancellationTokenSource(StepTimeout))
                await alice.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/connect?user=alice"), connecting.Token);
            var connected = await ReceiveFrameAsync(alice);
            Assert.Equal("connected", connected.GetProperty("type").GetString());
            Assert.Contains("alice", await http.GetStringAsync("/sessions"), StringComparison.Ordinal);

            var banned = await http.PostAsync("/ban/alice?minutes=5&reason=spam", null);
            Assert.Equal(HttpStatusCode.OK, banned.StatusCode);

            var kicked = await ReceiveFrameAsync(alice);
            Assert.Equal("kicked", kicked.GetProperty("type").GetString());
            Assert.Equal(31009, kicked.GetProperty("code").GetInt32());
            Assert.Equal("spam", kicked.GetProperty("banReason").GetString());
            using (var closing = new CancellationTokenSource(StepTimeout))
            {
                var close = await alice.ReceiveAsync(new byte[1024], closing.Token);
                Assert.Equal(WebSocketMessageType.Close, close.MessageType);
                Assert.Equal(WebSocketCloseStatus.PolicyViolation, alice.CloseStatus);
            }

            // Banned users cannot come back until the ban ends.
            using var again = new ClientWebSocket();
            using (var connecting = new CancellationTokenSource(StepTimeout))
                await again.ConnectAsync(new Uri($"ws://127.0.0.1:{port}/connect?user=alice"), connecting.Token);
            var refused = await ReceiveFrameAsync(again);
            Assert.Equal("refused", refused.GetProperty("type").GetString());
            Assert.Equal(31009, refused.GetProperty("code").GetInt32());
        }
        catch
        {
            lock (log) output.WriteLine("sample backend output:\n" + log);
            throw;
        }
        finally
        {
            if (!backend.HasExited) backend.Kill(entireProcessTree: true);
            await backend.WaitForExitAsync(new CancellationTokenSource(StepTimeout).Token);
        }
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_temp, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS's temp cleanup.
        }
    }

    /// <summary>The sample's files, without build output, under the same layout (samples/ImBackend, its props).</summary>
    private string CopySample(string root)
    {
        var samples = Path.Combine(root, "samples");
        foreach (var file in Directory.EnumerateFiles(samples, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(samples, file);
            var parts = relative.Split(Path.DirectorySeparatorChar);
            if (parts.Contains("bin") || parts.Contains("obj")) continue;
            var target = Path.Combine(_temp, "samples", relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
        return Path.Combine(_temp, "samples", "ImBackend");
    }

    private static async Task<JsonElement> ReceiveFrameAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(StepTimeout);
        var buffer = new byte[16 * 1024];
        var count = 0;
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), timeout.Token);
            count += result.Count;
        }
        while (!result.EndOfMessage);
        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        return JsonDocument.Parse(buffer.AsMemory(0, count)).RootElement.Clone();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string GlobalPackages() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "BanActors.sln"))) return folder.FullName;
        }
        throw new InvalidOperationException("BanActors.sln not found above " + AppContext.BaseDirectory);
    }
}
