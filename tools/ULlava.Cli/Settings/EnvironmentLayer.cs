using System.Collections;

namespace ULlava.Cli.Settings;

/// <summary>
/// Options from the environment: `--max-fps 5` is `ULLAVA_MAX_FPS=5`, a switch is `ULLAVA_LOOP=true`, and a
/// repeatable option takes `ULLAVA_SOURCE`, `ULLAVA_SOURCE_1`, `ULLAVA_SOURCE_2`, ... (in that order), which suits
/// a systemd EnvironmentFile. Unknown ULLAVA_ variables are not errors: other tools may set their own.
/// </summary>
public sealed class EnvironmentLayer : ISettingLayer
{
    public const string Prefix = "ULLAVA_";
    private readonly IReadOnlyDictionary<string, string> variables;

    public EnvironmentLayer(IReadOnlyDictionary<string, string> variables) => this.variables = variables;

    /// <summary>The process environment's ULLAVA_ variables.</summary>
    public static EnvironmentLayer FromProcess()
    {
        var found = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string key && key.StartsWith(Prefix, StringComparison.Ordinal) && e.Value is string value)
                found[key] = value;
        return new EnvironmentLayer(found);
    }

    public static string VariableName(string option) => Prefix + option.TrimStart('-').Replace('-', '_').ToUpperInvariant();

    public IReadOnlyList<string>? Values(string option)
    {
        string name = VariableName(option);
        var values = new List<string>();
        if (variables.TryGetValue(name, out var first)) values.Add(first);
        for (int i = 1; variables.TryGetValue($"{name}_{i}", out var more); i++) values.Add(more);
        return values.Count == 0 ? null : values;
    }

    public string Describe(string option) => VariableName(option);

    public IEnumerable<string> Unread(ISet<string> readOptions) => [];
}
