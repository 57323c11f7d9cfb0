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

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        UserBanned => UserBannedV2,
        UserUnbanned => UserUnbannedV2,
        BanSnapshot => BanSnapshotV2,
        _ => throw new ArgumentException($"Cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
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
