using System.Reflection;
using BanActors.Cluster;
using BanActors.Testing;
using PublicApiGenerator;

namespace BanActors.Tests.PublicApi;

/// <summary>
/// Each package's public surface is what an embedding IM backend builds on: every change to it shows in review as a
/// change of <c>&lt;Package&gt;.approved.txt</c> (after Akka.Hosting's <c>CoreApiSpec</c>).
/// </summary>
public sealed class PublicApiSpecs
{
    private const int MaxPublicTypes = 45;

    public static TheoryData<string> Packages => ["BanActors", "BanActors.PostgreSql", "BanActors.Cluster"];

    [Theory]
    [MemberData(nameof(Packages))]
    public void The_public_api_is_the_approved_one(string package)
    {
        var api = Assembly.Load(package).GeneratePublicApi(new ApiGeneratorOptions
        {
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute"],
        }).ReplaceLineEndings("\n");
        var approvedPath = Path.Combine(Folder(), $"{package}.approved.txt");
        var receivedPath = Path.Combine(Folder(), $"{package}.received.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (api != approved)
        {
            File.WriteAllText(receivedPath, api);
            Assert.Fail($"The public API changed. If that is intended, copy {receivedPath} over {approvedPath} in the same commit.");
        }
        if (File.Exists(receivedPath)) File.Delete(receivedPath);
    }

    [Fact]
    public void The_engine_exposes_a_small_number_of_public_types_all_in_the_namespace_an_embedding_host_uses()
    {
        var types = typeof(IBanEngine).Assembly.GetExportedTypes();
        Assert.InRange(types.Length, 1, MaxPublicTypes);
        Assert.All(types, t => Assert.Equal("BanActors", t.Namespace));
    }

    [Fact]
    public void The_cluster_package_exposes_only_the_cluster_namespace()
    {
        var types = typeof(BanClusterOptions).Assembly.GetExportedTypes();
        Assert.NotEmpty(types);
        Assert.All(types, t => Assert.Equal("BanActors.Cluster", t.Namespace));
    }

    [Fact]
    public void The_engine_package_does_not_reference_npgsql_or_the_cluster()
    {
        var references = typeof(IBanEngine).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.DoesNotContain(references, r => r.StartsWith("Npgsql", StringComparison.Ordinal)
            || r.StartsWith("Akka.Cluster", StringComparison.Ordinal) || r.StartsWith("Akka.Remote", StringComparison.Ordinal));
    }

    private static string Folder() => RepoPaths.Under("tests", "BanActors.Tests", "PublicApi");
}
