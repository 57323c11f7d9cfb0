namespace BanActors.Server.Events;

/// <summary>The one HTTP client of every webhook: pooled connections, renewed every few minutes (DNS changes).</summary>
internal sealed class WebhookClient : IDisposable
{
    public HttpClient Http { get; } = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = WebhookHandler.Timeout,
        MaxConnectionsPerServer = 32,
    })
    {
        // Each delivery has its own timeout (WebhookHandler.Timeout).
        Timeout = Timeout.InfiniteTimeSpan,
    };

    public void Dispose() => Http.Dispose();
}
