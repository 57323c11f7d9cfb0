using System.Globalization;

namespace BanActors.Server.Api;

/// <summary>
/// Reads and validates form parameters the way RongCloud answers: 1003 for no body, 1002 for a missing,
/// malformed or out-of-range value, 1005 for one that is too long or repeated too often. Each throws
/// <see cref="RongCloudRequestException"/>, so a handler validates everything before it changes anything.
/// </summary>
public static class RongCloudForm
{
    /// <summary>Refuses an empty body (1003) on endpoints that have required parameters.</summary>
    public static void RequireBody(this RongCloudContext context)
    {
        if (context.Form.Count == 0)
            throw new RongCloudRequestException(ErrorCodes.NoBody, "the request has no body; this endpoint needs form parameters");
    }

    /// <summary>A parameter that may be repeated: 1 to <paramref name="maxCount"/> values, each 1 to <paramref name="maxLength"/> characters.</summary>
    public static IReadOnlyList<string> RequiredList(this RongCloudContext context, string name, int maxCount, int maxLength)
    {
        var values = context.Form[name];
        if (values.Count == 0) throw Missing(name);
        if (values.Count > maxCount)
            throw new RongCloudRequestException(ErrorCodes.TooLong, $"too many {name} values: at most {maxCount}");
        var list = new string[values.Count];
        for (var i = 0; i < values.Count; i++) list[i] = Check(name, values[i], maxLength) ?? throw Empty(name);
        return list;
    }

    /// <summary>A parameter given exactly once, 1 to <paramref name="maxLength"/> characters.</summary>
    public static string RequiredString(this RongCloudContext context, string name, int maxLength) =>
        context.OptionalString(name, maxLength) ?? throw (context.Form.ContainsKey(name) ? Empty(name) : Missing(name));

    /// <summary>A parameter given at most once, up to <paramref name="maxLength"/> characters; null when absent or empty.</summary>
    public static string? OptionalString(this RongCloudContext context, string name, int maxLength)
    {
        var values = context.Form[name];
        if (values.Count > 1) throw new RongCloudRequestException(ErrorCodes.BadParameter, $"{name} must be given once");
        return values.Count == 0 ? null : Check(name, values[0], maxLength);
    }

    /// <summary>
    /// User ids (repeatable, up to <paramref name="maxCount"/>), each valid by <see cref="BanRules"/>' rule: 1 to 64 bytes
    /// in UTF-8, no control characters, no leading or trailing whitespace. Too long: 1005; otherwise invalid: 1002.
    /// </summary>
    public static IReadOnlyList<string> RequiredUserIds(this RongCloudContext context, int maxCount, string name = "userId")
    {
        var values = context.RequiredList(name, maxCount, BanRules.MaxUserIdLength);
        foreach (var value in values) CheckUserId(name, value);
        return values;
    }

    /// <summary>One user id, given once (see <see cref="RequiredUserIds"/> for the rule).</summary>
    public static string RequiredUserId(this RongCloudContext context, string name = "userId") =>
        CheckUserId(name, context.RequiredString(name, BanRules.MaxUserIdLength));

    /// <summary>An optional user id (a filter); null when absent or empty.</summary>
    public static string? OptionalUserId(this RongCloudContext context, string name = "userId") =>
        context.OptionalString(name, BanRules.MaxUserIdLength) is { } value ? CheckUserId(name, value) : null;

    private static string CheckUserId(string name, string value) =>
        BanRules.UserIdProblem(value, name, out var tooLong) is { } problem
            ? throw new RongCloudRequestException(tooLong ? ErrorCodes.TooLong : ErrorCodes.BadParameter, problem)
            : value;

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>, given once.</summary>
    public static int RequiredInt(this RongCloudContext context, string name, int min, int max) =>
        context.OptionalInt(name, min, max) ?? throw Missing(name);

    /// <summary>An integer from <paramref name="min"/> to <paramref name="max"/>; null when absent or empty.</summary>
    public static int? OptionalInt(this RongCloudContext context, string name, int min, int max)
    {
        var values = context.Form[name];
        if (values.Count > 1) throw new RongCloudRequestException(ErrorCodes.BadParameter, $"{name} must be given once");
        var text = values.Count == 0 ? null : values[0];
        if (string.IsNullOrEmpty(text)) return null;
        var digits = text.AsSpan().TrimStart('-');
        // Only plain integers: no decimals, exponents, spaces or '+'.
        if (digits.Length == 0 || digits.Length < text.Length - 1 || !digits.ContainsOnlyDigits())
            throw new RongCloudRequestException(ErrorCodes.BadParameter, $"{name} must be an integer from {min} to {max}");
        // A number too large for an int is out of range too, not malformed.
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            || value < min || value > max)
            throw new RongCloudRequestException(ErrorCodes.BadParameter, $"{name} must be from {min} to {max}");
        return value;
    }

    internal static bool ContainsOnlyDigits(this ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (!char.IsAsciiDigit(c)) return false;
        return true;
    }

    private static string? Check(string name, string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (value.Length > maxLength)
            throw new RongCloudRequestException(ErrorCodes.TooLong, $"{name} is longer than {maxLength} characters");
        return value;
    }

    private static RongCloudRequestException Missing(string name) => new(ErrorCodes.BadParameter, $"{name} is required");

    private static RongCloudRequestException Empty(string name) => new(ErrorCodes.BadParameter, $"{name} must not be empty");
}
