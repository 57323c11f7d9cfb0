using System.Text.Json;
using BanActors.Bans;
using BanActors.Messaging;
using BanActors.Server.Api;

namespace BanActors.Server.Gateway;

/// <summary><c>/message/private/publish.json</c>: private messages to live sessions, or kept for the next connect.</summary>
public static class MessageEndpoints
{
    public const string PublishPath = "/message/private/publish.json";

    /// <summary>RongCloud's limit of recipients per private message.</summary>
    public const int MaxRecipients = 1000;

    public const int MaxObjectNameLength = 32;

    /// <summary>RongCloud's limit on a message body (the API's body cap may be lower).</summary>
    public const int MaxContentLength = 128 * 1024;

    public const int MaxPushLength = 1024;

    public static IEndpointRouteBuilder MapMessageEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapRongCloud(PublishPath, PublishAsync);
        return app;
    }

    private static async Task<IResult> PublishAsync(RongCloudContext context)
    {
        var message = ReadPublish(context);
        var delivery = context.Http.RequestServices.GetRequiredService<MessageDelivery>();
        // Returns once every kept copy is durable; a store failure becomes 1000, never a false 200.
        await delivery.PublishAsync(message, context.Aborted);
        return RongCloudResults.Ok();
    }

    /// <summary>Validates the whole form before anything is sent: 1003 no body, 1002 missing/malformed, 1005 too long.</summary>
    internal static PrivateMessage ReadPublish(RongCloudContext context)
    {
        context.RequireBody();
        var from = context.RequiredUserId("fromUserId");
        var to = context.RequiredUserIds(MaxRecipients, "toUserId");
        var objectName = context.RequiredString("objectName", MaxObjectNameLength);
        var content = context.RequiredString("content", MaxContentLength);
        if (!IsJson(content))
            throw new RongCloudRequestException(ErrorCodes.BadParameter, "content must be a JSON string");
        var pushContent = context.OptionalString("pushContent", MaxPushLength);
        var pushData = context.OptionalString("pushData", MaxPushLength);
        return new PrivateMessage(context.App.AppKey, from, to, objectName, content, pushContent, pushData);
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
}
