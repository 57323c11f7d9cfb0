namespace BanActors.Server.Gateway;

/// <summary>IM gateway settings (<c>BanActors:Gateway</c>).</summary>
public sealed class GatewayOptions
{
    /// <summary>The server pings each client this often.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A client that does not answer a ping within this time is considered gone; its session ends.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the server waits for the client to answer its close frame before dropping the connection.</summary>
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A frame the client does not take within this time drops the connection (queued messages are kept).</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Live messages waiting to be written to one session; beyond this, messages are kept for the next connect.</summary>
    public int SendQueueCapacity { get; set; } = 1_000;

    /// <summary>
    /// Also send the ban's reason (as <c>banReason</c>) in the kicked and refused frames. Off by default: a moderator's
    /// note is not always meant for the user.
    /// </summary>
    public bool ShowBanReason { get; set; }
}
