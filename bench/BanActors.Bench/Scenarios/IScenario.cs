using BanActors.Bench.Infra;

namespace BanActors.Bench.Scenarios;

/// <summary>One scenario of issue 6; adds rows, figures and notes to the report.</summary>
public interface IScenario
{
    string Name { get; }

    string Title { get; }

    Task RunAsync(BenchOptions options, Report report);
}
