using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
using BanActors.Feed;
using BanActors.Hosting;
using BanActors.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace BanActors;

/// <summary>Embeds the ban engine in an IM backend: <c>services.AddBanEngine(options)</c>, or <c>akka.WithBanEngine(options)</c>.</summary>
public static class BanEngineHostingExtensions
{
    /// <summary>
    /// The one call for an IM backend: an actor system named <paramref name="systemName"/> running the engine on one
    /// node (no network port is opened), and <see cref="IBanEngine"/> and <see cref="ISessionRegistry"/> in DI.
    /// Akka's logs go through the host's Microsoft.Extensions.Logging, honouring <c>Logging:LogLevel</c>.
    /// <paramref name="configure"/> adds the host's own Akka setup.
    /// </summary>
    public static IServiceCollection AddBanEngine(this IServiceCollection services, BanEngineOptions options,
        string systemName = "banactors", Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        services.AddAkka(systemName, (akka, sp) =>
        {
            akka.WithBanEngine(options);
            // Akka's log lines go where the host's go, filtered by its Logging:LogLevel; configure may change it.
            akka.WithHostLogging(sp.GetService<IConfiguration>());
            configure?.Invoke(akka, sp);
        });
        return services.AddBanEngineFacade(options);
    }

    /// <summary>
    /// Adds the engine to an actor system the host configures itself (storage HOCON, serializers, the engine's
    /// actors). Call <see cref="AddBanEngineFacade"/> on the services too.
    /// </summary>
    public static AkkaConfigurationBuilder WithBanEngine(this AkkaConfigurationBuilder builder, BanEngineOptions options) =>
        builder.WithBanEngine(options, LocalTopology.Instance, Config.Empty);

    /// <summary>
    /// Registers <see cref="IBanEngine"/> and <see cref="ISessionRegistry"/>, built from the actors that
    /// <see cref="WithBanEngine(AkkaConfigurationBuilder, BanEngineOptions)"/> started, and the system clock as the
    /// engine's <see cref="TimeProvider"/> unless one is registered (it also times the idempotency keys).
    /// </summary>
    public static IServiceCollection AddBanEngineFacade(this IServiceCollection services, BanEngineOptions options)
    {
        // Companions such as offline messaging share the engine's storage and clock.
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp =>
        {
            var registry = sp.GetRequiredService<ActorRegistry>();
            var actors = new BanEngineActors(registry.Get<BanRouterKey>(), registry.Get<ActiveBanIndexKey>(),
                registry.Get<ConnectionRegistryKey>(), registry.Get<SessionsKey>());
            return BanEngine.Create(actors, options, sp.GetRequiredService<ActorSystem>(), sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(sp => sp.GetRequiredService<BanEngine>().Idempotency);
        services.AddSingleton<IBanEngine>(sp => sp.GetRequiredService<BanEngine>());
        services.AddSingleton<IBanEventFeed>(sp => new BanEventFeed(new FeedStore(new LedgerStore(options.Storage)),
            sp.GetRequiredService<ActorSystem>(), TimeSpan.FromMilliseconds(500)));
        services.AddSingleton<ISessionRegistry>(sp => sp.GetRequiredService<BanEngine>());
        return services;
    }

    /// <summary>The one composition path of both topologies: storage, HOCON, setup, then the actors.</summary>
    internal static AkkaConfigurationBuilder WithBanEngine(this AkkaConfigurationBuilder builder, BanEngineOptions options,
        IEngineTopology topology, Config topologyConfig)
    {
        BanEngineConfig.PrepareStorage(options.Storage);
        builder.AddHocon(topologyConfig.WithFallback(BanEngineConfig.For(options.Storage)), HoconAddMode.Prepend);
        if (SqliteGroupCommit.For(options.Storage) is { } sqlite) builder.AddSetup(sqlite);
        builder.WithActors((system, registry, resolver) =>
        {
            var clock = resolver.GetService<TimeProvider>() ?? TimeProvider.System;
            var handlers = resolver.GetService<IEnumerable<IBanEventHandler>>()?.ToList() ?? [];
            Register(registry, BanEngineActors.Start(system, options, clock, topology, handlers,
                resolver.GetService<ILoggerFactory>()));
        });
        return builder;
    }

    private static void Register(IActorRegistry registry, BanEngineActors actors)
    {
        registry.Register<BanRouterKey>(actors.Bans);
        registry.Register<ActiveBanIndexKey>(actors.Index);
        registry.Register<ConnectionRegistryKey>(actors.Registry);
        registry.Register<SessionsKey>(actors.Sessions);
    }
}
