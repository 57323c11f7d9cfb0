using System.Buffers;
using System.Net.WebSockets;
using System.Text.Encodings.Web;
using System.Text.Json;
using BanActors.Messaging;

namespace BanActors.Server.Gateway;

/// <summary>The JSON text frames the server sends (docs/GATEWAY.md).</summary>
public static class GatewayFrames
{
    /// <summary>Connection codes are RongCloud's (310xx); the matching WebSocket close status is 40xx.</summary>
    public static WebSocketCloseStatus CloseStatusFor(int code) => (WebSocketCloseStatus)(4000 + code % 1000);

    public static byte[] Connected(string userId) => Write(w =>
    {
        w.WriteString("type", "connected");
        w.WriteString("userId", userId);
    });

    /// <param name="until">The ban's end time, for a client to say "banned until 18:40" (milliseconds since the epoch).</param>
    /// <param name="banReason">The moderator's reason, only when <c>Gateway:ShowBanReason</c> is on.</param>
    public static byte[] Refused(int code, string reason, DateTimeOffset? until = null, string? banReason = null) =>
        Closing("refused", code, reason, until, banReason);

    /// <inheritdoc cref="Refused"/>
    public static byte[] Kicked(int code, string reason, DateTimeOffset? until = null, string? banReason = null) =>
        Closing("kicked", code, reason, until, banReason);

    private static byte[] Closing(string type, int code, string reason, DateTimeOffset? until, string? banReason) => Write(w =>
    {
        w.WriteString("type", type);
        w.WriteNumber("code", code);
        w.WriteString("reason", reason);
        if (until is { } end) w.WriteNumber("blockEndTime", end.ToUnixTimeMilliseconds());
        if (banReason is not null) w.WriteString("banReason", banReason);
    });

    public static byte[] Message(UserMessage message) => Write(w =>
    {
        w.WriteString("type", "message");
        w.WriteString("msgUID", message.MsgUid);
        w.WriteString("fromUserId", message.FromUserId);
        w.WriteString("objectName", message.ObjectName);
        w.WriteString("content", message.Content);
        w.WriteNumber("sentTime", message.SentTimeMs);
    });

    // Frames go to IM clients, never into HTML, so quotes and non-ASCII text stay readable.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static byte[] Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
