using System.Security.Cryptography;
using BanActors.Bans;

namespace BanActors;

/// <summary>
/// One recipient's copy of a private message: what a session writes as a <c>message</c> frame, and what the
/// offline store keeps while the recipient is offline or banned.
/// </summary>
/// <param name="MsgUid">Unique per copy; see <see cref="MessageIds"/>.</param>
/// <param name="SentTime">When the server accepted the message, from the engine clock (millisecond precision).</param>
public sealed record UserMessage(
    string MsgUid,
    UserKey To,
    string FromUserId,
    string ObjectName,
    string Content,
    string? PushContent,
    string? PushData,
    DateTimeOffset SentTime)
{
    /// <summary><see cref="SentTime"/> in milliseconds since the Unix epoch, as in the frame.</summary>
    public long SentTimeMs => SentTime.ToUnixTimeMilliseconds();
}

/// <summary>A message in the offline store; <paramref name="Id"/> is the store's own key (send order).</summary>
internal sealed record KeptMessage(long Id, UserMessage Message);

/// <summary>Message ids in RongCloud's shape (<c>XXXX-XXXX-XXXX-XXXX</c>, base32).</summary>
internal static class MessageIds
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    private static int _sequence = RandomNumberGenerator.GetInt32(int.MaxValue);

    /// <summary>
    /// 80 bits: the low 40 bits of the millisecond time, a 16-bit per-process sequence and 24 random bits. Ids of
    /// one process differ unless it makes more than 65,536 in one millisecond; ids of two processes (cluster nodes)
    /// collide only with the same millisecond, the same sequence value and the same random bits.
    /// </summary>
    public static string New(DateTimeOffset at)
    {
        var time = (ulong)at.ToUnixTimeMilliseconds() & 0xFF_FFFF_FFFF;
        var sequence = (ulong)(ushort)Interlocked.Increment(ref _sequence);
        var low = (sequence << 24) | (uint)RandomNumberGenerator.GetInt32(1 << 24);
        Span<char> chars = stackalloc char[19];
        var pos = 0;
        for (var i = 0; i < 16; i++)
        {
            if (i > 0 && i % 4 == 0) chars[pos++] = '-';
            // 16 groups of 5 bits: the first 8 from the time, the last 8 from sequence and random bits.
            var value = i < 8 ? time >> (35 - 5 * i) : low >> (35 - 5 * (i - 8));
            chars[pos++] = Alphabet[(int)(value & 31)];
        }
        return new string(chars);
    }
}
