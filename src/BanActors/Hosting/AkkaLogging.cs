using Akka.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace BanActors.Hosting;

/// <summary>
/// Akka's logging through the host's Microsoft.Extensions.Logging (and nowhere else: not straight to stdout), at the
/// level <c>Logging:LogLevel</c> asks for. Both hosts use it: the embedded engine and the standalone server.
/// </summary>
internal static class AkkaLogging
{
    public static AkkaConfigurationBuilder WithHostLogging(this AkkaConfigurationBuilder akka, IConfiguration? configuration) =>
        akka.ConfigureLoggers(loggers =>
        {
            loggers.LogLevel = Level(configuration?.GetSection("Logging:LogLevel"));
            loggers.ClearLoggers();
            loggers.AddLoggerFactory();
        });

    /// <summary>
    /// Akka's own level: the most verbose level configured anywhere under <c>Logging:LogLevel</c>, so Akka never drops
    /// an event that the host's logging would show, and does not build one that every category would filter out.
    /// </summary>
    internal static Akka.Event.LogLevel Level(IConfigurationSection? levels)
    {
        var configured = (levels?.GetChildren() ?? [])
            .Select(level => Enum.TryParse<LogLevel>(level.Value, ignoreCase: true, out var parsed) ? parsed : LogLevel.Information)
            .DefaultIfEmpty(LogLevel.Information)
            .Min();
        return configured switch
        {
            LogLevel.Trace or LogLevel.Debug => Akka.Event.LogLevel.DebugLevel,
            LogLevel.Information => Akka.Event.LogLevel.InfoLevel,
            LogLevel.Warning => Akka.Event.LogLevel.WarningLevel,
            _ => Akka.Event.LogLevel.ErrorLevel,
        };
    }
}
