namespace BanActors.Bans;

/// <summary>The ranges the product allows (RongCloud: 1 to 43,200 minutes, no permanent ban).</summary>
public static class BanLimits
{
    public const int MinMinutes = 1;
    public const int MaxMinutes = 43_200;
    public const int MaxUserIdLength = 64;
    public const int MaxAppKeyLength = 64;

    /// <summary>
    /// App keys are part of persistence ids (<c>ban-{appKey}-{userId}</c>); without '-' in the key,
    /// two apps can never map to the same id.
    /// </summary>
    public static bool IsValidAppKey(string appKey) =>
        appKey.Length is > 0 and <= MaxAppKeyLength && appKey.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.');

    /// <summary>Returns null when the ban request is valid, otherwise the reason it is not.</summary>
    public static string? Validate(UserKey user, int minutes)
    {
        if (string.IsNullOrEmpty(user.AppKey)) return "appKey is required";
        if (user.AppKey.Length > MaxAppKeyLength) return $"appKey is longer than {MaxAppKeyLength} characters";
        if (!IsValidAppKey(user.AppKey)) return "appKey may only contain letters, digits, '_' and '.'";
        if (string.IsNullOrEmpty(user.UserId)) return "userId is required";
        if (user.UserId.Length > MaxUserIdLength) return $"userId is longer than {MaxUserIdLength} characters";
        if (minutes is < MinMinutes or > MaxMinutes) return $"minute must be between {MinMinutes} and {MaxMinutes}";
        return null;
    }
}
