namespace BanActors.Server.Apps;

/// <summary>One tenant of the server: its App-Key and App-Secret (from <c>BanActors:Apps</c>).</summary>
public sealed class AppCredentials
{
    public string AppKey { get; set; } = "";

    public string AppSecret { get; set; } = "";

    /// <summary>Where the app's ban events are POSTed (<c>BanActors:Apps:N:Webhook</c>); none by default.</summary>
    public WebhookOptions? Webhook { get; set; }

    // Never print the secret, even by accident through logging or a debugger display.
    public override string ToString() => AppKey;
}

/// <summary>The apps this server serves; lookups by App-Key.</summary>
public sealed class AppCatalog
{
    private readonly Dictionary<string, AppCredentials> _apps;

    public AppCatalog(IEnumerable<AppCredentials> apps)
    {
        _apps = new Dictionary<string, AppCredentials>(StringComparer.Ordinal);
        foreach (var app in apps)
        {
            if (string.IsNullOrEmpty(app.AppKey) || string.IsNullOrEmpty(app.AppSecret))
                throw new InvalidOperationException("Every app needs an AppKey and an AppSecret");
            if (!BanRules.IsValidAppKey(app.AppKey))
                throw new InvalidOperationException($"App key '{app.AppKey}' may only contain letters, digits, '_' and '.'");
            if (app.Webhook is { } webhook && !webhook.IsValid)
                throw new InvalidOperationException($"The webhook of app '{app.AppKey}' needs an absolute http or https Url");
            if (!_apps.TryAdd(app.AppKey, app))
                throw new InvalidOperationException($"App key '{app.AppKey}' is configured twice");
        }
    }

    public IReadOnlyCollection<AppCredentials> Apps => _apps.Values;

    public bool TryGet(string appKey, out AppCredentials app) => _apps.TryGetValue(appKey, out app!);
}

/// <summary>An app's webhook: its URL, and the secret that signs it (the app's secret when not set).</summary>
public sealed class WebhookOptions
{
    public string Url { get; set; } = "";

    public string? Secret { get; set; }

    internal bool IsValid =>
        Uri.TryCreate(Url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    // The secret never goes into a log line or a debugger display.
    public override string ToString() => Uri.TryCreate(Url, UriKind.Absolute, out var uri) ? uri.GetLeftPart(UriPartial.Path) : "(invalid)";
}
