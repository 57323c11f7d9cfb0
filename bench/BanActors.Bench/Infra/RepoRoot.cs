namespace BanActors.Bench.Infra;

/// <summary>Finds the repository root (the folder holding BanActors.sln) from the working or the binary folder.</summary>
public static class RepoRoot
{
    public static string Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "BanActors.sln"))) return dir.FullName;
        }
        return Directory.GetCurrentDirectory();
    }
}
