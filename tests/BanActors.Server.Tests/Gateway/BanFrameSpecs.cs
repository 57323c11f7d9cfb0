using Xunit.Abstractions;

namespace BanActors.Server.Tests.Gateway;

/// <summary>
/// A ban the user can understand: the kicked and refused frames carry the ban's end time, and with
/// <c>BanActors:Gateway:ShowBanReason</c> its reason too (the frame's own <c>reason</c> stays USER_BLOCKED).
/// </summary>
public sealed class BanFrameSpecs(ITestOutputHelper output) : GatewaySpecs(output)
{
    [Fact]
    public async Task The_kicked_and_refused_frames_carry_the_end_time_but_not_the_reason_by_default()
    {
        var token = await Server.TokenAsync("u1");
        await using var session = await Server.ConnectAsync(token);
        await session.ExpectConnectedAsync("u1");
        var until = Clock.GetUtcNow().AddMinutes(10);

        await Server.PostOkAsync("/user/block.json", ("userId", "u1"), ("minute", "10"), ("reason", "spam links"));
        var kicked = await session.ExpectFrameAsync("kicked");
        Assert.Equal("USER_BLOCKED", kicked.GetProperty("reason").GetString());
        Assert.Equal(until.ToUnixTimeMilliseconds(), kicked.GetProperty("blockEndTime").GetInt64());
        Assert.False(kicked.TryGetProperty("banReason", out _), "the moderator's reason is not shown unless configured");

        await using var again = await Server.ConnectAsync(token);
        var refused = await again.ExpectFrameAsync("refused");
        Assert.Equal(until.ToUnixTimeMilliseconds(), refused.GetProperty("blockEndTime").GetInt64());
        Assert.False(refused.TryGetProperty("banReason", out _));
    }

    [Fact]
    public async Task With_show_ban_reason_the_frames_carry_the_reason_as_ban_reason()
    {
        await RestartAsync(new Dictionary<string, string?> { ["BanActors:Gateway:ShowBanReason"] = "true" });
        var token = await Server.TokenAsync("u2");
        await using var session = await Server.ConnectAsync(token);
        await session.ExpectConnectedAsync("u2");

        await Server.PostOkAsync("/user/block.json", ("userId", "u2"), ("minute", "30"), ("reason", "spam links"));
        var kicked = await session.ExpectFrameAsync("kicked");
        Assert.Equal("USER_BLOCKED", kicked.GetProperty("reason").GetString());
        Assert.Equal("spam links", kicked.GetProperty("banReason").GetString());

        await using var again = await Server.ConnectAsync(token);
        var refused = await again.ExpectFrameAsync("refused");
        Assert.Equal("spam links", refused.GetProperty("banReason").GetString());
        Assert.Equal(Clock.GetUtcNow().AddMinutes(30).ToUnixTimeMilliseconds(), refused.GetProperty("blockEndTime").GetInt64());
    }
}
