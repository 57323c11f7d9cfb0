using System.Collections.Concurrent;
using BanActors.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BanActors.Tests.Hosting;

/// <summary>
/// The engine embedded with <c>AddBanEngine</c>: Akka's log lines go through the host's logging and honour
/// <c>Logging:LogLevel</c>; bans and unbans are structured events with named fields.
/// </summary>
public sealed class EmbeddedLoggingSpecs : IDisposable
{
    private readonly TempDatabase _db = new();

    [Fact]
    public async Task Bans_and_unbans_are_structured_events_and_Akka_logs_through_the_host()
    {
        var logs = new RecordingLoggerProvider();
        using var host = await StartAsync(logs, "Information");
        var engine = host.Services.GetRequiredService<IBanEngine>();
        var user = new UserKey("logapp", "u1");

        var accepted = await engine.BanAsync(user, 10, new BanDetails { Operator = "alice", Reason = "spam" });
        await engine.UnbanAsync(user, new BanDetails { Operator = "bob" });

        var banned = Assert.Single(logs.Records, r => r.EventName == "Banned");
        Assert.Equal("BanActors.Bans", banned.Category);
        Assert.Equal(LogLevel.Information, banned.Level);
        Assert.Equal("logapp", banned.Field("AppKey"));
        Assert.Equal("u1", banned.Field("UserId"));
        Assert.Equal(accepted.Until, banned.Field("Until"));
        Assert.Equal("alice", banned.Field("Operator"));
        Assert.DoesNotContain("spam", banned.Message);

        var unbanned = Assert.Single(logs.Records, r => r.EventName == "Unbanned");
        Assert.Equal("manual", unbanned.Field("Cause"));
        Assert.Equal("bob", unbanned.Field("Operator"));

        // Akka's own lines (the index's rebuild at start) arrive through the same provider, not on stdout.
        await WaitForAsync(() => logs.Records.Any(r => r.Message.Contains("Ban index rebuilt", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Logging_LogLevel_Warning_silences_the_audit_and_Akka_s_information()
    {
        var logs = new RecordingLoggerProvider();
        using var host = await StartAsync(logs, "Warning");
        var engine = host.Services.GetRequiredService<IBanEngine>();

        await engine.BanAsync(new UserKey("logapp", "quiet"), 10);
        await engine.UnbanAsync(new UserKey("logapp", "quiet"));

        Assert.DoesNotContain(logs.Records, r => r.Level < LogLevel.Warning);
    }

    private async Task<IHost> StartAsync(RecordingLoggerProvider logs, string level)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = level });
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        builder.Logging.AddProvider(logs);
        builder.Services.AddBanEngine(new BanEngineOptions { Storage = _db.Storage }, "logging-spec");
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        // An asynchronous effect (Akka's logger actor), not a timer: bounded polling.
        for (var i = 0; i < 500 && !condition(); i++) await Task.Delay(20);
        Assert.True(condition());
    }

    public void Dispose() => _db.Dispose();
}

/// <summary>One log call as a provider saw it: its category, event, fields and text.</summary>
internal sealed record LogRecord(string Category, LogLevel Level, string? EventName, IReadOnlyList<KeyValuePair<string, object?>> Fields,
    string Message)
{
    public object? Field(string name) => Fields.Single(f => f.Key == name).Value;
}

/// <summary>Keeps every log call with its structured fields.</summary>
internal sealed class RecordingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    public IReadOnlyCollection<LogRecord> Records => _records;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _records);

    public void Dispose() { }

    private sealed class Logger(string category, ConcurrentQueue<LogRecord> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            records.Enqueue(new LogRecord(category, logLevel, eventId.Name,
                state as IReadOnlyList<KeyValuePair<string, object?>> ?? [], formatter(state, exception)));
    }
}
