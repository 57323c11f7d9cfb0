using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using BanActors.Server.OperatorConsole;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests.OperatorConsole;

/// <summary>
/// A server with two console operators: alice may manage <see cref="TestApps.A"/>, bob <see cref="TestApps.B"/>.
/// Their hashes are made by the same code as the <c>hash-password</c> command.
/// </summary>
public sealed class ConsoleServer : ServerFixture
{
    public const string Alice = "alice";
    public const string AlicePassword = "correct horse battery staple";
    public const string Bob = "bob";
    public const string BobPassword = "bobs-password";

    protected override IReadOnlyList<TestApp> Apps => [TestApps.A, TestApps.B];

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["BanActors:RateLimit:PermitsPerSecond"] = "100000",
        ["BanActors:Console:Operators:0:Name"] = Alice,
        ["BanActors:Console:Operators:0:PasswordHash"] = OperatorDirectory.HashPassword(AlicePassword),
        ["BanActors:Console:Operators:0:Apps:0"] = TestApps.A.AppKey,
        ["BanActors:Console:Operators:1:Name"] = Bob,
        ["BanActors:Console:Operators:1:PasswordHash"] = OperatorDirectory.HashPassword(BobPassword),
        ["BanActors:Console:Operators:1:Apps:0"] = TestApps.B.AppKey,
    };
}

/// <summary>A browser-less console client: a cookie jar, the antiforgery header, JSON in and out.</summary>
public sealed class ConsoleClient : IDisposable
{
    private readonly HttpClient _http;

    public ConsoleClient(Uri address)
    {
        Cookies = new CookieContainer();
        _http = new HttpClient(new HttpClientHandler { CookieContainer = Cookies, UseCookies = true }) { BaseAddress = address };
    }

    public CookieContainer Cookies { get; }

    public string? Token { get; private set; }

    public async Task RefreshTokenAsync()
    {
        var answer = await GetAsync("/console/api/antiforgery");
        Assert.Equal(200, answer.Code);
        Token = answer.Json.GetProperty("token").GetString();
    }

    public async Task<ApiResponse> SignInAsync(string name, string password)
    {
        await RefreshTokenAsync();
        var answer = await PostAsync("/console/api/signin", new { name, password });
        if (answer.Code == 200) await RefreshTokenAsync();
        return answer;
    }

    public async Task<ApiResponse> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path);
        return new ApiResponse(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.ToString());
    }

    public async Task<ApiResponse> PostAsync(string path, object body, bool withToken = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (withToken && Token is not null) request.Headers.Add(ConsoleEndpoints.AntiforgeryHeader, Token);
        using var response = await _http.SendAsync(request);
        return new ApiResponse(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType?.ToString());
    }

    public void Dispose() => _http.Dispose();
}

internal static class ConsoleAnswers
{
    public static string? Field(this ApiResponse answer) =>
        answer.Json.TryGetProperty("field", out var field) && field.ValueKind == JsonValueKind.String ? field.GetString() : null;
}
