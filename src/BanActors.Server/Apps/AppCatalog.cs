namespace BanActors.Server.Apps;

/// <summary>One tenant of the server: its App-Key and App-Secret (from <c>BanActors:Apps</c>).</summary>
public sealed class AppCredentials
{
    public string AppKey { get; set; } = "";

    public string AppSecret { get; set; } = "";

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
            if (!_apps.TryAdd(app.AppKey, app))
                throw new InvalidOperationException($"App key '{app.AppKey}' is configured twice");
        }
    }

    public IReadOnlyCollection<AppCredentials> Apps => _apps.Values;

    public bool TryGet(string appKey, out AppCredentials app) => _apps.TryGetValue(appKey, out app!);
}
