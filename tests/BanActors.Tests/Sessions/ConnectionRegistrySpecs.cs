using BanActors.Bans;
using BanActors.Sessions;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Sessions;

public sealed class ConnectionRegistrySpecs : DatabaseSpecs
{
    private readonly ITestOutputHelper _output;

    public ConnectionRegistrySpecs(ITestOutputHelper output) : base(output) => _output = output;

    private static readonly UserKey Alice = new("app1", "alice");
    private static readonly UserKey Bob = new("app1", "bob");
    [Fact]
    public async Task A_ban_closes_every_session_of_the_user_and_no_other()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var phone = new RecordingSession("alice-phone");
        var laptop = new RecordingSession("alice-laptop");
        var tablet = new RecordingSession("alice-tablet");
        var bobPhone = new RecordingSession("bob-phone");
        foreach (var session in new[] { phone, laptop, tablet })
            Assert.IsType<SessionAccepted>(await host.Engine.RegisterSessionAsync(Alice, session));
        Assert.IsType<SessionAccepted>(await host.Engine.RegisterSessionAsync(Bob, bobPhone));
        Assert.True(await host.Engine.IsOnlineAsync(Alice));

        await host.Engine.BanAsync(Alice, 10);

        foreach (var session in new[] { phone, laptop, tablet })
        {
            var (code, reason) = await session.Kicked.WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(31009, code);
            Assert.Equal("USER_BLOCKED", reason);
        }
        Assert.False(await host.Engine.IsOnlineAsync(Alice));
        Assert.False(bobPhone.WasKicked);
        Assert.True(await host.Engine.IsOnlineAsync(Bob));
    }

    [Fact]
    public async Task A_banned_user_cannot_register_a_session_until_the_ban_ends()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        await host.Engine.BanAsync(Alice, 10);

        var refused = Assert.IsType<SessionRefused>(await host.Engine.RegisterSessionAsync(Alice, new RecordingSession("s1")));
        Assert.Equal(31009, refused.Code);
        Assert.False(await host.Engine.IsOnlineAsync(Alice));

        host.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.IsType<SessionAccepted>(await host.Engine.RegisterSessionAsync(Alice, new RecordingSession("s2")));
        Assert.True(await host.Engine.IsOnlineAsync(Alice));
    }

    [Fact]
    public async Task An_unregistered_session_is_no_longer_online_and_is_not_kicked()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var session = new RecordingSession("s1");
        await host.Engine.RegisterSessionAsync(Alice, session);
        host.Engine.UnregisterSession(Alice, session.SessionId);

        Assert.False(await host.Engine.IsOnlineAsync(Alice));
        await host.Engine.BanAsync(Alice, 10);
        Assert.False(await host.Engine.IsOnlineAsync(Alice));
        Assert.False(session.WasKicked);
    }

    [Fact]
    public async Task A_connect_racing_with_a_ban_never_ends_with_a_live_session_of_the_banned_user()
    {
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        const int users = 150;
        const int sessionsPerUser = 3;
        var random = new Random(20261126);
        var work = new List<Task>();
        var outcomes = new List<(UserKey User, RecordingSession Session, Task<SessionAdmission> Admission)>();

        for (var u = 0; u < users; u++)
        {
            var user = new UserKey("app1", $"racer-{u}");
            // Vary the interleaving: the ban goes first, last, or in between the connects.
            var banAt = random.Next(sessionsPerUser + 1);
            for (var s = 0; s <= sessionsPerUser; s++)
            {
                if (s == banAt) work.Add(host.Engine.BanAsync(user, 10));
                if (s == sessionsPerUser) break;
                var session = new RecordingSession($"racer-{u}-{s}");
                var admission = host.Engine.RegisterSessionAsync(user, session);
                outcomes.Add((user, session, admission));
                work.Add(admission);
            }
        }
        await Task.WhenAll(work);

        var accepted = 0;
        foreach (var (user, session, admission) in outcomes)
        {
            var result = await admission;
            if (result.IsAccepted)
            {
                accepted++;
                // An admitted session of a user who is now banned must have been kicked.
                await session.Kicked.WaitAsync(TimeSpan.FromSeconds(5));
            }
            else
            {
                Assert.Equal(31009, ((SessionRefused)result).Code);
            }
        }
        for (var u = 0; u < users; u++)
            Assert.False(await host.Engine.IsOnlineAsync(new UserKey("app1", $"racer-{u}")));
        _output.WriteLine($"{accepted} of {outcomes.Count} racing sessions were admitted before the ban and kicked after it");
    }

}
