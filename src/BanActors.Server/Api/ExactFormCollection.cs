using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Primitives;

namespace BanActors.Server.Api;

/// <summary>
/// A multipart form seen with exact parameter names. The framework's form matches names case-insensitively (it would
/// take <c>userid</c> for <c>userId</c>); RongCloud's names are exact, so a name counts only as it was sent.
/// </summary>
internal sealed class ExactFormCollection(IFormCollection inner) : IFormCollection
{
    public StringValues this[string key] => ContainsKey(key) ? inner[key] : StringValues.Empty;

    public int Count => inner.Count;

    public ICollection<string> Keys => inner.Keys;

    public IFormFileCollection Files => inner.Files;

    public bool ContainsKey(string key) => inner.Keys.Contains(key, StringComparer.Ordinal);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out StringValues value)
    {
        value = this[key];
        return ContainsKey(key);
    }

    public IEnumerator<KeyValuePair<string, StringValues>> GetEnumerator() => inner.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
