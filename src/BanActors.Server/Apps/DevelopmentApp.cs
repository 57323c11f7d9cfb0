using System.Security.Cryptography;
using System.Text.Json;
using BanActors.Storage;
using Microsoft.Data.Sqlite;

namespace BanActors.Server.Apps;

/// <summary>
/// The app a server uses when none is configured: created once with random credentials, kept in
/// <c>dev-app.json</c> in the data folder (next to the SQLite file) and reused on every start.
/// </summary>
public static class DevelopmentApp
{
    public const string FileName = "dev-app.json";

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>The folder the server keeps its files in: the SQLite file's folder, else <c>data</c>.</summary>
    public static string DataFolder(StorageOptions storage)
    {
        if (storage.Provider == StorageProvider.Sqlite)
        {
            var source = new SqliteConnectionStringBuilder(storage.ConnectionString).DataSource;
            if (!string.IsNullOrEmpty(source) && source != ":memory:")
                return Path.GetDirectoryName(Path.GetFullPath(source)) ?? Path.GetFullPath("data");
        }
        return Path.GetFullPath("data");
    }

    /// <summary>Reads the app from <paramref name="folder"/>, creating it first if there is none.</summary>
    /// <param name="created">True when this call made new credentials.</param>
    public static AppCredentials LoadOrCreate(string folder, out bool created)
    {
        var path = Path.Combine(folder, FileName);
        if (File.Exists(path))
        {
            var stored = JsonSerializer.Deserialize<AppCredentials>(File.ReadAllText(path));
            if (stored is null || string.IsNullOrEmpty(stored.AppKey) || string.IsNullOrEmpty(stored.AppSecret))
                throw new InvalidOperationException($"{path} holds no AppKey/AppSecret; delete it to make a new development app");
            created = false;
            return stored;
        }

        Directory.CreateDirectory(folder);
        var app = new AppCredentials { AppKey = "dev" + Random(13), AppSecret = Random(24) };
        var json = JsonSerializer.Serialize(app, Indented);
        // Written to a temporary file and moved so that a crash never leaves half a secret behind.
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, json);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: false);
        created = true;
        return app;
    }

    private static string Random(int length) => RandomNumberGenerator.GetString(Alphabet, length);
}
