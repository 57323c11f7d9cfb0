using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace BanActors.Server.Apps;

/// <summary>
/// IM tokens: <c>base64url(appKey \n userId \n issuedUnixSeconds \n nonce) "." base64url(HMAC-SHA256(appSecret, payload))</c>.
/// Signed with the app's secret, so a token is valid for that app and user only and cannot be forged
/// without the secret; the random nonce makes each token unguessable even for the same user.
/// </summary>
public sealed class TokenService(AppCatalog apps, TimeProvider clock)
{
    /// <summary>How long a token stays valid; RongCloud tokens do not expire by default, nor do ours.</summary>
    public TimeSpan? Lifetime { get; init; }

    public string Issue(AppCredentials app, string userId)
    {
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(12));
        var payload = Encoding.UTF8.GetBytes($"{app.AppKey}\n{userId}\n{clock.GetUtcNow().ToUnixTimeSeconds()}\n{nonce}");
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(Sign(app, payload));
    }

    /// <summary>The app and user the token was issued for, or false when it is malformed, forged or expired.</summary>
    public bool TryValidate(string? token, out AppCredentials app, out string userId)
    {
        app = null!;
        userId = "";
        if (string.IsNullOrEmpty(token) || token.Length > 1024) return false;
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0) return false;
        byte[] payload, signature;
        try
        {
            payload = Base64Url.DecodeFromChars(token.AsSpan(0, dot));
            signature = Base64Url.DecodeFromChars(token.AsSpan(dot + 1));
        }
        catch (FormatException)
        {
            return false;
        }
        var parts = Encoding.UTF8.GetString(payload).Split('\n');
        if (parts.Length != 4 || !apps.TryGet(parts[0], out var found)) return false;
        if (!CryptographicOperations.FixedTimeEquals(signature, Sign(found, payload))) return false;
        if (Lifetime is { } lifetime && long.TryParse(parts[2], out var issued)
            && clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(issued) > lifetime) return false;
        app = found;
        userId = parts[1];
        return userId.Length > 0;
    }

    private static byte[] Sign(AppCredentials app, byte[] payload) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(app.AppSecret), payload);
}
