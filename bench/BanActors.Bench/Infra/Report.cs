using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace BanActors.Bench.Infra;

/// <summary>One measured line of the results table.</summary>
public sealed record Row(
    string Scenario,
    string Case,
    int N,
    int? InFlight,
    double? Throughput,
    string Unit,
    LatencySummary? Latency,
    int Failures,
    double? CpuMicrosPerOp,
    string? Note = null)
{
    public static Row From(string scenario, string @case, int inFlight, LoadResult r, string unit, double multiplier = 1, string? note = null)
    {
        var notes = new List<string>();
        if (note is not null) notes.Add(note);
        if (r.TimedOut) notes.Add($"stopped by the time bound after {r.Completed + r.Failures} of {r.Requested}");
        if (r.FirstError is not null) notes.Add("first error: " + r.FirstError);
        return new Row(scenario, @case, r.Completed, inFlight, r.PerSecond * multiplier, unit, r.Latency, r.Failures,
            r.CpuMicrosPerOp / multiplier, notes.Count == 0 ? null : string.Join("; ", notes));
    }
}

/// <summary>A titled markdown section of a scenario's own (a per-minute table, a verdict).</summary>
public sealed record Section(string Title, string Markdown);

/// <summary>A headline figure compared with its target, the machine's ceiling and the peer (Redis).</summary>
public sealed record Headline(string What, string Measured, string Target, string? Met, string? VsCeiling, string? VsRedis);

/// <summary>Everything one run produced; written as markdown and JSON under bench/results.</summary>
public sealed class Report
{
    public required MachineInfo Machine { get; init; }
    public required string Command { get; init; }
    public DateTimeOffset StartedUtc { get; init; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? FinishedUtc { get; set; }
    public string? LoadAtEnd { get; set; }
    public List<Row> Rows { get; } = new();
    public List<Headline> Headlines { get; } = new();
    public List<string> Notes { get; } = new();
    public List<string> NotRun { get; } = new();
    public Dictionary<string, double> Figures { get; } = new();

    /// <summary>Scenario-specific markdown sections (title, body), written after the measurements table.</summary>
    public List<Section> Sections { get; } = new();

    /// <summary>Scenario-specific data for the JSON file (serialized by runtime type), e.g. the soak's per-minute samples.</summary>
    public Dictionary<string, object> Data { get; } = new();

    /// <summary>Appended to the timestamp of the results files (e.g. <c>-soak</c>).</summary>
    public string FileSuffix { get; set; } = "";

    private readonly object _gate = new();

    public void Add(Row row)
    {
        lock (_gate) Rows.Add(row);
        Console.WriteLine("  " + FormatRow(row).Replace("|", " ", StringComparison.Ordinal).Trim());
    }

    public void Figure(string key, double value)
    {
        lock (_gate) Figures[key] = value;
    }

    public double? Get(string key) => Figures.TryGetValue(key, out var v) ? v : null;

    public void Note(string note)
    {
        Notes.Add(note);
        Console.WriteLine("  note: " + note);
    }

    public void Skip(string scenario, string reason)
    {
        NotRun.Add($"{scenario}: {reason}");
        Console.WriteLine($"  NOT RUN {scenario}: {reason}");
    }

    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# BanActors benchmark run {StartedUtc:yyyy-MM-dd HH:mm:ss} UTC");
        sb.AppendLine();
        sb.AppendLine("## Machine");
        sb.AppendLine();
        foreach (var (k, v) in Machine.Pairs()) sb.AppendLine(CultureInfo.InvariantCulture, $"- **{k}**: {v}");
        if (LoadAtEnd is not null) sb.AppendLine(CultureInfo.InvariantCulture, $"- **load average at end**: {LoadAtEnd}");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- **command**: `{Command}`");
        if (FinishedUtc is { } f) sb.AppendLine(CultureInfo.InvariantCulture, $"- **duration**: {(f - StartedUtc).TotalSeconds:0} s");
        sb.AppendLine();
        if (Headlines.Count > 0)
        {
            sb.AppendLine("## Against the targets, the ceilings and Redis");
            sb.AppendLine();
            sb.AppendLine("| what | measured | target | met | vs ceiling | vs Redis |");
            sb.AppendLine("|---|---|---|---|---|---|");
            foreach (var h in Headlines)
                sb.AppendLine(CultureInfo.InvariantCulture, $"| {h.What} | {h.Measured} | {h.Target} | {h.Met ?? "–"} | {h.VsCeiling ?? "–"} | {h.VsRedis ?? "–"} |");
            sb.AppendLine();
        }
        sb.AppendLine("## All measurements");
        sb.AppendLine();
        sb.AppendLine("| scenario | case | n | in flight | throughput | p50 ms | p99 ms | max ms | failures | CPU µs/op | note |");
        sb.AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var row in Rows) sb.AppendLine(FormatRow(row));
        sb.AppendLine();
        foreach (var section in Sections)
        {
            sb.AppendLine("## " + section.Title);
            sb.AppendLine();
            sb.AppendLine(section.Markdown.TrimEnd());
            sb.AppendLine();
        }
        if (NotRun.Count > 0)
        {
            sb.AppendLine("## Not run");
            sb.AppendLine();
            foreach (var n in NotRun) sb.AppendLine("- " + n);
            sb.AppendLine();
        }
        if (Notes.Count > 0)
        {
            sb.AppendLine("## Notes");
            sb.AppendLine();
            foreach (var n in Notes) sb.AppendLine("- " + n);
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public static string FormatRow(Row r)
    {
        var l = r.Latency;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {r.Scenario} | {r.Case} | {r.N:N0} | {(r.InFlight is { } c ? c.ToString("N0", CultureInfo.InvariantCulture) : "–")} | {Num(r.Throughput)} {r.Unit} | {Ms(l?.P50Ms)} | {Ms(l?.P99Ms)} | {Ms(l?.MaxMs)} | {r.Failures} | {Num(r.CpuMicrosPerOp)} | {r.Note ?? ""} |");
    }

    private static string Num(double? v) => v is { } x && !double.IsNaN(x)
        ? (x >= 100 ? x.ToString("N0", CultureInfo.InvariantCulture) : x.ToString("0.##", CultureInfo.InvariantCulture))
        : "–";

    private static string Ms(double? v) => v is { } x && !double.IsNaN(x)
        ? (x >= 100 ? x.ToString("N0", CultureInfo.InvariantCulture) : x.ToString("0.###", CultureInfo.InvariantCulture))
        : "–";

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>
    /// Writes <c>{stamp}.md</c> and <c>{stamp}.json</c>, and the same JSON as <c>latest.json</c> (a fixed name for tools
    /// that compare runs); returns the markdown path.
    /// </summary>
    public string Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var stamp = StartedUtc.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + FileSuffix;
        var md = Path.Combine(folder, stamp + ".md");
        File.WriteAllText(md, ToMarkdown());
        var json = ToJson();
        File.WriteAllText(Path.Combine(folder, stamp + ".json"), json);
        File.WriteAllText(Path.Combine(folder, "latest.json"), json);
        return md;
    }
}
