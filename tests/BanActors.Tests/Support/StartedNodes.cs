using BanActors.Testing;

namespace BanActors.Tests.Support;

/// <summary>
/// The cluster nodes a spec has started, each added as soon as it runs (the <c>started</c> callback of
/// <see cref="ThreeNodeCluster"/>), so that every one is disposed at the end, also after a start that failed half-way.
/// </summary>
internal sealed class StartedNodes
{
    private readonly List<ClusterNode> _nodes = new();

    public void Add(ClusterNode node)
    {
        lock (_nodes) _nodes.Add(node);
    }

    /// <summary>Forgets the nodes started so far (the spec stopped them itself).</summary>
    public void Clear()
    {
        lock (_nodes) _nodes.Clear();
    }

    public Task DisposeAllAsync()
    {
        List<ClusterNode> nodes;
        lock (_nodes) nodes = _nodes.ToList();
        return Task.WhenAll(nodes.Select(n => n.DisposeAsync().AsTask()));
    }
}
