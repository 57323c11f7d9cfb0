using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Identity;

namespace BanActors.Server.OperatorConsole;

/// <summary>The outcome of a sign-in attempt.</summary>
internal enum SignInOutcome
{
    SignedIn,
    WrongPassword,
    Locked,
}

/// <summary>
/// The operators who may sign in to the console, their password check (ASP.NET Core Identity's
/// <see cref="PasswordHasher{TUser}"/>), and the lockout after repeated wrong passwords, on the server's clock.
/// </summary>
internal sealed class OperatorDirectory
{
    public const string DevelopmentFileName = "dev-operator.json";

    private static readonly PasswordHasher<string> Hasher = new();

    // Verified against when the name is unknown, so that a wrong name costs as long as a wrong password.
    private static readonly string DecoyHash = Hasher.HashPassword("", RandomNumberGenerator.GetHexString(32));

    private readonly Dictionary<string, OperatorAccount> _operators;
    private readonly ConcurrentDictionary<string, Failures> _failures = new(StringComparer.Ordinal);
    private readonly ConsoleOptions _options;
    private readonly TimeProvider _clock;

    public OperatorDirectory(IEnumerable<OperatorAccount> operators, ConsoleOptions options, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
        _operators = new Dictionary<string, OperatorAccount>(StringComparer.Ordinal);
        foreach (var account in operators)
        {
            if (string.IsNullOrWhiteSpace(account.Name) || account.Name.Length > BanRules.MaxOperatorLength)
                throw new InvalidOperationException($"Every console operator needs a Name of 1 to {BanRules.MaxOperatorLength} characters");
            if (!IsHash(account.PasswordHash))
                throw new InvalidOperationException(
                    $"Console operator '{account.Name}' needs a PasswordHash made by 'hash-password' (ASP.NET Core Identity's format)");
            if (!_operators.TryAdd(account.Name, account))
                throw new InvalidOperationException($"Console operator '{account.Name}' is configured twice");
        }
    }

    public IReadOnlyCollection<OperatorAccount> Operators => _operators.Values;

    public bool TryGet(string name, out OperatorAccount account) => _operators.TryGetValue(name, out account!);

    /// <summary>The hash to put in <c>PasswordHash</c> for <paramref name="password"/>.</summary>
    public static string HashPassword(string password) => Hasher.HashPassword("", password);

    /// <summary>
    /// Checks the password unless the name is locked. <paramref name="retryAfter"/> is how long a locked name stays
    /// locked. Names that are not configured are never tracked, so guessing names cannot fill memory.
    /// </summary>
    public SignInOutcome SignIn(string name, string password, out OperatorAccount account, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var now = _clock.GetUtcNow();
        var known = _operators.TryGetValue(name, out account!);
        if (known && _failures.TryGetValue(name, out var failures) && failures.LockedUntil is { } until && until > now)
        {
            retryAfter = until - now;
            return SignInOutcome.Locked;
        }
        var verdict = Hasher.VerifyHashedPassword("", known ? account.PasswordHash : DecoyHash, password);
        if (known && verdict != PasswordVerificationResult.Failed)
        {
            _failures.TryRemove(name, out _);
            return SignInOutcome.SignedIn;
        }
        if (!known) return SignInOutcome.WrongPassword;

        var updated = _failures.AddOrUpdate(name,
            _ => new Failures(1, null),
            (_, previous) => new Failures(previous.LockedUntil is { } over && over <= now ? 1 : previous.Count + 1, null));
        if (updated.Count >= _options.LockoutAttempts)
        {
            _failures[name] = new Failures(0, now + _options.LockoutDuration);
            retryAfter = _options.LockoutDuration;
            return SignInOutcome.Locked;
        }
        return SignInOutcome.WrongPassword;
    }

    private static bool IsHash(string? hash)
    {
        if (string.IsNullOrEmpty(hash)) return false;
        try
        {
            var bytes = Convert.FromBase64String(hash);
            return bytes.Length > 0 && bytes[0] is 0x00 or 0x01;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private sealed record Failures(int Count, DateTimeOffset? LockedUntil);

    /// <summary>
    /// The operator used when none is configured: name <c>admin</c>, every app, and a random password kept in
    /// <c>dev-operator.json</c> (mode 600) in the data folder, reused on every start.
    /// </summary>
    public static (string Name, string Password, bool Created) LoadOrCreateDevelopment(string folder)
    {
        var path = Path.Combine(folder, DevelopmentFileName);
        if (File.Exists(path))
        {
            var stored = JsonSerializer.Deserialize<DevelopmentOperator>(File.ReadAllText(path));
            if (stored is null || string.IsNullOrEmpty(stored.Name) || string.IsNullOrEmpty(stored.Password))
                throw new InvalidOperationException($"{path} holds no Name/Password; delete it to make a new development operator");
            return (stored.Name, stored.Password, false);
        }
        Directory.CreateDirectory(folder);
        var made = new DevelopmentOperator("admin", RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyz23456789", 16));
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(made));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: false);
        return (made.Name, made.Password, true);
    }

    private sealed record DevelopmentOperator(string Name, string Password);
}
