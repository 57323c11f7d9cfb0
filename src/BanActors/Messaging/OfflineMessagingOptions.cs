namespace BanActors;

/// <summary>Offline message settings. Binds from configuration (<c>BanActors:Messaging</c> in the server).</summary>
public sealed class OfflineMessagingOptions
{
    /// <summary>A kept message older than this is never delivered and is purged (RongCloud keeps 7 days).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often expired messages are purged, on the engine clock.</summary>
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How many kept messages a connecting session loads from the store at a time.</summary>
    public int DeliveryBatchSize { get; set; } = 200;

    /// <summary>How many recipients of one publish have their ban status checked at once.</summary>
    public int MaxStatusChecksInFlight { get; set; } = 32;
}
