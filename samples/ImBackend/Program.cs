using BanActors;
using ImBackend;

// A small IM backend with its own WebSocket sessions that embeds the BanActors engine from its NuGet package:
// a ban kicks the user's live sessions at once and refuses new ones until it ends (see README.md).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddBanEngine(new BanEngineOptions
{
    Storage = { ConnectionString = builder.Configuration["BanDatabase"] ?? "Data Source=data/im-backend.db" },
});
builder.Services.AddSingleton<ChatSessions>();

var app = builder.Build();
app.UseWebSockets();

// The backend's own connections: ws://host/connect?user=alice. Each is registered with the engine as an IBanSession.
app.Map("/connect", async (HttpContext context, string user, ChatSessions sessions, ISessionRegistry registry) =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var session = new ChatSession(user, socket);
    var key = ChatSessions.Key(user);
    var admission = await registry.RegisterSessionAsync(key, session, context.RequestAborted);
    if (admission is SessionRefused refused)
    {
        await session.RefuseAsync(refused);
        return;
    }
    sessions.Add(session);
    try
    {
        await session.RunAsync(context.RequestAborted);
    }
    finally
    {
        sessions.Remove(session);
        registry.UnregisterSession(key, session.SessionId);
    }
});

app.MapGet("/sessions", (ChatSessions sessions) => sessions.List());

// Moderation: the engine stores the ban before it answers, kicks the user's sessions and lifts the ban at its end.
app.MapPost("/ban/{user}", async (string user, int? minutes, string? reason, IBanEngine bans) =>
{
    try
    {
        var ban = await bans.BanAsync(ChatSessions.Key(user), minutes ?? 10, new BanDetails(Reason: reason));
        return Results.Ok(new { user, until = ban.Until });
    }
    catch (BanRequestRejectedException e)
    {
        return Results.BadRequest(new { error = e.Message });
    }
});

app.MapPost("/unban/{user}", async (string user, IBanEngine bans) =>
    Results.Ok(new { user, wasBanned = (await bans.UnbanAsync(ChatSessions.Key(user))).WasBanned }));

app.MapGet("/bans/{user}", async (string user, IBanEngine bans) =>
{
    var status = await bans.GetStatusAsync(ChatSessions.Key(user));
    return Results.Ok(new { user, banned = status.IsBanned, until = status.Until });
});

app.Run();
