using System.Globalization;

namespace ULlava.Training;

/// <summary>
/// Reads "--name value" pairs for <see cref="Training.Trainer.Usage"/> and <see cref="Evaluation.Evaluator.Usage"/>, so a
/// CLI only forwards its arguments; every error names the option and what it expected.
/// </summary>
public sealed class OptionReader
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);

    public OptionReader(IReadOnlyList<string> args, IReadOnlySet<string> known)
    {
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal) || !known.Contains(name[2..]))
                throw new ArgumentException($"unknown option '{name}' (expected one of {string.Join(", ", known.Select(k => "--" + k))})");
            if (i + 1 >= args.Count) throw new ArgumentException($"{name} needs a value");
            values[name[2..]] = args[++i];
        }
    }

    public string? String(string name) => values.GetValueOrDefault(name);

    public int? Int(string name) => Parse(name, s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture), "an integer");

    public ulong? ULong(string name) => Parse(name, s => ulong.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture), "a non-negative integer");

    public double? Double(string name) => Parse(name, s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture), "a number");

    /// <summary>true / false (also 1 / 0).</summary>
    public bool? Bool(string name) => Parse(name, s => s switch
    {
        "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new FormatException(),
    }, "true or false");

    /// <summary>"640x480" → (640, 480).</summary>
    public (int Width, int Height)? Size(string name) => Parse(name, s =>
    {
        var parts = s.Split('x');
        if (parts.Length != 2) throw new FormatException();
        return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    }, "WIDTHxHEIGHT");

    private T? Parse<T>(string name, Func<string, T> parse, string expected) where T : struct
    {
        if (!values.TryGetValue(name, out var text)) return null;
        try
        {
            return parse(text);
        }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw new ArgumentException($"--{name} '{text}': expected {expected}", e);
        }
    }
}
