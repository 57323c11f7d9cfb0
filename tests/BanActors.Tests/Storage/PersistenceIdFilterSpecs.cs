using BanActors.Storage;

namespace BanActors.Tests.Storage;

/// <summary>
/// The filter behind <see cref="KnownIds"/>: an id that was added must never be reported absent (a user with events
/// would start at sequence number 0 and its next write collide), however far the filter grew; ids never added are
/// mostly reported absent.
/// </summary>
public sealed class PersistenceIdFilterSpecs
{
    [Fact]
    public void Every_added_id_is_found_after_the_filter_grew_many_times()
    {
        var filter = new PersistenceIdFilter(initialCapacity: 64);
        var ids = Enumerable.Range(0, 50_000).Select(i => $"ban-app-user{i}").ToList();

        foreach (var id in ids) filter.Add(id);

        Assert.All(ids, id => Assert.True(filter.MightContain(id), id));
        Assert.True(filter.Bytes > 50_000 * 12 / 8, "it grew past its first layer");
    }

    [Fact]
    public void Ids_added_from_many_threads_at_once_are_all_found()
    {
        var filter = new PersistenceIdFilter(initialCapacity: 64);
        var ids = Enumerable.Range(0, 40_000).Select(i => $"ban-app-u{i}").ToArray();

        Parallel.ForEach(ids, new ParallelOptions { MaxDegreeOfParallelism = 8 }, filter.Add);

        Assert.All(ids, id => Assert.True(filter.MightContain(id), id));
    }

    [Fact]
    public void Ids_never_added_are_reported_absent_but_for_a_few_in_a_hundred()
    {
        var filter = new PersistenceIdFilter(initialCapacity: 1_000);
        for (var i = 0; i < 20_000; i++) filter.Add($"ban-app-user{i}");

        var falseMaybe = Enumerable.Range(0, 20_000).Count(i => filter.MightContain($"ban-app-other{i}"));

        Assert.InRange(falseMaybe, 0, 20_000 * 3 / 100);
    }
}
