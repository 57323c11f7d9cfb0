using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using BanActors.Server.Apps;
using BanActors.Server.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace BanActors.Server.Security;

/// <summary>Why a request's signing headers were refused, or <see cref="Valid"/>.</summary>
public enum SignatureOutcome
{
    Valid,
    MissingHeader,
    UnknownApp,
    BadTimestamp,
    OutsideClockSkew,
    Mismatch,
}

/// <summary>The result of <see cref="SignatureVerifier.Verify"/>; <see cref="App"/> is set only when valid.</summary>
public readonly record struct SignatureResult(SignatureOutcome Outcome, AppCredentials? App, string Detail)
{
    public bool IsValid => Outcome == SignatureOutcome.Valid;
}

/// <summary>
/// RongCloud's request signature: <c>Signature = hex(SHA1(AppSecret + Nonce + Timestamp))</c>, from the headers
/// <c>App-Key</c>, <c>Nonce</c>, <c>Timestamp</c>, <c>Signature</c> (or the same with an <c>RC-</c> prefix).
/// </summary>
public sealed class SignatureVerifier(AppCatalog apps, TimeProvider clock, IOptions<BanActorsServerOptions> options)
{
    public const string AppKeyHeader = "App-Key";
    public const string NonceHeader = "Nonce";
    public const string TimestampHeader = "Timestamp";
    public const string SignatureHeader = "Signature";
    public const string Prefix = "RC-";

    // Timestamps from here on are read as milliseconds: as seconds they would be past the year 33000,
    // as milliseconds this is September 2001.
    private const long MillisecondsThreshold = 1_000_000_000_000;

    private readonly int? _maxSkewSeconds = options.Value.Security.MaxClockSkewSeconds is > 0 and var s ? s : null;

    public SignatureResult Verify(IHeaderDictionary headers)
    {
        if (!TryHeader(headers, AppKeyHeader, out var appKey)) return Missing(AppKeyHeader);
        if (!TryHeader(headers, NonceHeader, out var nonce)) return Missing(NonceHeader);
        if (!TryHeader(headers, TimestampHeader, out var timestamp)) return Missing(TimestampHeader);
        if (!TryHeader(headers, SignatureHeader, out var signature)) return Missing(SignatureHeader);

        if (!apps.TryGet(appKey, out var app))
            return new(SignatureOutcome.UnknownApp, null, "unknown App-Key");
        if (!TryParseTimestamp(timestamp, out var signedAt))
            return new(SignatureOutcome.BadTimestamp, null, "Timestamp must be an integer: seconds or milliseconds since 1970-01-01 UTC");
        if (!Matches(Compute(app.AppSecret, nonce, timestamp), signature))
            return new(SignatureOutcome.Mismatch, null, "signature check failed");
        if (_maxSkewSeconds is { } maxSkew && (clock.GetUtcNow() - signedAt).Duration() > TimeSpan.FromSeconds(maxSkew))
            return new(SignatureOutcome.OutsideClockSkew, null, $"Timestamp is more than {maxSkew} s away from the server's clock");
        return new(SignatureOutcome.Valid, app, "");
    }

    /// <summary>The signature of a request, as lowercase hex: SHA1 of the UTF-8 of secret + nonce + timestamp.</summary>
    public static string Compute(string appSecret, string nonce, string timestamp) =>
        Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(appSecret + nonce + timestamp)));

    /// <summary>Compares case-insensitively and in constant time (for signatures of the expected length).</summary>
    public static bool Matches(string expectedLowerHex, string provided)
    {
        // The length is public (40 hex digits), so refusing other lengths early leaks nothing.
        if (provided.Length != expectedLowerHex.Length) return false;
        Span<byte> expected = stackalloc byte[expectedLowerHex.Length];
        Span<byte> actual = stackalloc byte[provided.Length];
        for (var i = 0; i < provided.Length; i++)
        {
            expected[i] = (byte)expectedLowerHex[i];
            var c = provided[i];
            // Lowercases ASCII letters without branching on the secret-dependent comparison.
            actual[i] = (byte)(c is >= 'A' and <= 'Z' ? c | 0x20 : c > 0xFF ? 0 : c);
        }
        return CryptographicOperations.FixedTimeEquals(expected, actual);
    }

    /// <summary>A timestamp in seconds or milliseconds since the epoch (both are in use by RongCloud clients).</summary>
    public static bool TryParseTimestamp(string value, out DateTimeOffset at)
    {
        at = default;
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number)) return false;
        try
        {
            at = number >= MillisecondsThreshold
                ? DateTimeOffset.FromUnixTimeMilliseconds(number)
                : DateTimeOffset.FromUnixTimeSeconds(number);
            return true;
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }
    }

    private static bool TryHeader(IHeaderDictionary headers, string name, out string value)
    {
        value = "";
        if (!Single(headers[name], out value) && !Single(headers[Prefix + name], out value)) return false;
        return true;
    }

    private static bool Single(StringValues values, out string value)
    {
        value = values.Count == 1 ? values[0] ?? "" : "";
        return value.Length > 0;
    }

    private static SignatureResult Missing(string header) =>
        new(SignatureOutcome.MissingHeader, null, $"missing or repeated signing header {header} (or {Prefix}{header})");
}
