using Akka.Hosting;
using Akka.Actor;
using BanActors.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace BanActors.Hosting;

/// <summary>Embeds the ban engine in an Akka.Hosting actor system.</summary>
public static class AkkaHostingExtensions
{
    /// <summary>
    /// Adds the engine's configuration (storage, serializers) and starts its actors: router, expiry index,
    /// connection registry. Resolve <see cref="IBanEngine"/> after <see cref="AddBanEngineFacade"/>.
    /// </summary>
    public static AkkaConfigurationBuilder WithBanEngine(this AkkaConfigurationBuilder builder, BanEngineOptions options)
    {
        BanEngineConfig.PrepareStorage(options.Storage);
        builder.AddHocon(BanEngineConfig.For(options.Storage), HoconAddMode.Prepend);
        if (SqliteGroupCommit.For(options.Storage) is { } sqlite) builder.AddSetup(sqlite);
        builder.WithActors((system, registry) => Register(registry, BanEngineActors.StartLocal(system, options)));
        return builder;
    }

    /// <summary>Registers the engine's actors under their keys so the facade and hosts can find them.</summary>
    public static void Register(IActorRegistry registry, BanEngineActors actors)
    {
        registry.Register<BanRouterKey>(actors.Bans);
        registry.Register<ActiveBanIndexKey>(actors.Index);
        registry.Register<ConnectionRegistryKey>(actors.Registry);
    }

    /// <summary>Registers <see cref="IBanEngine"/>, built from the actors that <see cref="WithBanEngine"/> started.</summary>
    public static IServiceCollection AddBanEngineFacade(this IServiceCollection services, BanEngineOptions options)
    {
        // Companions such as offline messaging share the engine's storage and clock.
        services.TryAddSingleton(options);
        services.AddSingleton<IBanEngine>(sp =>
        {
            var registry = sp.GetRequiredService<ActorRegistry>();
            var actors = new BanEngineActors(registry.Get<BanRouterKey>(), registry.Get<ActiveBanIndexKey>(),
                registry.Get<ConnectionRegistryKey>());
            return new BanEngine(actors, options.AskTimeout);
        });
        return services;
    }

    /// <summary>
    /// The one call for an IM backend: an actor system named <paramref name="systemName"/> running the engine,
    /// and <see cref="IBanEngine"/> in DI. <paramref name="configure"/> adds the host's own Akka setup.
    /// </summary>
    public static IServiceCollection AddBanEngine(this IServiceCollection services, BanEngineOptions options,
        string systemName = "banactors", Action<AkkaConfigurationBuilder, IServiceProvider>? configure = null)
    {
        services.AddAkka(systemName, (akka, sp) =>
        {
            akka.WithBanEngine(options);
            configure?.Invoke(akka, sp);
        });
        return services.AddBanEngineFacade(options);
    }
}
