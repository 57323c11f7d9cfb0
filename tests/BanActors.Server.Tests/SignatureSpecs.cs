using System.Net;
using BanActors.Bans;
using BanActors.Server.Security;
using BanActors.Server.Tests.Support;

namespace BanActors.Server.Tests;

/// <summary>RongCloud's request signature: header names, timestamp units, hex case, refusals.</summary>
public sealed class SignatureSpecs(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    // Computed offline: printf '%s' 'Yp3nGs8vQx143141408710653' | sha1sum
    private const string VectorSeconds = "652b86e34ffde7e67b27196b2e7e76d53e6e6995";
    // printf '%s' 'Yp3nGs8vQx143141408710653491' | sha1sum
    private const string VectorMilliseconds = "c8dc9ccee4c08e1a318f4fbd3aa914621ba4d3d3";

    private readonly ServerHost _server = fixture.Server;
    private RongCloudClient S => _server.Client(TestApps.Signing);

    [Fact]
    public void The_signature_is_sha1_hex_of_secret_nonce_and_timestamp()
    {
        Assert.Equal(VectorSeconds, SignatureVerifier.Compute("Yp3nGs8vQx", "14314", "1408710653"));
        Assert.Equal(VectorMilliseconds, SignatureVerifier.Compute("Yp3nGs8vQx", "14314", "1408710653491"));
    }

    [Theory]
    [InlineData("1408710653", VectorSeconds)]
    [InlineData("1408710653491", VectorMilliseconds)]
    public async Task A_request_signed_with_the_fixed_test_vector_is_accepted(string timestamp, string signature)
    {
        var seed = _server.Client(TestApps.Seed);
        var response = await seed.PostAsync("/user/checkOnline.json",
            new Signing { Nonce = "14314", Timestamp = timestamp, Signature = signature }, ("userId", "u1"));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("{\"code\":200,\"status\":\"0\"}", response.Body);
    }

    [Fact]
    public async Task The_fixed_test_vector_with_one_digit_changed_is_refused()
    {
        var response = await _server.Client(TestApps.Seed).PostAsync("/user/checkOnline.json",
            new Signing { Nonce = "14314", Timestamp = "1408710654", Signature = VectorSeconds }, ("userId", "u1"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal(1004, response.Code);
    }

    [Fact]
    public async Task Timestamps_in_seconds_and_in_milliseconds_are_both_accepted()
    {
        var seconds = await S.PostAsync("/user/block.json", new Signing { Milliseconds = false }, ("userId", "sec"), ("minute", "5"));
        var millis = await S.PostAsync("/user/block.json", new Signing { Milliseconds = true }, ("userId", "ms"), ("minute", "5"));

        Assert.Equal("{\"code\":200}", seconds.Body);
        Assert.Equal("{\"code\":200}", millis.Body);
        Assert.True((await _server.Engine.GetStatusAsync(new UserKey(TestApps.Signing.AppKey, "ms"))).IsBanned);
    }

    [Fact]
    public async Task Rc_prefixed_headers_and_an_uppercase_signature_are_accepted()
    {
        var prefixed = await S.PostAsync("/user/block.json", new Signing { Prefixed = true }, ("userId", "rc"), ("minute", "5"));
        var upper = await S.PostAsync("/user/block.json", new Signing { UpperCase = true }, ("userId", "upper"), ("minute", "5"));
        var both = await S.PostAsync("/user/block/query.json", new Signing { Prefixed = true, UpperCase = true, Milliseconds = true });

        Assert.Equal("{\"code\":200}", prefixed.Body);
        Assert.Equal("{\"code\":200}", upper.Body);
        Assert.Equal(HttpStatusCode.OK, both.Status);
        Assert.Contains("\"rc\"", both.Body);
        Assert.Contains("\"upper\"", both.Body);
    }

    [Fact]
    public async Task A_reused_nonce_and_signature_are_accepted_as_official_sdks_reuse_them()
    {
        var signing = new Signing { Nonce = "fixed-nonce", Timestamp = "1764150000" };
        var first = await S.PostAsync("/user/checkOnline.json", signing, ("userId", "x"));
        var second = await S.PostAsync("/user/checkOnline.json", signing, ("userId", "x"));

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
    }

    [Theory]
    [InlineData("App-Key")]
    [InlineData("Nonce")]
    [InlineData("Timestamp")]
    [InlineData("Signature")]
    public async Task A_missing_signing_header_is_1004_and_bans_nobody(string header)
    {
        var response = await S.PostAsync("/user/block.json", new Signing { Omit = header }, ("userId", "unsigned"), ("minute", "5"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal(1004, response.Code);
        Assert.Equal("/user/block.json", response.Json.GetProperty("url").GetString());
        Assert.False(string.IsNullOrEmpty(response.Json.GetProperty("errorMessage").GetString()));
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.Signing.AppKey, "unsigned"))).IsBanned);
    }

    [Theory]
    [InlineData("0000000000000000000000000000000000000000")]
    [InlineData("not-hex")]
    [InlineData("")]
    public async Task A_wrong_signature_is_1004_and_bans_nobody(string signature)
    {
        var response = await S.PostAsync("/user/block.json", new Signing { Signature = signature }, ("userId", "forged"), ("minute", "5"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal(1004, response.Code);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.Signing.AppKey, "forged"))).IsBanned);
    }

    [Fact]
    public async Task Another_apps_secret_does_not_sign_for_this_app()
    {
        var impostor = new RongCloudClient(_server.Http, TestApps.Signing.AppKey, TestApps.A.AppSecret, _server.Clock);

        var response = await impostor.PostAsync("/user/block.json", ("userId", "impostor"), ("minute", "5"));

        Assert.Equal(1004, response.Code);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.Signing.AppKey, "impostor"))).IsBanned);
    }

    [Fact]
    public async Task A_malformed_timestamp_is_1004()
    {
        var response = await S.PostAsync("/user/checkOnline.json", new Signing { Timestamp = "yesterday" }, ("userId", "x"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal(1004, response.Code);
    }

    [Fact]
    public async Task An_unknown_app_key_is_1002_and_bans_nobody()
    {
        var stranger = new RongCloudClient(_server.Http, "nosuchapp", "whatever", _server.Clock);

        var response = await stranger.PostAsync("/user/block.json", ("userId", "stranger"), ("minute", "5"));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal(1002, response.Code);
        Assert.Equal("/user/block.json", response.Json.GetProperty("url").GetString());
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey("nosuchapp", "stranger"))).IsBanned);
    }

    [Fact]
    public async Task No_log_line_carries_a_secret_or_a_full_signature()
    {
        var forged = new string('a', 40);
        await S.PostAsync("/user/block.json", new Signing { Signature = forged }, ("userId", "logged"), ("minute", "5"));
        var signing = new Signing { Nonce = "n-log", Timestamp = "1764150000" };
        await S.PostAsync("/user/block.json", signing, ("userId", "logged"), ("minute", "5"));
        var good = SignatureVerifier.Compute(TestApps.Signing.AppSecret, "n-log", "1764150000");

        Assert.NotEmpty(_server.Logs.Lines);
        foreach (var line in _server.Logs.Lines)
        {
            Assert.DoesNotContain(TestApps.Signing.AppSecret, line, StringComparison.Ordinal);
            Assert.DoesNotContain(forged, line, StringComparison.Ordinal);
            Assert.DoesNotContain(good, line, StringComparison.OrdinalIgnoreCase);
        }
    }
}

/// <summary>A server that refuses timestamps more than five minutes from its clock.</summary>
public sealed class ClockSkewServer : ServerFixture
{
    protected override IReadOnlyDictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["BanActors:Security:MaxClockSkewSeconds"] = "300" };
}

/// <summary>The optional clock skew limit (off by default).</summary>
public sealed class ClockSkewSpecs(ClockSkewServer fixture) : IClassFixture<ClockSkewServer>
{
    private readonly ServerHost _server = fixture.Server;

    [Theory]
    [InlineData(0, false)]
    [InlineData(-299, false)]
    [InlineData(299, true)]
    public async Task A_timestamp_within_the_allowed_skew_is_accepted(int offsetSeconds, bool milliseconds)
    {
        var at = _server.Clock.GetUtcNow().AddSeconds(offsetSeconds);
        var timestamp = milliseconds ? at.ToUnixTimeMilliseconds().ToString() : at.ToUnixTimeSeconds().ToString();

        var response = await _server.Client(TestApps.A).PostAsync("/user/checkOnline.json",
            new Signing { Timestamp = timestamp }, ("userId", "x"));

        Assert.Equal(HttpStatusCode.OK, response.Status);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(3600)]
    public async Task A_timestamp_beyond_the_allowed_skew_is_1004(int offsetSeconds)
    {
        var at = _server.Clock.GetUtcNow().AddSeconds(offsetSeconds);

        var response = await _server.Client(TestApps.A).PostAsync("/user/block.json",
            new Signing { Timestamp = at.ToUnixTimeSeconds().ToString() }, ("userId", "skewed"), ("minute", "5"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.Status);
        Assert.Equal(1004, response.Code);
        Assert.False((await _server.Engine.GetStatusAsync(new UserKey(TestApps.A.AppKey, "skewed"))).IsBanned);
    }
}
