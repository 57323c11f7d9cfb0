using System.Diagnostics;

namespace BanActors.Hosting;

/// <summary>
/// The engine's spans, on the activity source <c>BanActors</c> (OpenTelemetry: <c>AddSource("BanActors")</c>): a ban
/// or unban from the facade's call, through the user actor's journal write, to the kick of the user's sessions. The
/// span context rides on the command and the ban notice inside one process; across cluster nodes it is not carried,
/// so a remote node's spans start traces of their own. Nothing is recorded while no one listens.
/// </summary>
internal static class BanTracing
{
    public const string SourceName = "BanActors";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Starts a span under <paramref name="parent"/> that ends later, in another message (a persist callback), without
    /// becoming the current activity of the actor thread that started it.
    /// </summary>
    public static Activity? StartDetached(string name, ActivityContext parent)
    {
        if (!Source.HasListeners()) return null;
        var previous = Activity.Current;
        var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
        Activity.Current = previous;
        return activity;
    }

    /// <summary>Ends a span of <see cref="StartDetached"/>, leaving the thread's current activity as it was.</summary>
    public static void StopDetached(Activity? activity)
    {
        if (activity is null) return;
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>The context to hand to the actors: the span just started, or the caller's (an HTTP request's).</summary>
    public static ActivityContext ContextOf(Activity? activity) => activity?.Context ?? Activity.Current?.Context ?? default;
}
