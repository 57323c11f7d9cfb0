using Microsoft.Extensions.Logging.Abstractions;

namespace BanActors.Tests.Messaging;

/// <summary>The default push notifier keeps its per-user counts bounded (the soak saw them grow with every recipient).</summary>
public sealed class RecordingPushNotifierSpecs
{
    private static UserMessage To(string user) =>
        new("m-" + user, new UserKey("app", user), "sender", "RC:TxtMsg", "{}", null, null, DateTimeOffset.UnixEpoch);

    [Fact]
    public async Task Counts_per_user_start_again_past_100000_distinct_users_and_the_total_goes_on()
    {
        var push = new RecordingPushNotifier(NullLogger<RecordingPushNotifier>.Instance);
        for (var i = 0; i < 100_000; i++) await push.NotifyAsync(To($"u{i}"));
        await push.NotifyAsync(To("u0"));
        Assert.Equal(2, push.CountFor(new UserKey("app", "u0")));

        await push.NotifyAsync(To("one-more"));

        Assert.Equal(1, push.CountFor(new UserKey("app", "one-more")));
        Assert.Equal(0, push.CountFor(new UserKey("app", "u0")));
        Assert.Equal(100_002, push.Total);
    }
}
