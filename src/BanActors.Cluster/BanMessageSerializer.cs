using System.Runtime.Serialization;
using Akka.Actor;
using Akka.Serialization;
using BanActors.Bans;
using BanActors.Messaging;
using BanActors.Sessions;

namespace BanActors.Cluster;

/// <summary>
/// Binary format of the messages that cross nodes in a cluster: commands to user actors, their replies, ban
/// notifications, list and online queries, live message delivery. String manifests name the message and its version, not the CLR type,
/// so nodes of two releases can talk during a rolling upgrade. Persisted events use <see cref="BanEventSerializer"/>.
/// </summary>
internal sealed class BanMessageSerializer(ExtendedActorSystem system) : SerializerWithStringManifest(system)
{
    public const int SerializerId = 4712;

    private const string UserKeyV1 = "UK1";
    private const string BanUserV2 = "BU2";
    private const string UnbanUserV2 = "UN2";
    private const string GetLastSequenceNrV1 = "GL1";
    private const string LastSequenceNrIsV1 = "LS1";
    private const string GetBanStatusV1 = "GS1";
    private const string ExpireBanV1 = "EB1";
    private const string BanAcceptedV1 = "BA1";
    private const string BanRejectedV1 = "BR1";
    private const string UnbanAcceptedV1 = "UA1";
    private const string BanCommandFailedV1 = "BF1";
    private const string BanStatusV2 = "ST2";
    private const string ExpiryHandledV1 = "EH1";
    private const string BanStartedV3 = "BS3";
    private const string ExpiryTakenV1 = "ET1";
    private const string BanEndedV1 = "BE1";
    private const string ListActiveBansV1 = "LA1";
    private const string ActiveBanPageV2 = "AP2";
    private const string IsIndexReadyV1 = "IR1";
    private const string GetOnlineStatusV2 = "GO2";
    private const string OnlineStatusV1 = "OS1";
    private const string UserMessageV1 = "UM1";
    private const string DeliverToUserV2 = "DN2";
    private const string MessageDeliveredV1 = "MD1";
    private const string KeptMessagesAvailableV2 = "NK2";

    public override int Identifier => SerializerId;

    public override string Manifest(object o) => o switch
    {
        UserKey => UserKeyV1,
        BanUser => BanUserV2,
        UnbanUser => UnbanUserV2,
        GetLastSequenceNr => GetLastSequenceNrV1,
        LastSequenceNrIs => LastSequenceNrIsV1,
        GetBanStatus => GetBanStatusV1,
        ExpireBan => ExpireBanV1,
        BanAccepted => BanAcceptedV1,
        BanRejected => BanRejectedV1,
        UnbanAccepted => UnbanAcceptedV1,
        BanCommandFailed => BanCommandFailedV1,
        BanStatus => BanStatusV2,
        ExpiryHandled => ExpiryHandledV1,
        BanStarted => BanStartedV3,
        ExpiryTaken => ExpiryTakenV1,
        BanEnded => BanEndedV1,
        ListActiveBans => ListActiveBansV1,
        ActiveBanPage => ActiveBanPageV2,
        IsIndexReady => IsIndexReadyV1,
        GetOnlineStatus => GetOnlineStatusV2,
        OnlineStatus => OnlineStatusV1,
        UserMessage => UserMessageV1,
        DeliverToUser => DeliverToUserV2,
        MessageDelivered => MessageDeliveredV1,
        KeptMessagesAvailable => KeptMessagesAvailableV2,
        _ => throw new ArgumentException($"Cannot serialize {o.GetType()}", nameof(o)),
    };

    public override byte[] ToBinary(object obj)
    {
        using var stream = new MemoryStream(64);
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            switch (obj)
            {
                case UserKey m: WriteUser(w, m); break;
                case BanUser m: WriteUser(w, m.User); w.Write(m.Minutes); WriteDetails(w, m.Details); break;
                case UnbanUser m: WriteUser(w, m.User); WriteDetails(w, m.Details); break;
                case GetLastSequenceNr m: WriteUser(w, m.User); break;
                case LastSequenceNrIs m: WriteUser(w, m.User); w.Write(m.SequenceNr); break;
                case GetBanStatus m: WriteUser(w, m.User); break;
                case ExpireBan m: WriteUser(w, m.User); WriteTime(w, m.Until); break;
                case BanAccepted m: WriteUser(w, m.User); WriteTime(w, m.Until); break;
                case BanRejected m: WriteUser(w, m.User); w.Write(m.Reason); break;
                case UnbanAccepted m: WriteUser(w, m.User); w.Write(m.WasBanned); break;
                case BanCommandFailed m: WriteUser(w, m.User); w.Write(m.Reason); break;
                case BanStatus m: WriteUser(w, m.User); w.Write(m.IsBanned); WriteOptionalTime(w, m.Until); WriteOptionalString(w, m.Reason); break;
                case ExpiryHandled m: WriteUser(w, m.User); WriteTime(w, m.Until); break;
                case BanStarted m:
                    WriteUser(w, m.User); WriteTime(w, m.Until); w.Write(m.SequenceNr); WriteRef(w, m.Holder);
                    WriteOptionalTime(w, m.At); WriteOptionalString(w, m.Reason); WriteOptionalString(w, m.Operator);
                    break;
                case ExpiryTaken m: WriteUser(w, m.User); WriteTime(w, m.Until); WriteRef(w, m.Holder); break;
                case BanEnded m: WriteUser(w, m.User); WriteTime(w, m.At); w.Write((byte)m.Cause); w.Write(m.SequenceNr); break;
                case ListActiveBans m: w.Write(m.AppKey); w.Write(m.Page); w.Write(m.Size); break;
                case ActiveBanPage m:
                    w.Write(m.Bans.Count);
                    foreach (var ban in m.Bans)
                    {
                        w.Write(ban.UserId);
                        WriteTime(w, ban.Until);
                        WriteOptionalTime(w, ban.Since);
                        WriteOptionalString(w, ban.Reason);
                        WriteOptionalString(w, ban.Operator);
                    }
                    w.Write(m.Total);
                    break;
                case IsIndexReady: break;
                case GetOnlineStatus m: WriteUser(w, m.User); break;
                case OnlineStatus m: WriteUser(w, m.User); w.Write(m.IsOnline); w.Write(m.Sessions); break;
                case UserMessage m: WriteMessage(w, m); break;
                case DeliverToUser m: WriteMessage(w, m.Message); break;
                case MessageDelivered m: WriteUser(w, m.User); w.Write(m.Sessions); break;
                case KeptMessagesAvailable m: WriteUser(w, m.User); break;
                default: throw new ArgumentException($"Cannot serialize {obj.GetType()}", nameof(obj));
            }
        }
        return stream.ToArray();
    }

    public override object FromBinary(byte[] bytes, string manifest)
    {
        using var r = new BinaryReader(new MemoryStream(bytes), System.Text.Encoding.UTF8);
        // Arguments are evaluated left to right in C#, which is the order they were written in.
        return manifest switch
        {
            UserKeyV1 => ReadUser(r),
            BanUserV2 => new BanUser(ReadUser(r), r.ReadInt32(), ReadDetails(r)),
            UnbanUserV2 => new UnbanUser(ReadUser(r), ReadDetails(r)),
            GetLastSequenceNrV1 => new GetLastSequenceNr(ReadUser(r)),
            LastSequenceNrIsV1 => new LastSequenceNrIs(ReadUser(r), r.ReadInt64()),
            GetBanStatusV1 => new GetBanStatus(ReadUser(r)),
            ExpireBanV1 => new ExpireBan(ReadUser(r), ReadTime(r)),
            BanAcceptedV1 => new BanAccepted(ReadUser(r), ReadTime(r)),
            BanRejectedV1 => new BanRejected(ReadUser(r), r.ReadString()),
            UnbanAcceptedV1 => new UnbanAccepted(ReadUser(r), r.ReadBoolean()),
            BanCommandFailedV1 => new BanCommandFailed(ReadUser(r), r.ReadString()),
            BanStatusV2 => new BanStatus(ReadUser(r), r.ReadBoolean(), ReadOptionalTime(r), ReadOptionalString(r)),
            ExpiryHandledV1 => new ExpiryHandled(ReadUser(r), ReadTime(r)),
            BanStartedV3 => new BanStarted(ReadUser(r), ReadTime(r), r.ReadInt64(), ReadRef(r), ReadOptionalTime(r), ReadOptionalString(r),
                ReadOptionalString(r)),
            ExpiryTakenV1 => new ExpiryTaken(ReadUser(r), ReadTime(r), ReadRef(r)),
            BanEndedV1 => new BanEnded(ReadUser(r), ReadTime(r), (UnbanCause)r.ReadByte(), r.ReadInt64()),
            ListActiveBansV1 => new ListActiveBans(r.ReadString(), r.ReadInt32(), r.ReadInt32()),
            ActiveBanPageV2 => ReadPage(r),
            IsIndexReadyV1 => IsIndexReady.Instance,
            GetOnlineStatusV2 => new GetOnlineStatus(ReadUser(r)),
            OnlineStatusV1 => new OnlineStatus(ReadUser(r), r.ReadBoolean(), r.ReadInt32()),
            UserMessageV1 => ReadMessage(r),
            DeliverToUserV2 => new DeliverToUser(ReadMessage(r)),
            MessageDeliveredV1 => new MessageDelivered(ReadUser(r), r.ReadInt32()),
            KeptMessagesAvailableV2 => new KeptMessagesAvailable(ReadUser(r)),
            _ => throw new SerializationException($"Unknown ban message manifest '{manifest}'"),
        };
    }

    private static ActiveBanPage ReadPage(BinaryReader r)
    {
        var count = r.ReadInt32();
        var bans = new List<ActiveBan>(count);
        for (var i = 0; i < count; i++)
            bans.Add(new ActiveBan(r.ReadString(), ReadTime(r), ReadOptionalTime(r), ReadOptionalString(r), ReadOptionalString(r)));
        return new ActiveBanPage(bans, r.ReadInt32());
    }

    // One layout for a message alone and inside DeliverToUser; a change of it needs new manifests for both.
    private static void WriteMessage(BinaryWriter w, UserMessage m)
    {
        w.Write(m.MsgUid);
        WriteUser(w, m.To);
        w.Write(m.FromUserId);
        w.Write(m.ObjectName);
        w.Write(m.Content);
        WriteOptionalString(w, m.PushContent);
        WriteOptionalString(w, m.PushData);
        WriteTime(w, m.SentTime);
    }

    private static UserMessage ReadMessage(BinaryReader r) => new(r.ReadString(), ReadUser(r), r.ReadString(), r.ReadString(),
        r.ReadString(), ReadOptionalString(r), ReadOptionalString(r), ReadTime(r));

    private static void WriteDetails(BinaryWriter w, BanDetails? details)
    {
        WriteOptionalString(w, details?.Reason);
        WriteOptionalString(w, details?.Operator);
    }

    private static BanDetails? ReadDetails(BinaryReader r)
    {
        var (reason, op) = (ReadOptionalString(r), ReadOptionalString(r));
        return reason is null && op is null ? null : new BanDetails(reason, op);
    }

    private static void WriteOptionalString(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null) w.Write(value);
    }

    private static string? ReadOptionalString(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    private static void WriteRef(BinaryWriter w, IActorRef actor) => w.Write(Akka.Serialization.Serialization.SerializedActorPath(actor));

    private IActorRef ReadRef(BinaryReader r) => system.Provider.ResolveActorRef(r.ReadString());

    private static void WriteUser(BinaryWriter w, UserKey user)
    {
        w.Write(user.AppKey);
        w.Write(user.UserId);
    }

    private static UserKey ReadUser(BinaryReader r) => new(r.ReadString(), r.ReadString());

    private static void WriteTime(BinaryWriter w, DateTimeOffset time) => w.Write(time.UtcTicks);

    private static DateTimeOffset ReadTime(BinaryReader r) => new(r.ReadInt64(), TimeSpan.Zero);

    private static void WriteOptionalTime(BinaryWriter w, DateTimeOffset? time)
    {
        w.Write(time.HasValue);
        if (time.HasValue) w.Write(time.Value.UtcTicks);
    }

    private static DateTimeOffset? ReadOptionalTime(BinaryReader r) => r.ReadBoolean() ? ReadTime(r) : null;
}
