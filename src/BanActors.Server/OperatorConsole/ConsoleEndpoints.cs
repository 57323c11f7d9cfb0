using System.Globalization;
using System.Reflection;
using System.Security.Claims;
using System.Text.Json;
using BanActors.Messaging;
using BanActors.Server.Api;
using BanActors.Server.Apps;
using BanActors.Server.Events;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;

namespace BanActors.Server.OperatorConsole;

/// <summary>
/// The operator console: a page at <c>/console</c> (HTML, CSS and JS embedded in this assembly) and its JSON API
/// under <c>/console/api</c>, signed in with a cookie of its own scheme, never with an app's secret. Every change
/// needs the antiforgery token in <see cref="AntiforgeryHeader"/>; every app-scoped call checks that the operator may
/// manage the app. Answers are the API's JSON shape: <c>{"code":200,...}</c> or <c>{"code":N,"errorMessage":...}</c>.
/// </summary>
internal static class ConsoleEndpoints
{
    public const string Scheme = "BanActors.Console";
    public const string BasePath = "/console";
    public const string ApiPath = BasePath + "/api";
    public const string AntiforgeryHeader = "X-CSRF-TOKEN";
    public const string CookieName = "banactors.console";

    /// <summary>The durations the ban form offers, in minutes: 10 minutes, 1 hour, 1 day, 7 days, 30 days.</summary>
    public static readonly int[] PresetMinutes = [10, 60, 1440, 10080, 43200];

    private const long MaxBodyBytes = 32 * 1024;
    private const int MaxPasswordLength = 1024;
    private const int DefaultPageSize = 20;
    private const int MaxListPageSize = 100;

    // What the page may load: only itself. No inline script, no third party.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    private static readonly Dictionary<string, string> Assets = new(StringComparer.Ordinal)
    {
        ["console.js"] = "text/javascript; charset=utf-8",
        ["console.css"] = "text/css; charset=utf-8",
    };

    /// <summary>
    /// Registers the console: its operators (<c>BanActors:Console</c>), cookie authentication and antiforgery, with
    /// the data-protection keys in <paramref name="dataFolder"/> so a sign-in outlives a restart.
    /// </summary>
    public static IServiceCollection AddOperatorConsole(this IServiceCollection services, IConfiguration configuration,
        string dataFolder)
    {
        var options = new ConsoleOptions();
        configuration.GetSection(ConsoleOptions.SectionName).Bind(options);
        if (options.LockoutAttempts < 1) throw new InvalidOperationException("BanActors:Console:LockoutAttempts must be positive");
        services.AddSingleton(options);
        services.AddSingleton(sp => CreateDirectory(sp, options, dataFolder));
        services.AddDataProtection()
            .SetApplicationName("BanActors.Server")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataFolder, "console-keys")));
        services.AddAuthentication().AddCookie(Scheme, cookie =>
        {
            cookie.Cookie.Name = CookieName;
            cookie.Cookie.Path = BasePath;
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = options.SessionLifetime;
            cookie.SlidingExpiration = true;
            // The API answers 1004 itself; the cookie handler must never redirect to a login page.
            cookie.Events.OnRedirectToLogin = context =>
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return Task.CompletedTask;
            };
            cookie.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });
        services.AddAntiforgery(antiforgery =>
        {
            antiforgery.HeaderName = AntiforgeryHeader;
            antiforgery.Cookie.Name = CookieName + ".antiforgery";
            antiforgery.Cookie.Path = BasePath;
            antiforgery.Cookie.SameSite = SameSiteMode.Strict;
        });
        return services;
    }

    public static WebApplication MapOperatorConsole(this WebApplication app)
    {
        // Resolved now so that a development operator is made, and announced, at start.
        app.Services.GetRequiredService<OperatorDirectory>();

        // Routing treats /console and /console/ as one path.
        app.MapGet(BasePath, ServePage);
        app.MapGet(BasePath + "/{asset}", ServeAsset);

        app.MapGet(ApiPath + "/antiforgery", AntiforgeryAsync);
        app.MapPost(ApiPath + "/signin", SignInAsync);
        app.MapApi("POST", "/signout", change: true, SignOutAsync);
        app.MapApi("GET", "/me", change: false, MeAsync);
        app.MapApi("GET", "/apps/{appKey}/bans", change: false, ListBansAsync);
        app.MapApi("POST", "/apps/{appKey}/bans", change: true, BanAsync);
        app.MapApi("POST", "/apps/{appKey}/unbans", change: true, UnbanAsync);
        app.MapApi("GET", "/apps/{appKey}/users/{userId}", change: false, UserAsync);
        app.MapApi("GET", "/apps/{appKey}/chart", change: false, ChartAsync);
        app.MapApi("GET", "/apps/{appKey}/events", change: false, EventsAsync);
        // Anything else under the API is the JSON error shape too, never an empty 404.
        app.Map(ApiPath + "/{**rest}", (HttpContext http) =>
            RongCloudResults.Error(ErrorCodes.BadParameter, "no such console endpoint", http.Request.Path));
        return app;
    }

    private static OperatorDirectory CreateDirectory(IServiceProvider sp, ConsoleOptions options, string dataFolder)
    {
        var clock = sp.GetRequiredService<TimeProvider>();
        if (options.Operators.Count > 0) return new OperatorDirectory(options.Operators, options, clock);
        var (name, password, created) = OperatorDirectory.LoadOrCreateDevelopment(dataFolder);
        // The password goes to the console only, never through the logger, like the development app's secret.
        System.Console.WriteLine($"""
            BanActors: no console operator configured (BanActors:Console:Operators), using the development operator {(created ? "just created" : "kept")} in {Path.Combine(dataFolder, OperatorDirectory.DevelopmentFileName)}
              Console:  /console
              Name:     {name}
              Password: {password}
            """);
        sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConsoleEndpoints).Namespace!)
            .LogWarning("No console operator configured; the development operator {Operator} may manage every app", name);
        return new OperatorDirectory(
            [new OperatorAccount { Name = name, PasswordHash = OperatorDirectory.HashPassword(password), Apps = ["*"] }], options, clock);
    }

    // ---- the page ----

    private static IResult ServePage(HttpContext http) => Asset(http, "index.html", "text/html; charset=utf-8");

    private static IResult ServeAsset(HttpContext http, string asset) =>
        Assets.TryGetValue(asset, out var type)
            ? Asset(http, asset, type)
            : RongCloudResults.Error(ErrorCodes.BadParameter, "no such console file", http.Request.Path);

    private static IResult Asset(HttpContext http, string name, string contentType)
    {
        var stream = typeof(ConsoleEndpoints).Assembly.GetManifestResourceStream($"BanActors.Server.OperatorConsole.wwwroot.{name}")
            ?? throw new InvalidOperationException($"the console's {name} is not embedded");
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return Results.Stream(stream, contentType);
    }

    // ---- sign-in ----

    private static async Task<IResult> AntiforgeryAsync(HttpContext http, IAntiforgery antiforgery)
    {
        await AuthenticateAsync(http);
        http.Response.Headers.CacheControl = "no-store";
        var tokens = antiforgery.GetAndStoreTokens(http);
        return RongCloudResults.Ok(new { token = tokens.RequestToken, headerName = AntiforgeryHeader });
    }

    private sealed record SignInBody(string? Name, string? Password);

    private static async Task<IResult> SignInAsync(HttpContext http, IAntiforgery antiforgery, OperatorDirectory operators,
        AppCatalog catalog, ILoggerFactory loggers)
    {
        var path = http.Request.Path.Value!;
        http.Response.Headers.CacheControl = "no-store";
        await AuthenticateAsync(http);
        if (!await antiforgery.IsRequestValidAsync(http)) return AntiforgeryRefused(path);
        try
        {
            var body = await ReadBodyAsync<SignInBody>(http);
            var name = body.Name?.Trim();
            if (string.IsNullOrEmpty(name)) throw new ConsoleInputException("name", "Enter your operator name.");
            if (name.Length > BanRules.MaxOperatorLength)
                throw new ConsoleInputException("name", $"An operator name has at most {BanRules.MaxOperatorLength} characters.");
            if (string.IsNullOrEmpty(body.Password)) throw new ConsoleInputException("password", "Enter your password.");
            if (body.Password.Length > MaxPasswordLength) throw new ConsoleInputException("password", "That password is too long.");

            var log = loggers.CreateLogger(typeof(ConsoleEndpoints).Namespace!);
            switch (operators.SignIn(name, body.Password, out var account, out var retryAfter))
            {
                case SignInOutcome.SignedIn:
                    var identity = new ClaimsIdentity(
                        [new Claim(ClaimTypes.NameIdentifier, account.Name), new Claim(ClaimTypes.Name, account.Name)], Scheme);
                    await http.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
                    log.LogInformation("Console operator {Operator} signed in", account.Name);
                    return RongCloudResults.Ok(Me(account, catalog));
                case SignInOutcome.Locked:
                    // Only configured names are ever locked, so the name logged is an operator's, never a mistyped password.
                    log.LogWarning("Console operator {Operator} is locked out after repeated wrong passwords", name);
                    var minutes = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalMinutes));
                    http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                    return Error(ErrorCodes.RateLimited,
                        $"Too many wrong passwords: this operator is locked. Try again in {minutes} minute{(minutes == 1 ? "" : "s")}.",
                        path, "password");
                default:
                    if (account is not null) log.LogInformation("Console sign-in of {Operator} refused: wrong password", name);
                    return Error(ErrorCodes.Unauthorized, "Wrong operator name or password.", path, "password");
            }
        }
        catch (ConsoleInputException ex)
        {
            return Error(ex.Code, ex.Message, path, ex.Field);
        }
    }

    private static async Task<IResult> SignOutAsync(ConsoleRequest request)
    {
        await request.Http.SignOutAsync(Scheme);
        return RongCloudResults.Ok();
    }

    private static Task<IResult> MeAsync(ConsoleRequest request) =>
        Task.FromResult(RongCloudResults.Ok(Me(request.Operator, request.Services.GetRequiredService<AppCatalog>())));

    private static object Me(OperatorAccount account, AppCatalog catalog) => new
    {
        @operator = account.Name,
        // App-Keys only: an app's secret never leaves the server through the console.
        apps = catalog.Apps.Select(a => a.AppKey).Where(account.MayManage).Order(StringComparer.Ordinal).ToArray(),
        presets = PresetMinutes,
        maxMinutes = BanRules.MaxMinutes,
        maxUsers = UserEndpoints.MaxUsersPerRequest,
    };

    // ---- bans ----

    private static async Task<IResult> ListBansAsync(ConsoleRequest request)
    {
        var query = request.Http.Request.Query;
        var search = Text(query["userId"], "userId", BanRules.MaxUserIdLength)?.Trim();
        var page = Number(query["page"], "page", 1, int.MaxValue) ?? 1;
        var size = Number(query["size"], "size", 1, MaxListPageSize) ?? DefaultPageSize;
        var engine = request.Engine;
        IReadOnlyList<ActiveBan> bans;
        int total;
        if (string.IsNullOrEmpty(search))
        {
            var result = await engine.ListActiveAsync(request.AppKey, page, size, request.Aborted);
            (bans, total) = (result.Bans, result.Total);
        }
        else
        {
            // The engine's index pages by end time only: search its pages, which keeps the end-time order.
            var matches = new List<ActiveBan>();
            for (var p = 1; ; p++)
            {
                var result = await engine.ListActiveAsync(request.AppKey, p, BanRules.MaxPageSize, request.Aborted);
                matches.AddRange(result.Bans.Where(b => b.UserId.Contains(search, StringComparison.OrdinalIgnoreCase)));
                if (result.Bans.Count < BanRules.MaxPageSize) break;
            }
            total = matches.Count;
            bans = matches.Skip((int)Math.Min(int.MaxValue, (long)(page - 1) * size)).Take(size).ToList();
        }
        return RongCloudResults.Ok(new
        {
            now = request.Now.ToUnixTimeMilliseconds(),
            total,
            page,
            size,
            bans = bans.Select(b => new
            {
                userId = b.UserId,
                until = b.Until.ToUnixTimeMilliseconds(),
                since = b.Since?.ToUnixTimeMilliseconds(),
                reason = b.Reason,
                @operator = b.Operator,
            }),
        });
    }

    private sealed record ChangeBody(JsonElement? UserIds, JsonElement? Minutes, string? Reason);

    private static async Task<IResult> BanAsync(ConsoleRequest request)
    {
        var body = await ReadBodyAsync<ChangeBody>(request.Http);
        var users = UserIds(body.UserIds);
        var minutes = body.Minutes is { ValueKind: JsonValueKind.Number } m && m.TryGetInt32(out var n) ? n
            : body.Minutes is { ValueKind: JsonValueKind.String } s && int.TryParse(s.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) ? parsed
            : throw new ConsoleInputException("minutes", "Choose a duration, or enter it in minutes.");
        if (minutes is < BanRules.MinMinutes or > BanRules.MaxMinutes)
            throw new ConsoleInputException("minutes",
                $"A ban lasts {BanRules.MinMinutes} to {BanRules.MaxMinutes} minutes (30 days); {minutes} is out of range.");
        var details = Details(request, body.Reason);
        await ForEachAsync(users, id => request.Engine.BanAsync(new UserKey(request.AppKey, id), minutes, details, request.Aborted));
        return RongCloudResults.Ok(new { userIds = users, minutes });
    }

    private static async Task<IResult> UnbanAsync(ConsoleRequest request)
    {
        var body = await ReadBodyAsync<ChangeBody>(request.Http);
        var users = UserIds(body.UserIds);
        var details = Details(request, body.Reason);
        await ForEachAsync(users, id => request.Engine.UnbanAsync(new UserKey(request.AppKey, id), details, request.Aborted));
        return RongCloudResults.Ok(new { userIds = users });
    }

    // The signed-in operator is the ledger's operator; the browser cannot name another.
    private static BanDetails Details(ConsoleRequest request, string? reason)
    {
        reason = string.IsNullOrWhiteSpace(reason) ? null : reason.Trim();
        if (reason is { Length: > BanRules.MaxReasonLength })
            throw new ConsoleInputException("reason", $"A reason has at most {BanRules.MaxReasonLength} characters.");
        return new BanDetails(reason, request.Operator.Name);
    }

    /// <summary>User ids as a JSON array or as one string separated by commas, spaces or new lines.</summary>
    private static List<string> UserIds(JsonElement? value)
    {
        IEnumerable<string?> raw = value switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString()!.Split([',', ';', ' ', '\t', '\r', '\n'], StringSplitOptions.RemoveEmptyEntries),
            { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                a.EnumerateArray().Select(e => e.GetString()?.Trim()),
            null or { ValueKind: JsonValueKind.Null } => [],
            _ => throw new ConsoleInputException("userIds", "User ids must be text."),
        };
        var users = raw.Where(u => !string.IsNullOrEmpty(u)).Select(u => u!).Distinct(StringComparer.Ordinal).ToList();
        if (users.Count == 0) throw new ConsoleInputException("userIds", "Enter at least one user id.");
        if (users.Count > UserEndpoints.MaxUsersPerRequest)
            throw new ConsoleInputException("userIds", $"At most {UserEndpoints.MaxUsersPerRequest} user ids at once; you entered {users.Count}.");
        foreach (var user in users)
            if (BanRules.UserIdProblem(user, "user id", out _) is { } problem)
                throw new ConsoleInputException("userIds",
                    $"The user id \"{(user.Length > 16 ? user[..16] + "…" : user)}\": {problem}.");
        return users;
    }

    /// <summary>All at once; if the engine failed for any user the answer is 1000 (some may have changed).</summary>
    private static async Task ForEachAsync(IEnumerable<string> users, Func<string, Task> change)
    {
        var tasks = users.Select(change).ToArray();
        try
        {
            await Task.WhenAll(tasks);
        }
        catch when (tasks.Any(t => t.Exception?.InnerException is BanEngineUnavailableException))
        {
            throw tasks.Select(t => t.Exception?.InnerException).OfType<BanEngineUnavailableException>().First();
        }
    }

    // ---- a user ----

    private static async Task<IResult> UserAsync(ConsoleRequest request)
    {
        var userId = request.Http.Request.RouteValues["userId"] as string ?? "";
        if (BanRules.UserIdProblem(userId, "user id", out _) is { } problem)
            throw new ConsoleInputException("userId", $"A {problem}: it has 1 to {BanRules.MaxUserIdLength} bytes in UTF-8.");
        var cursor = Text(request.Http.Request.Query["cursor"], "cursor", 32);
        var user = new UserKey(request.AppKey, userId);
        var status = request.Engine.GetStatusAsync(user, request.Aborted);
        var online = request.Services.GetRequiredService<ISessionRegistry>().IsOnlineAsync(user, request.Aborted);
        var history = request.Engine.GetHistoryAsync(user, 20, cursor, request.Aborted);
        // Kept messages exist only where the IM gateway runs in this process.
        var store = request.Services.GetService<IOfflineMessageStore>();
        var kept = store?.CountAsync(user, request.Aborted);
        await Task.WhenAll(status, online, history);
        return RongCloudResults.Ok(new
        {
            now = request.Now.ToUnixTimeMilliseconds(),
            userId,
            banned = status.Result.IsBanned,
            until = status.Result.Until?.ToUnixTimeMilliseconds(),
            reason = status.Result.Reason,
            online = online.Result,
            keptMessages = kept is null ? (int?)null : await kept,
            history = history.Result.Entries.Select(e => new
            {
                action = e.Action switch { BanAction.Block => "block", BanAction.Unblock => "unblock", _ => "expire" },
                time = e.Time.ToUnixTimeMilliseconds(),
                minutes = e.Minutes,
                until = e.Until?.ToUnixTimeMilliseconds(),
                reason = e.Reason,
                @operator = e.Operator,
            }),
            nextCursor = history.Result.NextCursor,
        });
    }

    // ---- the feed and the chart ----

    private static async Task<IResult> ChartAsync(ConsoleRequest request)
    {
        var now = request.Now;
        var thisHour = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
        var start = thisHour.AddHours(-23);
        var counts = new int[24];
        string? cursor = null;
        // At most 50,000 bans are counted; past that the chart would not be read for its exact numbers anyway.
        for (var pages = 0; pages < 50; pages++)
        {
            var page = await request.Engine.GetLogAsync(request.AppKey,
                new BanLogQuery(Action: BanAction.Block, From: start, To: now, Size: BanRules.MaxLogPageSize, Cursor: cursor), request.Aborted);
            foreach (var entry in page.Entries)
            {
                var hour = (int)Math.Floor((entry.Time - start).TotalHours);
                if (hour is >= 0 and < 24) counts[hour]++;
            }
            cursor = page.NextCursor;
            if (cursor is null) break;
        }
        return RongCloudResults.Ok(new
        {
            now = now.ToUnixTimeMilliseconds(),
            hours = counts.Select((bans, i) => new { start = start.AddHours(i).ToUnixTimeMilliseconds(), bans }),
        });
    }

    private static async Task<IResult> EventsAsync(ConsoleRequest request)
    {
        await EventEndpoints.WriteStreamAsync(request.Http, request.AppKey, EventEndpoints.LastEventId(request.Http.Request));
        return Results.Empty;
    }

    // ---- the pipeline ----

    private static void MapApi(this WebApplication app, string method, string pattern, bool change,
        Func<ConsoleRequest, Task<IResult>> handler) =>
        app.MapMethods(ApiPath + pattern, [method], (Func<HttpContext, Task<IResult>>)(http => HandleAsync(http, change, handler)));

    /// <summary>Signed in, antiforgery for a change, an app the operator may manage; errors as the API's JSON.</summary>
    private static async Task<IResult> HandleAsync(HttpContext http, bool change, Func<ConsoleRequest, Task<IResult>> handler)
    {
        var path = http.Request.Path.Value!;
        http.Response.Headers.CacheControl = "no-store";
        var services = http.RequestServices;
        var account = await AuthenticateAsync(http);
        if (account is null) return Error(ErrorCodes.Unauthorized, "Sign in first.", path);
        if (change && !await services.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http)) return AntiforgeryRefused(path);

        var appKey = http.Request.RouteValues["appKey"] as string;
        if (appKey is not null)
        {
            if (!account.MayManage(appKey))
                return Error(ErrorCodes.Forbidden, $"You may not manage the app {appKey}.", path, "app");
            if (!services.GetRequiredService<AppCatalog>().TryGet(appKey, out _))
                return Error(ErrorCodes.BadParameter, $"There is no app {appKey}.", path, "app");
        }
        try
        {
            return await handler(new ConsoleRequest(http, account, appKey ?? ""));
        }
        catch (ConsoleInputException ex)
        {
            return Error(ex.Code, ex.Message, path, ex.Field);
        }
        catch (RongCloudRequestException ex)
        {
            return Error(ex.Code, ex.Message, path);
        }
        catch (BanRequestRejectedException ex)
        {
            return Error(ErrorCodes.BadParameter, ex.Message, path);
        }
        catch (BanEngineUnavailableException ex)
        {
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ConsoleEndpoints).Namespace!)
                .LogWarning("Console {Path} failed: {Reason}", path, ex.Message);
            return Error(ErrorCodes.Internal, "The change could not be stored; try again.", path);
        }
    }

    /// <summary>The signed-in operator (also set as <see cref="HttpContext.User"/>), or null.</summary>
    private static async Task<OperatorAccount?> AuthenticateAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        if (!result.Succeeded) return null;
        http.User = result.Principal;
        // An operator removed from the configuration is signed out by the next request.
        return result.Principal.Identity?.Name is { } name
            && http.RequestServices.GetRequiredService<OperatorDirectory>().TryGet(name, out var account)
            ? account
            : null;
    }

    private static IResult AntiforgeryRefused(string path) =>
        Error(ErrorCodes.Forbidden, "The antiforgery token is missing or wrong: reload the page and try again.", path);

    private static async Task<T> ReadBodyAsync<T>(HttpContext http)
    {
        if (http.Request.ContentLength > MaxBodyBytes) throw new ConsoleInputException(null, "The request is too large.", ErrorCodes.TooLong);
        if (!http.Request.HasJsonContentType()) throw new ConsoleInputException(null, "The body must be JSON (application/json).");
        try
        {
            return await http.Request.ReadFromJsonAsync<T>(RongCloudResults.JsonOptions, http.RequestAborted)
                ?? throw new ConsoleInputException(null, "The body must be a JSON object.");
        }
        catch (JsonException)
        {
            throw new ConsoleInputException(null, "The body is not valid JSON.");
        }
    }

    private static string? Text(Microsoft.Extensions.Primitives.StringValues values, string field, int maxLength)
    {
        if (values.Count > 1) throw new ConsoleInputException(field, $"Give {field} once.");
        var text = values.Count == 1 ? values[0] : null;
        if (text is { Length: > 0 } && text.Length > maxLength)
            throw new ConsoleInputException(field, $"{field} has at most {maxLength} characters.");
        return string.IsNullOrEmpty(text) ? null : text;
    }

    private static int? Number(Microsoft.Extensions.Primitives.StringValues values, string field, int min, int max)
    {
        var text = Text(values, field, 11);
        if (text is null) return null;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            throw new ConsoleInputException(field, $"{field} must be a whole number from {min} to {max}.");
        return value;
    }

    /// <summary>The API's error body, plus the form <c>field</c> the message belongs next to.</summary>
    internal static IResult Error(int code, string message, string path, string? field = null) =>
        Results.Json(new ConsoleError(code, message, path, field), RongCloudResults.JsonOptions, RongCloudResults.ContentType,
            ErrorCodes.HttpStatus(code));

    private sealed record ConsoleError(int Code, string ErrorMessage, string Url, string? Field);
}

/// <summary>One signed-in, permitted console call: the operator and the app it is about.</summary>
internal sealed record ConsoleRequest(HttpContext Http, OperatorAccount Operator, string AppKey)
{
    public IServiceProvider Services => Http.RequestServices;

    public IBanEngine Engine => Services.GetRequiredService<IBanEngine>();

    public DateTimeOffset Now => Services.GetRequiredService<TimeProvider>().GetUtcNow();

    public CancellationToken Aborted => Http.RequestAborted;
}

/// <summary>Bad input to the console, with the form field its message belongs next to.</summary>
internal sealed class ConsoleInputException(string? field, string message, int code = ErrorCodes.BadParameter) : Exception(message)
{
    public string? Field { get; } = field;

    public int Code { get; } = code;
}
