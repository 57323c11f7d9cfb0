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

    public static byte[] Refused(int code, string reason) => Write(w =>
    {
        w.WriteString("type", "refused");
        w.WriteNumber("code", code);
        w.WriteString("reason", reason);
    });

    public static byte[] Kicked(int code, string reason) => Write(w =>
    {
        w.WriteString("type", "kicked");
        w.WriteNumber("code", code);
        w.WriteString("reason", reason);
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
