namespace BanActors.Server.Tests.Support;

/// <summary>The apps the test servers know. Each test class uses its own apps, so their users never meet.</summary>
public static class TestApps
{
    public static readonly TestApp A = new("appA", "secret-of-app-A");
    public static readonly TestApp B = new("appB", "secret-of-app-B");
    public static readonly TestApp Validation = new("appV", "secret-of-app-V");
    public static readonly TestApp Signing = new("appS", "secret-of-app-S");

    /// <summary>The seed's App-Key, with a secret whose signatures were computed offline (sha1sum).</summary>
    public static readonly TestApp Seed = new("uwd1c0sxdlx2", "Yp3nGs8vQx");

    public static readonly IReadOnlyList<TestApp> All = [A, B, Validation, Signing, Seed];
}

/// <summary>One server per test class (xUnit class fixture), on its own SQLite file.</summary>
public abstract class ServerFixture : IAsyncLifetime
{
    public ServerHost Server { get; private set; } = null!;

    protected virtual IReadOnlyList<TestApp> Apps => TestApps.All;

    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    protected virtual string? Hocon => null;

    public async Task InitializeAsync() => Server = await ServerHost.StartAsync(Apps, Settings, Hocon);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>A server with the default settings (UTC, 100 requests/s, no clock skew limit).</summary>
public sealed class DefaultServer : ServerFixture;
