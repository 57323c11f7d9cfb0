using BanActors.Server.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace BanActors.Server.Tests;

/// <summary>Settings that cannot work stop the server at start instead of failing requests later.</summary>
public sealed class ConfigurationSpecs
{
    [Theory]
    [InlineData("BanActors:TimeZone", "Mars/Olympus_Mons")]
    [InlineData("BanActors:RateLimit:PermitsPerSecond", "0")]
    [InlineData("BanActors:Api:MaxBodyBytes", "-1")]
    public async Task An_invalid_setting_stops_the_server_at_start(string key, string value)
    {
        var settings = new Dictionary<string, string?> { [key] = value };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => ServerHost.StartAsync(TestApps.All, settings));

        Assert.Contains(key, error.Message);
    }

    [Fact]
    public async Task An_app_key_that_could_collide_in_persistence_ids_stops_the_server_at_start()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => ServerHost.StartAsync([new TestApp("bad-key", "s")]));

        Assert.Contains("bad-key", error.ToString());
    }

    [Theory]
    [InlineData("Information", "Warning", Akka.Event.LogLevel.InfoLevel)]
    [InlineData("Warning", "Warning", Akka.Event.LogLevel.WarningLevel)]
    [InlineData("Warning", "Debug", Akka.Event.LogLevel.DebugLevel)]
    [InlineData("Error", "None", Akka.Event.LogLevel.ErrorLevel)]
    public void Akka_logs_at_the_most_verbose_level_the_host_configured(string defaultLevel, string bansLevel,
        Akka.Event.LogLevel expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = defaultLevel,
                ["Logging:LogLevel:BanActors"] = bansLevel,
            })
            .Build();

        Assert.Equal(expected, BanActors.Hosting.AkkaLogging.Level(configuration.GetSection("Logging:LogLevel")));
    }
}
