using System.Runtime.CompilerServices;
using PublicApiGenerator;

namespace BanActors.Tests.PublicApi;

/// <summary>
/// The engine's public surface is what an embedding IM backend builds on: every change to it shows in review as a
/// change of <c>BanActors.approved.txt</c> (after Akka.Hosting's <c>CoreApiSpec</c>).
/// </summary>
public sealed class PublicApiSpecs
{
    private const int MaxPublicTypes = 45;

    private static readonly string[] HostNamespaces = ["BanActors", "BanActors.Cluster"];

    [Fact]
    public void The_public_api_is_the_approved_one()
    {
        var api = typeof(IBanEngine).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute"],
        }).ReplaceLineEndings("\n");
        var approvedPath = Path.Combine(Folder(), "BanActors.approved.txt");
        var receivedPath = Path.Combine(Folder(), "BanActors.received.txt");
        var approved = File.Exists(approvedPath) ? File.ReadAllText(approvedPath).ReplaceLineEndings("\n") : "";
        if (api != approved)
        {
            File.WriteAllText(receivedPath, api);
            Assert.Fail($"The public API changed. If that is intended, copy {receivedPath} over {approvedPath} in the same commit.");
        }
        if (File.Exists(receivedPath)) File.Delete(receivedPath);
    }

    [Fact]
    public void The_engine_exposes_a_small_number_of_public_types_all_in_the_two_namespaces_an_embedding_host_uses()
    {
        var types = typeof(IBanEngine).Assembly.GetExportedTypes();
        Assert.InRange(types.Length, 1, MaxPublicTypes);
        Assert.All(types, t => Assert.Contains(t.Namespace, HostNamespaces));
    }

    private static string Folder([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
