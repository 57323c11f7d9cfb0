using Akka.TestKit.Xunit2;
using Xunit.Abstractions;

namespace BanActors.Tests.Support;

/// <summary>A TestKit spec (with <see cref="SpecConfig"/>) that owns one temporary SQLite database, removed at the end.</summary>
public abstract class DatabaseSpecs(ITestOutputHelper output) : TestKit(SpecConfig.Default, output: output)
{
    private protected TempDatabase Database { get; } = new();

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) Database.Dispose();
    }
}
