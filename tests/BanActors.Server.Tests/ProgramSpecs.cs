using System.Net;
using System.Text.Json;
using BanActors.Server.Apps;
using BanActors.Server.Tests.Support;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;

namespace BanActors.Server.Tests;

/// <summary>Program.cs itself, through WebApplicationFactory: the zero-configuration start with a development app.</summary>
public sealed class ProgramSpecs : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "banactors-server-tests", Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task With_no_app_configured_the_server_makes_a_development_app_keeps_it_and_serves_it()
    {
        AppCredentials first;
        await using (var factory = Factory())
        {
            using var http = factory.CreateClient();
            var path = Path.Combine(_folder, "data", DevelopmentApp.FileName);
            Assert.True(File.Exists(path));
            first = JsonSerializer.Deserialize<AppCredentials>(await File.ReadAllTextAsync(path))!;
            Assert.StartsWith("dev", first.AppKey);
            Assert.True(first.AppSecret.Length >= 20);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

            var client = new RongCloudClient(http, first.AppKey, first.AppSecret, new Microsoft.Extensions.Time.Testing.FakeTimeProvider());
            Assert.Equal("{\"code\":200}", (await client.PostAsync("/user/block.json", ("userId", "u1"), ("minute", "10"))).Body);
            Assert.Contains("\"u1\"", (await client.PostAsync("/user/block/query.json")).Body);
            using var health = await http.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        await using (var restarted = Factory())
        {
            using var http = restarted.CreateClient();
            var client = new RongCloudClient(http, first.AppKey, first.AppSecret, new Microsoft.Extensions.Time.Testing.FakeTimeProvider());
            // Same credentials, same journal: the ban made before the restart is still listed.
            var list = await client.PostAsync("/user/block/query.json");
            Assert.Equal(HttpStatusCode.OK, list.Status);
            Assert.Contains("\"u1\"", list.Body);
        }
    }

    private WebApplicationFactory<Program> Factory() => new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
    {
        web.UseSetting("BanActors:Storage:ConnectionString", $"Data Source={Path.Combine(_folder, "data", "banactors.db")}");
        web.UseSetting("Logging:LogLevel:Default", "Warning");
    });

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
