using System.Net.Sockets;
using System.Text;

namespace BanActors.Server.Tests.Hardening;

/// <summary>An HTTP/1.1 answer read off a raw socket.</summary>
public sealed record RawAnswer(int Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public override string ToString() => $"{Status} {Body}";
}

/// <summary>
/// Sends bytes exactly as written (broken framing, odd encodings, wrong methods) over a TCP connection to the test
/// server, which no HttpClient would send, and reads the answer (de-chunked).
/// </summary>
public static class RawHttp
{
    public static async Task<RawAnswer> SendAsync(Uri server, string head, byte[] body, TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cancel.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(head), cancel.Token);
        await stream.WriteAsync(body, cancel.Token);
        await stream.FlushAsync(cancel.Token);
        using var buffer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(buffer, cancel.Token);
        }
        catch (IOException) when (buffer.Length > 0)
        {
            // The server may reset the connection once it has answered a body it refused to read.
        }
        return Parse(buffer.ToArray());
    }

    /// <summary>A request head: request line, headers (each "Name: value"), Connection: close, and the blank line.</summary>
    public static string Head(string method, string target, params string[] headers) =>
        $"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + string.Concat(headers.Select(h => h + "\r\n")) +
        "Connection: close\r\n\r\n";

    private static RawAnswer Parse(byte[] raw)
    {
        // Latin-1 keeps one char per byte, so that chunk sizes (in bytes) index the text; the body is UTF-8 below.
        var text = Encoding.Latin1.GetString(raw);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0) throw new InvalidOperationException($"no complete answer: \"{text}\"");
        var lines = text[..end].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2))
            .GroupBy(p => p[0].Trim(), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => string.Join(", ", g.Select(p => p[1].Trim())), StringComparer.OrdinalIgnoreCase);
        var body = text[(end + 4)..];
        if (headers.TryGetValue("Transfer-Encoding", out var coding) && coding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            body = Dechunk(body);
        return new RawAnswer(status, headers, Encoding.UTF8.GetString(Encoding.Latin1.GetBytes(body)));
    }

    private static string Dechunk(string body)
    {
        var result = new StringBuilder();
        var at = 0;
        while (at < body.Length)
        {
            var lineEnd = body.IndexOf("\r\n", at, StringComparison.Ordinal);
            if (lineEnd < 0) break;
            var size = Convert.ToInt32(body[at..lineEnd].Split(';')[0], 16);
            if (size == 0) break;
            result.Append(body, lineEnd + 2, size);
            at = lineEnd + 2 + size + 2;
        }
        return result.ToString();
    }
}
