using Akka.Actor;
using Akka.Serialization;

namespace BanActors.Bans;

/// <summary>
/// Stable binary format for ban events and snapshots. Manifests name the format version, not the CLR
/// type, so types can be renamed or moved without breaking journals written years ago.
/// </summary>
internal sealed class BanEventSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4711;

    // Version 1 (before the ledger) is still read; version 2 adds the optional reason and operator.
    private const string UserBannedV1 = "UB1";
    private const string UserUnbannedV1 = "UU1";
    private const string BanSnapshotV1 = "BS1";
    private const string UserBannedV2 = "UB2";
    private const string UserUnbannedV2 = "UU2";
    private const string BanSnapshotV2 = "BS2";
    // The expiry index's snapshot: one blob for every running ban of the engine, read at each start and failover.
    private const string IndexSnapshotV1 = "IX1";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        UserBanned => UserBannedV2,
        UserUnbanned => UserUnbannedV2,
        BanSnapshot => BanSnapshotV2,
        IndexSnapshot => IndexSnapshotV1,
        _ => throw new ArgumentException($"Cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        if (obj is IndexSnapshot index) return WriteIndex(index);
        using var stream = new MemoryStream(64);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            switch (obj)
            {
                case UserBanned e:
                    WriteBan(writer, e);
                    break;
                case UserUnbanned e:
                    WriteUser(writer, e.User);
                    writer.Write(e.At.UtcTicks);
                    writer.Write((byte)e.Cause);
                    WriteOptional(writer, e.Reason);
                    WriteOptional(writer, e.Operator);
                    break;
                case BanSnapshot s:
                    WriteUser(writer, s.User);
                    writer.Write(s.Ban is not null);
                    if (s.Ban is not null) WriteBan(writer, s.Ban);
                    break;
                default:
                    throw new ArgumentException($"Cannot serialize {obj.GetType()}", nameof(obj));
            }
        }
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        if (manifest == IndexSnapshotV1) return ReadIndex(bytes);
        using var reader = new BinaryReader(new MemoryStream(bytes), System.Text.Encoding.UTF8);
        switch (manifest)
        {
            case UserBannedV1:
            {
                var user = ReadUser(reader);
                return new UserBanned(user, ReadTime(reader), ReadTime(reader));
            }
            case UserBannedV2:
                return ReadBan(reader);
            case UserUnbannedV1:
            {
                var user = ReadUser(reader);
                var at = ReadTime(reader);
                return new UserUnbanned(user, at, (UnbanCause)reader.ReadByte());
            }
            case UserUnbannedV2:
            {
                var user = ReadUser(reader);
                var at = ReadTime(reader);
                var cause = (UnbanCause)reader.ReadByte();
                return new UserUnbanned(user, at, cause, ReadOptional(reader), ReadOptional(reader));
            }
            case BanSnapshotV1:
            {
                // Version 1 kept only the end time; the start is unknown and shown as the end.
                var user = ReadUser(reader);
                var banned = reader.ReadBoolean();
                var until = ReadTime(reader);
                return new BanSnapshot(user, banned ? new UserBanned(user, until, until) : null);
            }
            case BanSnapshotV2:
            {
                var user = ReadUser(reader);
                return new BanSnapshot(user, reader.ReadBoolean() ? ReadBan(reader) : null);
            }
            default:
                throw new System.Runtime.Serialization.SerializationException($"Unknown ban event manifest '{manifest}'");
        }
    }

    // Layout: offset, app keys once (a handful per engine), then per ban the app's number, user id, until, sequence nr
    // (7-bit), a flags byte and the optional since/reason/operator; last, an FNV-1a hash of everything before it, so
    // a damaged row is refused (and the index rebuilds) instead of loading wrong bans.
    private static byte[] WriteIndex(IndexSnapshot snapshot)
    {
        var apps = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var ban in snapshot.Bans) apps.TryAdd(ban.User.AppKey, apps.Count);
        using var stream = new MemoryStream(64 + snapshot.Bans.Count * 40);
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(snapshot.Offset);
            writer.Write7BitEncodedInt(apps.Count);
            foreach (var app in apps.Keys) writer.Write(app);
            writer.Write7BitEncodedInt(snapshot.Bans.Count);
            foreach (var ban in snapshot.Bans)
            {
                writer.Write7BitEncodedInt(apps[ban.User.AppKey]);
                writer.Write(ban.User.UserId);
                writer.Write(ban.Until.UtcTicks);
                writer.Write7BitEncodedInt64(ban.SequenceNr);
                var flags = (byte)((ban.Since is null ? 0 : 1) | (ban.Reason is null ? 0 : 2) | (ban.Operator is null ? 0 : 4));
                writer.Write(flags);
                if (ban.Since is { } since) writer.Write(since.UtcTicks);
                if (ban.Reason is not null) writer.Write(ban.Reason);
                if (ban.Operator is not null) writer.Write(ban.Operator);
            }
            writer.Flush();
            writer.Write(Fnv1a(stream.GetBuffer().AsSpan(0, (int)stream.Length)));
        }
        return stream.ToArray();
    }

    private static IndexSnapshot ReadIndex(byte[] bytes)
    {
        if (bytes.Length < 8 + 8 + 2
            || System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(bytes.Length - 8)) != Fnv1a(bytes.AsSpan(0, bytes.Length - 8)))
            throw new System.Runtime.Serialization.SerializationException("The ban index snapshot is damaged (hash mismatch)");
        using var reader = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - 8), System.Text.Encoding.UTF8);
        var offset = reader.ReadInt64();
        var apps = new string[reader.Read7BitEncodedInt()];
        for (var i = 0; i < apps.Length; i++) apps[i] = reader.ReadString();
        var bans = new IndexSnapshot.RunningBan[reader.Read7BitEncodedInt()];
        for (var i = 0; i < bans.Length; i++)
        {
            var user = new UserKey(apps[reader.Read7BitEncodedInt()], reader.ReadString());
            var until = ReadTime(reader);
            var sequenceNr = reader.Read7BitEncodedInt64();
            var flags = reader.ReadByte();
            DateTimeOffset? since = (flags & 1) != 0 ? ReadTime(reader) : null;
            var reason = (flags & 2) != 0 ? reader.ReadString() : null;
            var @operator = (flags & 4) != 0 ? reader.ReadString() : null;
            bans[i] = new IndexSnapshot.RunningBan(user, until, sequenceNr, since, reason, @operator);
        }
        if (reader.BaseStream.Position != reader.BaseStream.Length)
            throw new System.Runtime.Serialization.SerializationException("The ban index snapshot has trailing bytes");
        return new IndexSnapshot(offset, bans);
    }

    private static ulong Fnv1a(ReadOnlySpan<byte> data)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in data) hash = (hash ^ b) * 1099511628211UL;
        return hash;
    }

    private static void WriteBan(BinaryWriter writer, UserBanned e)
    {
        WriteUser(writer, e.User);
        writer.Write(e.At.UtcTicks);
        writer.Write(e.Until.UtcTicks);
        WriteOptional(writer, e.Reason);
        WriteOptional(writer, e.Operator);
    }

    private static UserBanned ReadBan(BinaryReader reader)
    {
        var user = ReadUser(reader);
        var at = ReadTime(reader);
        var until = ReadTime(reader);
        return new UserBanned(user, at, until, ReadOptional(reader), ReadOptional(reader));
    }

    private static void WriteOptional(BinaryWriter writer, string? value)
    {
        writer.Write(value is not null);
        if (value is not null) writer.Write(value);
    }

    private static string? ReadOptional(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;

    private static void WriteUser(BinaryWriter writer, UserKey user)
    {
        writer.Write(user.AppKey);
        writer.Write(user.UserId);
    }

    private static UserKey ReadUser(BinaryReader reader) => new(reader.ReadString(), reader.ReadString());

    private static DateTimeOffset ReadTime(BinaryReader reader) => new(reader.ReadInt64(), TimeSpan.Zero);
}
