namespace ULlava.Cli.Settings;

/// <summary>
/// A source of option values below the command line (the environment, a configuration file). Options are named as
/// on the command line (`--max-fps`); each layer maps the name to its own key and says where a value came from.
/// </summary>
public interface ISettingLayer
{
    /// <summary>The option's values in this layer (several for a repeatable option), or null when it does not set it.</summary>
    IReadOnlyList<string>? Values(string option);

    /// <summary>Where the option's value comes from in this layer, for errors: `ULLAVA_MAX_FPS` or `node.yaml: max-fps`.</summary>
    string Describe(string option);

    /// <summary>Settings this layer holds that no option read (a typo in a file is an error, not a silent default).</summary>
    IEnumerable<string> Unread(ISet<string> readOptions);
}
