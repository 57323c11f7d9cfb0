using System.Text.Json;
using BanActors.Bans;
using BanActors.Messaging;

namespace BanActors.Server.Gateway;

/// <summary>The form of <c>/message/private/publish.json</c>, validated the way the other endpoints validate theirs.</summary>
public static class PublishRequest
{
    public const int MaxRecipients = 1000;
    public const int MaxObjectNameLength = 32;

    /// <summary>RongCloud's limit on a message body.</summary>
    public const int MaxContentLength = 128 * 1024;

    public const int MaxPushLength = 1024;

    /// <summary>A validation failure: a RongCloud error code (1002 missing/malformed, 1005 too long) and why.</summary>
    public sealed record Invalid(int Code, string Message);

    /// <summary>Parses and validates; returns the message, or null with <paramref name="invalid"/> set.</summary>
    public static PrivateMessage? Parse(string appKey, IFormCollection form, out Invalid? invalid)
    {
        invalid = Check(form);
        if (invalid is not null) return null;
        return new PrivateMessage(appKey, form["fromUserId"].ToString(),
            form["toUserId"].Select(id => id!).ToList(), form["objectName"].ToString(), form["content"].ToString(),
            NullIfEmpty(form["pushContent"].ToString()), NullIfEmpty(form["pushData"].ToString()));
    }

    private static Invalid? Check(IFormCollection form)
    {
        var from = form["fromUserId"].ToString();
        if (from.Length == 0) return Missing("fromUserId");
        if (from.Length > BanLimits.MaxUserIdLength) return TooLong("fromUserId", BanLimits.MaxUserIdLength);

        var to = form["toUserId"];
        if (to.Count == 0) return Missing("toUserId");
        if (to.Count > MaxRecipients) return new Invalid(1005, $"toUserId: at most {MaxRecipients} users per request");
        foreach (var id in to)
        {
            if (string.IsNullOrEmpty(id)) return new Invalid(1002, "toUserId: an empty user id");
            if (id.Length > BanLimits.MaxUserIdLength) return TooLong("toUserId", BanLimits.MaxUserIdLength);
        }

        var objectName = form["objectName"].ToString();
        if (objectName.Length == 0) return Missing("objectName");
        if (objectName.Length > MaxObjectNameLength) return TooLong("objectName", MaxObjectNameLength);

        var content = form["content"].ToString();
        if (content.Length == 0) return Missing("content");
        if (content.Length > MaxContentLength) return TooLong("content", MaxContentLength);
        if (!IsJson(content)) return new Invalid(1002, "content must be a JSON string");

        if (form["pushContent"].ToString().Length > MaxPushLength) return TooLong("pushContent", MaxPushLength);
        if (form["pushData"].ToString().Length > MaxPushLength) return TooLong("pushData", MaxPushLength);
        return null;
    }

    private static bool IsJson(string content)
    {
        try
        {
            using var _ = JsonDocument.Parse(content);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static Invalid Missing(string name) => new(1002, $"{name} is required");

    private static Invalid TooLong(string name, int max) => new(1005, $"{name} is longer than {max} characters");

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}
