using System.Text;

namespace BanActors;

/// <summary>The lists inside the result pages, printed by their records' <c>ToString</c> (a record alone prints the list's type name).</summary>
internal static class Printing
{
    /// <summary>Enough to read a page in a log line or a debugger; the rest is counted.</summary>
    public const int MaxItems = 20;

    public static void Items<T>(StringBuilder builder, IReadOnlyList<T> items)
    {
        builder.Append('[');
        for (var i = 0; i < Math.Min(items.Count, MaxItems); i++)
        {
            if (i > 0) builder.Append(", ");
            builder.Append(items[i]);
        }
        if (items.Count > MaxItems) builder.Append(", … ").Append(items.Count - MaxItems).Append(" more");
        builder.Append(']');
    }
}
