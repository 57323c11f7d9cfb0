using System.Net.WebSockets;
using System.Text;

namespace BanActors.Bench.Infra;

internal static class WebSocketText
{
    /// <summary>The next whole text message of <paramref name="socket"/>; null when the server closes it.</summary>
    public static async Task<string?> ReceiveAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[8192];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, ct);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            message.Write(buffer, 0, result.Count);
        } while (!result.EndOfMessage);
        return Encoding.UTF8.GetString(message.ToArray());
    }
}
