using System.Globalization;
using System.Text.RegularExpressions;

namespace ULlava.Perception.Web.Tests;

/// <summary>The samples and families of one scrape in the Prometheus text format (enough of it for these tests).</summary>
internal sealed partial class PrometheusText
{
    public PrometheusText(string text)
    {
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                Types[parts[2]] = parts[3];
                continue;
            }
            if (line.StartsWith('#')) continue;
            var m = Sample().Match(line);
            Assert.True(m.Success, $"not a sample line: '{line}'");
            var labels = new Dictionary<string, string>();
            foreach (Match l in Label().Matches(m.Groups["labels"].Value)) labels[l.Groups[1].Value] = Regex.Unescape(l.Groups[2].Value);
            Samples.Add((m.Groups["name"].Value, labels, double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
    }

    /// <summary>Family name → type (counter, gauge, histogram).</summary>
    public Dictionary<string, string> Types { get; } = new();

    public List<(string Name, Dictionary<string, string> Labels, double Value)> Samples { get; } = new();

    /// <summary>The one sample of <paramref name="name"/> whose labels include <paramref name="labels"/> ("k=v").</summary>
    public double Value(string name, params string[] labels)
    {
        var matching = Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Split('=')[0], out var v) && v == l.Split('=', 2)[1])).ToList();
        Assert.True(matching.Count == 1, $"{matching.Count} samples of {name}{{{string.Join(",", labels)}}}");
        return matching[0].Value;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$""")]
    private static partial Regex Sample();

    [GeneratedRegex("""([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?""")]
    private static partial Regex Label();
}
