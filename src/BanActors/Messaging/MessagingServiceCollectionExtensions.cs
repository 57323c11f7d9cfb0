using BanActors.Hosting;
using BanActors.Messaging;
using BanActors.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BanActors;

/// <summary>Adds offline messages (durable store, delivery, push, retention purge) next to the ban engine.</summary>
public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="MessageDelivery"/>, the <see cref="IOfflineMessageStore"/> for the engine's storage
    /// (same database as the journal), the default <see cref="RecordingPushNotifier"/> unless an
    /// <see cref="IPushNotifier"/> is registered already, and the retention purge. Needs
    /// <see cref="BanEngineHostingExtensions.AddBanEngine"/> (or <see cref="BanEngineHostingExtensions.AddBanEngineFacade"/>).
    /// </summary>
    public static IServiceCollection AddOfflineMessaging(this IServiceCollection services,
        Action<OfflineMessagingOptions>? configure = null)
    {
        var options = new OfflineMessagingOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<KeptMessageCount>();
        services.TryAddSingleton<IOfflineMessageStore>(sp => For(sp.GetRequiredService<BanEngineOptions>().Storage));
        services.TryAddSingleton<RecordingPushNotifier>(sp =>
            new RecordingPushNotifier(sp.GetService<ILogger<RecordingPushNotifier>>() ?? NullLogger<RecordingPushNotifier>.Instance));
        services.TryAddSingleton<IPushNotifier>(sp => sp.GetRequiredService<RecordingPushNotifier>());
        services.TryAddSingleton(sp => new MessageDelivery(
            sp.GetRequiredService<IBanEngine>(),
            sp.GetRequiredService<ISessionRegistry>(),
            sp.GetRequiredService<IOfflineMessageStore>(),
            sp.GetRequiredService<IPushNotifier>(),
            sp.GetRequiredService<OfflineMessagingOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<MessageDelivery>>() ?? NullLogger<MessageDelivery>.Instance,
            sp.GetRequiredService<KeptMessageCount>()));
        services.TryAddSingleton(sp => new OfflineMessagePurge(
            sp.GetRequiredService<IOfflineMessageStore>(),
            sp.GetRequiredService<OfflineMessagingOptions>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<OfflineMessagePurge>>() ?? NullLogger<OfflineMessagePurge>.Instance,
            sp.GetRequiredService<KeptMessageCount>()));
        services.AddSingleton<IHostedService>(sp => new StoreInitializer(sp.GetRequiredService<IOfflineMessageStore>()));
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<OfflineMessagePurge>());
        return services;
    }

    /// <summary>The offline store on the same database as the journal that <paramref name="storage"/> selects.</summary>
    internal static IOfflineMessageStore For(StorageOptions storage) =>
        StorageDrivers.For(storage.Provider).CreateOfflineMessageStore(storage.ConnectionString);

    // Creates the table at start, so a misconfigured database fails the start rather than the first message.
    private sealed class StoreInitializer(IOfflineMessageStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
