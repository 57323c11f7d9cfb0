using BanActors.Server.Apps;

namespace BanActors.Server.Api;

/// <summary>One signed, authenticated and rate-limited request to a RongCloud endpoint, with its parsed form.</summary>
public sealed class RongCloudContext
{
    /// <summary>The app whose secret signed the request; scope every user id by its <c>AppKey</c>.</summary>
    public required AppCredentials App { get; init; }

    /// <summary>The form parameters; an empty collection when the body is empty.</summary>
    public required IFormCollection Form { get; init; }

    /// <summary>The endpoint's path as mapped, e.g. <c>/user/block.json</c>; errors report it as <c>url</c>.</summary>
    public required string Path { get; init; }

    public required HttpContext Http { get; init; }

    public CancellationToken Aborted => Http.RequestAborted;
}

/// <summary>
/// Thrown by a handler (or the <see cref="RongCloudForm"/> helpers) to answer with a RongCloud error;
/// <see cref="RongCloudEndpoints.MapRongCloud"/> turns it into the error body.
/// </summary>
public sealed class RongCloudRequestException : Exception
{
    public RongCloudRequestException() : this(ErrorCodes.BadParameter, "bad request") { }

    public RongCloudRequestException(string message) : this(ErrorCodes.BadParameter, message) { }

    public RongCloudRequestException(string message, Exception inner) : base(message, inner) => Code = ErrorCodes.BadParameter;

    public RongCloudRequestException(int code, string message) : base(message) => Code = code;

    public int Code { get; }
}
