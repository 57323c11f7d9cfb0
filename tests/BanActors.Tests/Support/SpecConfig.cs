using Akka.Configuration;

namespace BanActors.Tests.Support;

/// <summary>
/// The TestKit configuration every spec starts from. Its default wait (AwaitAssert, ExpectMsg without an explicit
/// duration) is 15 s instead of TestKit's 3 s: a wait only lasts that long when the assertion is about to fail, and
/// on a busy 2-core CI machine running the cluster specs alongside, 3 s failed specs that were right.
/// </summary>
public static class SpecConfig
{
    private const string Hocon = """
        akka.test.single-expect-default = 15s
        akka.test.default-timeout = 15s
        """;

    public static Config Default => ConfigurationFactory.ParseString(Hocon);

    /// <summary><paramref name="hocon"/> over <see cref="Default"/>.</summary>
    public static Config With(string hocon) => ConfigurationFactory.ParseString(hocon).WithFallback(Default);

    /// <summary><paramref name="config"/> over <see cref="Default"/>.</summary>
    public static Config With(Config config) => config.WithFallback(Default);
}
