using System.Collections.Concurrent;
using System.Diagnostics;
using BanActors.Tests.Support;
using Xunit.Abstractions;

namespace BanActors.Tests.Hosting;

/// <summary>A ban is one trace on the activity source <c>BanActors</c>: the facade's call, the journal write, the kick.</summary>
public sealed class TracingSpecs(ITestOutputHelper output) : DatabaseSpecs(output)
{
    [Fact]
    public async Task A_ban_is_one_trace_from_the_call_through_the_journal_write_to_the_kick()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "BanActors",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var user = new UserKey("tracing" + Guid.NewGuid().ToString("N")[..8], "eve");
        await using var host = EngineHost.Start(Database, EngineHost.NewClock());
        var phone = new RecordingSession("phone");
        Assert.True((await host.Engine.RegisterSessionAsync(user, phone)).IsAccepted);

        await host.Engine.BanAsync(user, 10);
        await phone.Kicked.WaitAsync(TimeSpan.FromSeconds(10));

        var ban = Assert.Single(stopped, a => a.OperationName == "ban" && Equals(a.GetTagItem("banactors.app"), user.AppKey));
        List<Activity> trace = [];
        await MetricRecorder.EventuallyAsync(() =>
        {
            trace = stopped.Where(a => a.TraceId == ban.TraceId).ToList();
            return trace.Any(a => a.OperationName == "kick");
        }, "the kick's span");
        var write = Assert.Single(trace, a => a.OperationName == "journal write");
        var kick = Assert.Single(trace, a => a.OperationName == "kick");
        Assert.Equal(ban.SpanId, write.ParentSpanId);
        Assert.Equal(ban.SpanId, kick.ParentSpanId);
        Assert.Equal(1, kick.GetTagItem("banactors.sessions"));
        Assert.True(write.Duration > TimeSpan.Zero);
    }
}
