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

    private const string UserBannedV1 = "UB1";
    private const string UserUnbannedV1 = "UU1";
    private const string BanSnapshotV1 = "BS1";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        UserBanned => UserBannedV1,
        UserUnbanned => UserUnbannedV1,
        BanSnapshot => BanSnapshotV1,
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
                    WriteUser(writer, e.User);
                    writer.Write(e.At.UtcTicks);
                    writer.Write(e.Until.UtcTicks);
                    break;
                case UserUnbanned e:
                    WriteUser(writer, e.User);
                    writer.Write(e.At.UtcTicks);
                    writer.Write((byte)e.Cause);
                    break;
                case BanSnapshot s:
                    WriteUser(writer, s.User);
                    writer.Write(s.Until.HasValue);
                    writer.Write(s.Until?.UtcTicks ?? 0L);
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
            case UserUnbannedV1:
            {
                var user = ReadUser(reader);
                var at = ReadTime(reader);
                return new UserUnbanned(user, at, (UnbanCause)reader.ReadByte());
            }
            case BanSnapshotV1:
            {
                var user = ReadUser(reader);
                var banned = reader.ReadBoolean();
                var until = ReadTime(reader);
                return new BanSnapshot(user, banned ? until : null);
            }
            default:
                throw new System.Runtime.Serialization.SerializationException($"Unknown ban event manifest '{manifest}'");
        }
    }

    private static void WriteUser(BinaryWriter writer, UserKey user)
    {
        writer.Write(user.AppKey);
        writer.Write(user.UserId);
    }

    private static UserKey ReadUser(BinaryReader reader) => new(reader.ReadString(), reader.ReadString());

    private static DateTimeOffset ReadTime(BinaryReader reader) => new(reader.ReadInt64(), TimeSpan.Zero);
}
