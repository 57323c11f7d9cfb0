using BanActors.Server.Apps;

namespace BanActors.Server.Hosting;

/// <summary>The host's settings, bound from the <c>BanActors</c> configuration section.</summary>
public sealed class BanActorsServerOptions
{
    public const string SectionName = "BanActors";

    /// <summary>The apps served; with none, a development app is created in the data folder.</summary>
    public List<AppCredentials> Apps { get; set; } = [];

    public RateLimitOptions RateLimit { get; set; } = new();

    public SecurityOptions Security { get; set; } = new();

    public ApiOptions Api { get; set; } = new();

    public MetricsOptions Metrics { get; set; } = new();

    /// <summary>
    /// The time zone of <c>blockEndTime</c> in the block list, as an IANA or Windows id
    /// (e.g. <c>Asia/Shanghai</c>); UTC by default.
    /// </summary>
    public string TimeZone { get; set; } = "UTC";
}

/// <summary>Per App-Key and per endpoint request limit (RongCloud: 100 requests per second).</summary>
public sealed class RateLimitOptions
{
    public int PermitsPerSecond { get; set; } = 100;
}

/// <summary>Optional hardening of the request signature beyond what RongCloud's SDKs need.</summary>
public sealed class SecurityOptions
{
    /// <summary>
    /// When set, a request whose <c>Timestamp</c> is further than this from the server's clock is refused
    /// (1004). Off by default: some SDKs sign once and reuse the same headers for the life of their process.
    /// </summary>
    public int? MaxClockSkewSeconds { get; set; }
}

/// <summary>Limits of the HTTP API.</summary>
public sealed class ApiOptions
{
    /// <summary>Requests with a larger body are refused (1005) without being read whole.</summary>
    public long MaxBodyBytes { get; set; } = 64 * 1024;
}
