using YamlDotNet.RepresentationModel;

namespace ULlava.Cli.Settings;

/// <summary>
/// Options from a YAML (or JSON, which is YAML) file: a mapping from option names without the dashes to a value, a
/// list of values for a repeatable option, or true/false for a switch:
/// <code>
/// source: [cam0=rtsp://10.0.0.5/stream]
/// segment: [the red circle]
/// max-fps: 5
/// quiet: true
/// </code>
/// </summary>
public sealed class ConfigFileLayer : ISettingLayer
{
    private readonly string path;
    private readonly Dictionary<string, List<string>> settings;

    private ConfigFileLayer(string path, Dictionary<string, List<string>> settings)
    {
        this.path = path;
        this.settings = settings;
    }

    public static ConfigFileLayer Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"configuration file {path} does not exist");
        var yaml = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            yaml.Load(reader);
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"configuration file {path}: not valid YAML at line {e.Start.Line}: {e.InnerException?.Message ?? e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's parser gives up this way on some unterminated constructs (an open flow list).
            throw new InvalidDataException($"configuration file {path}: not valid YAML (an unterminated list or mapping?)", e);
        }
        var settings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (yaml.Documents.Count == 0) return new ConfigFileLayer(path, settings);
        if (yaml.Documents[0].RootNode is not YamlMappingNode root)
            throw new InvalidDataException($"configuration file {path}: expected a mapping of settings (name: value), as in the README");
        foreach (var (keyNode, valueNode) in root.Children)
        {
            string key = keyNode is YamlScalarNode { Value: { } k } ? k : throw new InvalidDataException($"configuration file {path}: line {keyNode.Start.Line}: a setting name must be text");
            settings[key] = valueNode switch
            {
                YamlScalarNode s => [s.Value ?? ""],
                YamlSequenceNode seq => seq.Children.Select(item => item is YamlScalarNode { Value: { } v } ? v
                    : throw new InvalidDataException($"configuration file {path}: {key} (line {item.Start.Line}): expected a list of plain values")).ToList(),
                _ => throw new InvalidDataException($"configuration file {path}: {key} (line {valueNode.Start.Line}): expected a value or a list of values"),
            };
        }
        return new ConfigFileLayer(path, settings);
    }

    public IReadOnlyList<string>? Values(string option) => settings.GetValueOrDefault(option.TrimStart('-'));

    public string Describe(string option) => $"{path}: {option.TrimStart('-')}";

    public IEnumerable<string> Unread(ISet<string> readOptions) =>
        settings.Keys.Where(k => !readOptions.Contains("--" + k)).Select(k => $"{path}: {k}");
}
