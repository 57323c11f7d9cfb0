namespace BanActors.Server.Api;

/// <summary>RongCloud's server API return codes that this server uses.</summary>
public static class ErrorCodes
{
    public const int Ok = 200;

    /// <summary>Internal error, e.g. the journal is unavailable (HTTP 500). Never a false success.</summary>
    public const int Internal = 1000;

    /// <summary>A parameter is missing, malformed or out of range; also an unknown App-Key (HTTP 400).</summary>
    public const int BadParameter = 1002;

    /// <summary>No POST body where one is required (HTTP 400).</summary>
    public const int NoBody = 1003;

    /// <summary>Signature check failed or a signing header is missing (HTTP 401).</summary>
    public const int Unauthorized = 1004;

    /// <summary>
    /// Not allowed (HTTP 403): the console's operator may not manage that app, or a change came without its
    /// antiforgery token.
    /// </summary>
    public const int Forbidden = 1006;

    /// <summary>A parameter or the body is too long (HTTP 400).</summary>
    public const int TooLong = 1005;

    /// <summary>Rate limit exceeded, per App-Key and endpoint (HTTP 429).</summary>
    public const int RateLimited = 1008;

    /// <summary>No endpoint at that path (HTTP 404). Not one of RongCloud's codes: it answers a bare 404.</summary>
    public const int NotFound = 1009;

    /// <summary>The endpoint exists but not for that HTTP method (HTTP 405; the API's endpoints take POST).</summary>
    public const int MethodNotAllowed = 1010;

    /// <summary>The HTTP status that goes with a return code.</summary>
    public static int HttpStatus(int code) => code switch
    {
        Ok => StatusCodes.Status200OK,
        Unauthorized => StatusCodes.Status401Unauthorized,
        Forbidden => StatusCodes.Status403Forbidden,
        RateLimited => StatusCodes.Status429TooManyRequests,
        NotFound => StatusCodes.Status404NotFound,
        MethodNotAllowed => StatusCodes.Status405MethodNotAllowed,
        Internal => StatusCodes.Status500InternalServerError,
        _ => StatusCodes.Status400BadRequest,
    };
}
