namespace BanActors.Testing;

/// <summary>
/// Paths inside the repository, found from the test assembly's own folder. Not from <c>[CallerFilePath]</c>: a CI
/// build is deterministic and maps source paths to <c>/_/</c>, which exists nowhere on disk.
/// </summary>
internal static class RepoPaths
{
    /// <summary>The folder that holds <c>BanActors.sln</c>.</summary>
    public static string Root { get; } = FindRoot();

    public static string Under(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BanActors.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("No BanActors.sln above " + AppContext.BaseDirectory);
    }
}
