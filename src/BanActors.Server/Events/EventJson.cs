using System.Text.Json;
using BanActors.Server.Api;

namespace BanActors.Server.Events;

/// <summary>
/// The JSON of one ban event, the same in a webhook's body, an SSE <c>data:</c> line and a dead letter:
/// <c>{"id":"42","type":"user.blocked","appKey":"k","userId":"u1","time":1795661506518,"blockEndTime":...,"minute":10,"reason":"spam","operator":"alice"}</c>,
/// times in milliseconds since the epoch, absent fields where they do not apply.
/// </summary>
internal static class EventJson
{
    internal sealed record Body(string Id, string Type, string AppKey, string UserId, long Time, long? BlockEndTime,
        int? Minute, string? Reason, string? Operator);

    public static Body Of(BanEvent e) => new(e.Id, e.Type, e.AppKey, e.UserId, e.Time.ToUnixTimeMilliseconds(),
        e.BlockEndTime?.ToUnixTimeMilliseconds(), e.Minutes, e.Reason, e.Operator);

    public static byte[] Serialize(BanEvent e) => JsonSerializer.SerializeToUtf8Bytes(Of(e), RongCloudResults.JsonOptions);
}
