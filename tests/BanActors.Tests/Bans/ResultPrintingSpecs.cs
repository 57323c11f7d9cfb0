namespace BanActors.Tests.Bans;

/// <summary>The result pages print what they hold, so a log line or a failed assertion shows the bans, not a list's type name.</summary>
public sealed class ResultPrintingSpecs
{
    private static readonly DateTimeOffset At = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void An_active_ban_page_prints_its_bans()
    {
        var page = new ActiveBanPage([new ActiveBan("alice", At, Reason: "spam"), new ActiveBan("bob", At)], Total: 7);

        var text = page.ToString();

        Assert.StartsWith("ActiveBanPage { Total = 7, Bans = [ActiveBan { UserId = alice,", text);
        Assert.Contains("Reason = spam", text);
        Assert.Contains("ActiveBan { UserId = bob,", text);
        Assert.DoesNotContain("List`1", text);
        Assert.DoesNotContain("[]", text);
    }

    [Fact]
    public void A_ban_history_page_prints_its_entries_and_cursor()
    {
        var page = new BanHistoryPage(new UserKey("app", "alice"),
            [new BanHistoryEntry(BanAction.Block, At, 10, At.AddMinutes(10), "spam", "mod-1"), new BanHistoryEntry(BanAction.Expire, At)],
            "41");

        var text = page.ToString();

        Assert.StartsWith("BanHistoryPage { User = app/alice, Entries = [BanHistoryEntry { Action = Block,", text);
        Assert.Contains("Operator = mod-1", text);
        Assert.Contains("BanHistoryEntry { Action = Expire,", text);
        Assert.EndsWith("], NextCursor = 41 }", text);
    }

    [Fact]
    public void A_ban_log_page_prints_its_entries()
    {
        var page = new BanLogPage([new BanLogEntry("carol", BanAction.Unblock, At, Operator: "mod-2")], null);

        Assert.StartsWith("BanLogPage { Entries = [BanLogEntry { UserId = carol, Action = Unblock,", page.ToString());
        Assert.EndsWith("Operator = mod-2 }], NextCursor =  }", page.ToString());
    }

    [Fact]
    public void A_long_page_prints_its_first_entries_and_counts_the_rest()
    {
        var bans = Enumerable.Range(0, 25).Select(i => new ActiveBan($"user-{i}", At)).ToList();

        var text = new ActiveBanPage(bans, bans.Count).ToString();

        Assert.Contains("UserId = user-19,", text);
        Assert.DoesNotContain("UserId = user-20,", text);
        Assert.EndsWith(", … 5 more] }", text);
    }

    [Fact]
    public void An_empty_page_prints_an_empty_list()
    {
        Assert.Equal("BanLogPage { Entries = [], NextCursor =  }", new BanLogPage([], null).ToString());
    }
}
