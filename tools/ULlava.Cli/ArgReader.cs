using System.Globalization;
using ULlava.Cli.Settings;

namespace ULlava.Cli;

/// <summary>
/// Reads `--name value` options and `--flag` switches of one subcommand, with errors that name the option
/// and what was expected. Every option must be consumed (<see cref="EnsureAllUsed"/>): a typo is an error.
/// With <see cref="WithLayers"/>, an option the command line does not give is looked up in the environment and then
/// in a configuration file: the command line wins over the environment, which wins over the file.
/// </summary>
public sealed class ArgReader
{
    private readonly List<string> args;
    private readonly HashSet<int> used = new();
    private readonly List<ISettingLayer> layers = new();
    private readonly HashSet<string> read = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> origins = new(StringComparer.Ordinal);

    public ArgReader(IEnumerable<string> args) => this.args = args.ToList();

    /// <summary>Adds lower layers, highest first (the environment, then a file). Read them before any option.</summary>
    public ArgReader WithLayers(params ISettingLayer[] lower)
    {
        layers.AddRange(lower);
        return this;
    }

    public bool Has(string flag)
    {
        read.Add(flag);
        int i = args.IndexOf(flag);
        if (i >= 0)
        {
            used.Add(i);
            return true;
        }
        foreach (var layer in layers)
        {
            if (layer.Values(flag) is not { } values) continue;
            string where = layer.Describe(flag);
            if (values.Count != 1) throw new UsageException($"{where}: a switch takes one value, true or false");
            return values[0].Trim().ToLowerInvariant() switch
            {
                "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" or "" => false,
                _ => throw new UsageException($"{where} {values[0]}: expected true or false"),
            };
        }
        return false;
    }

    public string? Optional(string name)
    {
        read.Add(name);
        int i = args.IndexOf(name);
        if (i >= 0)
        {
            if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                throw new UsageException($"{name} needs a value");
            used.Add(i);
            used.Add(i + 1);
            origins[name] = name;
            return args[i + 1];
        }
        foreach (var layer in layers)
        {
            if (layer.Values(name) is not { } values) continue;
            string where = layer.Describe(name);
            if (values.Count != 1) throw new UsageException($"{where}: expected one value, got {values.Count}");
            origins[name] = where;
            return values[0];
        }
        return null;
    }

    /// <summary>
    /// An option that is a switch with an optional value (`--metrics` or `--metrics URL`): null when off,
    /// <paramref name="whenBare"/> when given without a value (or as true in a layer), else the value.
    /// </summary>
    public string? SwitchOrValue(string name, string whenBare)
    {
        read.Add(name);
        int i = args.IndexOf(name);
        if (i >= 0)
        {
            used.Add(i);
            origins[name] = name;
            if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                used.Add(i + 1);
                return args[i + 1];
            }
            return whenBare;
        }
        foreach (var layer in layers)
        {
            if (layer.Values(name) is not { } values) continue;
            string where = layer.Describe(name);
            if (values.Count != 1) throw new UsageException($"{where}: expected one value, got {values.Count}");
            origins[name] = where;
            return values[0].Trim().ToLowerInvariant() switch
            {
                "true" or "1" or "yes" or "on" => whenBare,
                "false" or "0" or "no" or "off" or "" => null,
                _ => values[0],
            };
        }
        return null;
    }

    /// <summary>Every value of a repeatable option, in order: the command line's if it gives any, else the first layer's that does.</summary>
    public List<string> All(string name)
    {
        read.Add(name);
        var values = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            if (args[i] != name) continue;
            if (i + 1 >= args.Count) throw new UsageException($"{name} needs a value");
            used.Add(i);
            used.Add(i + 1);
            values.Add(args[i + 1]);
        }
        if (values.Count > 0) return values;
        foreach (var layer in layers)
            if (layer.Values(name) is { } layered) return layered.ToList();
        return values;
    }

    /// <summary>How an option read last was given, for errors: `--max-fps`, `ULLAVA_MAX_FPS` or `node.yaml: max-fps`.</summary>
    public string Origin(string name) => origins.GetValueOrDefault(name, name);

    public string Required(string name) => Optional(name) ?? throw new UsageException($"missing {name}");

    public string Choice(string name, string fallback, params string[] choices)
    {
        string value = Optional(name) ?? fallback;
        if (!choices.Contains(value)) throw new UsageException($"{Origin(name)} {value}: expected one of {string.Join(", ", choices)}");
        return value;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        string? text = Optional(name);
        if (text is null) return fallback;
        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new UsageException($"{Origin(name)} {text}: expected an integer from {min} to {max}");
        return v;
    }

    public double Double(string name, double fallback, double min, double max)
    {
        string? text = Optional(name);
        if (text is null) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !(v >= min && v <= max))
            throw new UsageException($"{Origin(name)} {text}: expected a number from {min} to {max}");
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
        var unread = layers.SelectMany(l => l.Unread(read)).ToList();
        if (unread.Count > 0) throw new UsageException($"unknown setting(s): {string.Join(", ", unread)}");
    }
}
