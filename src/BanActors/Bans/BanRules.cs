using System.Text;

namespace BanActors;

/// <summary>
/// The rules of a ban, in one place: the limits the product allows (RongCloud: 1 to 43,200 minutes, no permanent
/// ban), which app keys and user ids are valid, and "banned now?". Every entry point (HTTP, facade, actor) uses them.
/// </summary>
public static class BanRules
{
    /// <summary>The shortest ban, in minutes.</summary>
    public const int MinMinutes = 1;

    /// <summary>The longest ban, in minutes (30 days).</summary>
    public const int MaxMinutes = 43_200;

    /// <summary>The longest valid user id, in characters.</summary>
    public const int MaxUserIdLength = 64;

    /// <summary>The longest valid app key, in characters.</summary>
    public const int MaxAppKeyLength = 64;

    /// <summary>The largest page of the block list (and what an unpaged query returns at most).</summary>
    public const int MaxPageSize = 1000;

    /// <summary>The longest reason a ban or unban may record (Discord's audit-log limit).</summary>
    public const int MaxReasonLength = 512;

    /// <summary>The longest operator (moderator) name a ban or unban may record.</summary>
    public const int MaxOperatorLength = 64;

    /// <summary>The longest idempotency key a ban or unban may carry.</summary>
    public const int MaxIdempotencyKeyLength = 128;

    /// <summary>The largest page of a user's ban history.</summary>
    public const int MaxHistoryPageSize = 100;

    /// <summary>The largest page of the app-wide ledger.</summary>
    public const int MaxLogPageSize = 1000;

    /// <summary>"Banned now?" depends only on the end time and the clock, never on whether a timer ran.</summary>
    public static bool IsBanned(DateTimeOffset? until, DateTimeOffset now) => until is { } u && now < u;

    /// <summary>
    /// App keys are part of persistence ids (<c>ban-{appKey}-{userId}</c>); without '-' in the key, two apps can
    /// never map to the same id.
    /// </summary>
    public static bool IsValidAppKey(string? appKey) =>
        appKey is { Length: > 0 and <= MaxAppKeyLength } && appKey.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.');

    /// <summary>Returns null when <paramref name="user"/> names a valid user of a valid app, otherwise why not.</summary>
    public static string? ValidateUser(UserKey user)
    {
        if (string.IsNullOrEmpty(user.AppKey)) return "appKey is required";
        if (!IsValidAppKey(user.AppKey))
            return $"appKey must be 1 to {MaxAppKeyLength} letters, digits, '_' or '.'";
        return UserIdProblem(user.UserId, "userId", out _);
    }

    /// <summary>
    /// Why <paramref name="userId"/> is not a valid user id, or null when it is: 1 to <see cref="MaxUserIdLength"/>
    /// bytes in UTF-8 (RongCloud's limit), valid Unicode, no control characters, no leading or trailing whitespace.
    /// Ids are compared exactly (ordinal). <paramref name="tooLong"/> tells a length problem from the others.
    /// </summary>
    internal static string? UserIdProblem(string? userId, string name, out bool tooLong)
    {
        tooLong = false;
        if (string.IsNullOrEmpty(userId)) return $"{name} is required";
        foreach (var c in userId)
            if (char.IsControl(c)) return $"{name} must not contain control characters";
        if (char.IsWhiteSpace(userId[0]) || char.IsWhiteSpace(userId[^1]))
            return $"{name} must not begin or end with whitespace";
        int bytes;
        try
        {
            // Strict: an encoder would otherwise turn a lone surrogate into the three bytes of U+FFFD.
            bytes = StrictUtf8.GetByteCount(userId);
        }
        catch (EncoderFallbackException)
        {
            return $"{name} is not valid Unicode";
        }
        tooLong = bytes > MaxUserIdLength;
        return tooLong ? $"{name} is longer than {MaxUserIdLength} bytes in UTF-8" : null;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Returns null when the ban request is valid, otherwise the reason it is not.</summary>
    public static string? ValidateBan(UserKey user, int minutes) =>
        ValidateUser(user) ?? ValidateMinutes(minutes);

    /// <summary>Returns null when the details of a ban or unban are within their limits, otherwise why not.</summary>
    public static string? ValidateDetails(BanDetails? details)
    {
        if (details?.Reason is { Length: > MaxReasonLength }) return $"reason is longer than {MaxReasonLength} characters";
        if (details?.Operator is { Length: > MaxOperatorLength }) return $"operator is longer than {MaxOperatorLength} characters";
        if (details?.IdempotencyKey is { Length: 0 }) return "idempotencyKey is empty";
        if (details?.IdempotencyKey is { Length: > MaxIdempotencyKeyLength })
            return $"idempotencyKey is longer than {MaxIdempotencyKeyLength} characters";
        return null;
    }

    /// <summary>Returns null when <paramref name="minutes"/> is an allowed ban length, otherwise why not.</summary>
    public static string? ValidateMinutes(int minutes) =>
        minutes is < MinMinutes or > MaxMinutes ? $"minute must be between {MinMinutes} and {MaxMinutes}" : null;
}
