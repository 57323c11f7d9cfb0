namespace BanActors.Server.OperatorConsole;

/// <summary>The operator console at <c>/console</c>, bound from <c>BanActors:Console</c>.</summary>
public sealed class ConsoleOptions
{
    public const string SectionName = "BanActors:Console";

    /// <summary>Who may sign in; with none, a development operator is made and its password printed at start.</summary>
    public List<OperatorAccount> Operators { get; set; } = [];

    /// <summary>Wrong passwords in a row before the operator name is locked.</summary>
    public int LockoutAttempts { get; set; } = 5;

    /// <summary>How long a locked operator name stays locked.</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a sign-in lasts without use (sliding).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>One operator: a name, an ASP.NET Core Identity password hash, and the App-Keys it may manage (<c>*</c>: all).</summary>
public sealed class OperatorAccount
{
    public string Name { get; set; } = "";

    /// <summary>As made by <c>dotnet run --project src/BanActors.Server -- hash-password</c> (PasswordHasher, V3).</summary>
    public string PasswordHash { get; set; } = "";

    public List<string> Apps { get; set; } = [];

    public bool MayManage(string appKey) => Apps.Contains("*") || Apps.Contains(appKey, StringComparer.Ordinal);

    // Never print the hash.
    public override string ToString() => Name;
}
