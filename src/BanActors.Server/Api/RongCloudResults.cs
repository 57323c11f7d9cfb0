using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BanActors.Server.Api;

/// <summary>RongCloud's response bodies: <c>{"code":200,...}</c> or <c>{"code":N,"errorMessage":"...","url":"..."}</c>.</summary>
public static class RongCloudResults
{
    public const string ContentType = "application/json; charset=utf-8";

    /// <summary>camelCase names; non-ASCII user ids written as UTF-8 rather than \u escapes (the body is JSON, never HTML).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Optional fields (a ban's reason, the last page's nextCursor) are absent rather than null.
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    private sealed record ErrorBody(int Code, string ErrorMessage, string Url);

    /// <summary><c>{"code":200}</c>.</summary>
    public static IResult Ok() => Results.Json(new { code = ErrorCodes.Ok }, JsonOptions, ContentType);

    /// <summary><c>{"code":200, ...}</c> followed by the properties of <paramref name="fields"/> (an object).</summary>
    public static IResult Ok(object fields)
    {
        var body = new JsonObject { ["code"] = ErrorCodes.Ok };
        if (JsonSerializer.SerializeToNode(fields, fields.GetType(), JsonOptions) is not JsonObject extra)
            throw new ArgumentException("The fields of a success body must serialize to a JSON object", nameof(fields));
        foreach (var (name, value) in extra.ToList())
        {
            extra.Remove(name);
            body[name] = value;
        }
        return Results.Json(body, JsonOptions, ContentType);
    }

    /// <summary>An error body with the HTTP status of <paramref name="code"/> (see <see cref="ErrorCodes.HttpStatus"/>).</summary>
    public static IResult Error(int code, string message, string path) =>
        Results.Json(new ErrorBody(code, message, path), JsonOptions, ContentType, ErrorCodes.HttpStatus(code));
}
