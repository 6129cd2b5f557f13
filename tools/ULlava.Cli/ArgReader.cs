using System.Globalization;

namespace ULlava.Cli;

/// <summary>
/// Reads `--name value` options and `--flag` switches of one subcommand, with errors that name the option
/// and what was expected. Every option must be consumed (<see cref="EnsureAllUsed"/>): a typo is an error.
/// </summary>
public sealed class ArgReader
{
    private readonly List<string> args;
    private readonly HashSet<int> used = new();

    public ArgReader(IEnumerable<string> args) => this.args = args.ToList();

    public bool Has(string flag)
    {
        int i = args.IndexOf(flag);
        if (i < 0) return false;
        used.Add(i);
        return true;
    }

    public string? Optional(string name)
    {
        int i = args.IndexOf(name);
        if (i < 0) return null;
        if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
            throw new UsageException($"{name} needs a value");
        used.Add(i);
        used.Add(i + 1);
        return args[i + 1];
    }

    /// <summary>Every value of a repeatable option, in order.</summary>
    public List<string> All(string name)
    {
        var values = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] != name) continue;
            if (i + 1 >= args.Count) throw new UsageException($"{name} needs a value");
            used.Add(i);
            used.Add(i + 1);
            values.Add(args[i + 1]);
        }
        return values;
    }

    public string Required(string name) => Optional(name) ?? throw new UsageException($"missing {name}");

    public string Choice(string name, string fallback, params string[] choices)
    {
        string value = Optional(name) ?? fallback;
        if (!choices.Contains(value)) throw new UsageException($"{name} {value}: expected one of {string.Join(", ", choices)}");
        return value;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        string? text = Optional(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new UsageException($"{name} {text}: expected an integer from {min} to {max}");
        return v;
    }

    public double Double(string name, double fallback, double min, double max)
    {
        string? text = Optional(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= min && v <= max))
            throw new UsageException($"{name} {text}: expected a number from {min} to {max}");
        return v;
    }

    /// <summary>The first argument that is not an option or an option's value.</summary>
    public string Positional(string what)
    {
        for (int i = 0; i < args.Count; i++)
        {
            if (used.Contains(i)) continue;
            if (args[i].StartsWith("--", StringComparison.Ordinal)) continue;
            used.Add(i);
            return args[i];
        }
        throw new UsageException($"missing {what}");
    }

    /// <summary>Everything not consumed so far, in order (a subcommand's own arguments).</summary>
    public List<string> Rest()
    {
        var rest = args.Where((_, i) => !used.Contains(i)).ToList();
        for (int i = 0; i < args.Count; i++) used.Add(i);
        return rest;
    }

    public void EnsureAllUsed()
    {
        var unknown = args.Where((_, i) => !used.Contains(i)).ToList();
        if (unknown.Count > 0) throw new UsageException($"unknown argument(s): {string.Join(" ", unknown)}");
    }
}
