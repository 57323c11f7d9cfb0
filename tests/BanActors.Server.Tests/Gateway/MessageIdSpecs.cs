using System.Text.RegularExpressions;
using BanActors.Messaging;

namespace BanActors.Server.Tests.Gateway;

public sealed partial class MessageIdSpecs
{
    [Fact]
    public void Message_ids_are_shaped_like_RongCloud_ones_and_unique_even_within_one_millisecond()
    {
        var at = new DateTimeOffset(2026, 11, 26, 10, 0, 0, TimeSpan.Zero);
        var ids = Enumerable.Range(0, 50_000).Select(_ => MessageIds.New(at)).ToList();
        Assert.All(ids, id => Assert.Matches(Shape(), id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // The time prefix makes later ids differ in their first groups.
        Assert.NotEqual(MessageIds.New(at)[..9], MessageIds.New(at.AddDays(1))[..9]);
    }

    [GeneratedRegex("^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")]
    private static partial Regex Shape();
}
