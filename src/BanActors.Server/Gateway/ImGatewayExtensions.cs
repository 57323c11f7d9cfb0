using BanActors.Server.Api;
using System.Net.WebSockets;
using BanActors.Bans;
using BanActors.Hosting;
using BanActors.Messaging;
using BanActors.Server.Apps;
using BanActors.Sessions;

namespace BanActors.Server.Gateway;

/// <summary>The IM gateway: WebSocket sessions on <c>/im/connect</c> and private messages.</summary>
public static partial class ImGatewayExtensions
{
    public const string ConnectPath = "/im/connect";

    /// <summary>
    /// Registers the gateway and offline messaging (<c>BanActors:Gateway</c>, <c>BanActors:Messaging</c>). Needs the
    /// ban engine, <see cref="TokenService"/> and <see cref="AppCatalog"/> registered by the server.
    /// </summary>
    public static IServiceCollection AddImGateway(this IServiceCollection services, IConfiguration configuration)
    {
        var gateway = new GatewayOptions();
        configuration.GetSection("BanActors:Gateway").Bind(gateway);
        services.AddSingleton(gateway);
        services.AddOfflineMessaging(messaging => configuration.GetSection("BanActors:Messaging").Bind(messaging));
        return services;
    }

    /// <inheritdoc cref="AddImGateway(IServiceCollection, IConfiguration)"/>
    public static WebApplicationBuilder AddImGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddImGateway(builder.Configuration);
        return builder;
    }

    /// <summary>
    /// Maps <c>GET /im/connect?token=...</c> (WebSocket, with the middleware it needs) and
    /// <c>/message/private/publish.json</c>. Call after <c>AddBanActorsServer</c> and <see cref="AddImGateway(WebApplicationBuilder)"/>.
    /// </summary>
    public static WebApplication MapImGateway(this WebApplication app)
    {
        app.UseWebSockets();
        app.Map(ConnectPath, ConnectAsync);
        app.MapMessageEndpoints();
        return app;
    }

    private static async Task ConnectAsync(HttpContext context, TokenService tokens, ISessionRegistry sessions,
        MessageDelivery delivery, GatewayOptions options, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RongCloudResults.Error(ErrorCodes.BadParameter, "a WebSocket upgrade is required", ConnectPath).ExecuteAsync(context);
            return;
        }
        var log = loggers.CreateLogger("BanActors.Server.Gateway");
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout,
        });
        if (!tokens.TryValidate(context.Request.Query["token"], out var app, out var userId))
        {
            await RefuseAsync(socket, ConnectionCodes.TokenIncorrect, "TOKEN_INCORRECT", options, log);
            return;
        }

        var user = new UserKey(app.AppKey, userId);
        var session = new WebSocketSession(user, socket, delivery, options, log);
        try
        {
            SessionAdmission admission;
            try
            {
                admission = await sessions.RegisterSessionAsync(user, session, context.RequestAborted);
            }
            catch (BanEngineUnavailableException ex)
            {
                LogUnavailable(log, user, ex.Message);
                await RefuseAsync(socket, ConnectionCodes.ServerUnavailable, "SERVER_UNAVAILABLE", options, log);
                return;
            }
            if (admission is SessionRefused refused)
            {
                await RefuseAsync(socket, refused.Code, refused.Reason, options, log, refused.BanUntil,
                    options.ShowBanReason ? refused.BanReason : null);
                return;
            }
            using var stopping = lifetime.ApplicationStopping.Register(session.Shutdown);
            await session.RunAsync(context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client left while its admission was checked.
        }
        finally
        {
            sessions.UnregisterSession(user, session.SessionId);
        }
    }

    private static async Task RefuseAsync(WebSocket socket, int code, string reason, GatewayOptions options, ILogger log,
        DateTimeOffset? until = null, string? banReason = null)
    {
        try
        {
            using var timeout = new CancellationTokenSource(options.CloseTimeout);
            await socket.SendAsync(GatewayFrames.Refused(code, reason, until, banReason), WebSocketMessageType.Text, true, timeout.Token);
            await socket.CloseOutputAsync(GatewayFrames.CloseStatusFor(code), reason, timeout.Token);
            // Give the client the chance to answer the close, so it sees a clean close rather than a reset.
            var buffer = new byte[256];
            while ((await socket.ReceiveAsync(buffer, timeout.Token)).MessageType != WebSocketMessageType.Close) { }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            LogRefuseIncomplete(log, code, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not admit a session of {User}: {Reason}")]
    private static partial void LogUnavailable(ILogger log, UserKey user, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refusal {Code} not completed cleanly: {Reason}")]
    private static partial void LogRefuseIncomplete(ILogger log, int code, string reason);
}
