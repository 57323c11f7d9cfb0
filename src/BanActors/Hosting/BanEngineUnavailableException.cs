namespace BanActors;

/// <summary>The engine could not give a durable answer in time (journal down, overloaded, or timed out).</summary>
public sealed class BanEngineUnavailableException : Exception
{
    /// <inheritdoc />
    public BanEngineUnavailableException() { }

    /// <inheritdoc />
    public BanEngineUnavailableException(string message) : base(message) { }

    /// <inheritdoc />
    public BanEngineUnavailableException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The request was invalid (e.g. minute out of range); nothing was changed.</summary>
public sealed class BanRequestRejectedException : Exception
{
    /// <inheritdoc />
    public BanRequestRejectedException() { }

    /// <inheritdoc />
    public BanRequestRejectedException(string message) : base(message) { }

    /// <inheritdoc />
    public BanRequestRejectedException(string message, Exception inner) : base(message, inner) { }
}
