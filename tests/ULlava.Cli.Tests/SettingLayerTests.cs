using ULlava.Cli;
using ULlava.Cli.Settings;

namespace ULlava.Cli.Tests;

/// <summary>Options from the command line, the environment and a configuration file, in that order of precedence.</summary>
public sealed class SettingLayerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-settings").FullName;

    public void Dispose() => Directory.Delete(dir, true);

    private string Config(string yaml)
    {
        string path = Path.Combine(dir, "node.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static EnvironmentLayer Env(params (string Key, string Value)[] variables) =>
        new(variables.ToDictionary(v => v.Key, v => v.Value));

    [Fact]
    public void TheCommandLineWinsOverTheEnvironmentWhichWinsOverTheFile()
    {
        var file = ConfigFileLayer.Read(Config("max-fps: 3\nevery: 4\npub: tcp://127.0.0.1:7000\nquiet: true\n"));
        var args = new ArgReader(["--max-fps", "5"]).WithLayers(Env(("ULLAVA_MAX_FPS", "9"), ("ULLAVA_EVERY", "2")), file);
        Assert.Equal(5, args.Double("--max-fps", 0, 0, 100));
        Assert.Equal(2, args.Int("--every", 1, 1, 100));
        Assert.Equal("tcp://127.0.0.1:7000", args.Optional("--pub"));
        Assert.True(args.Has("--quiet"));
        Assert.False(args.Has("--loop"));
        Assert.Null(args.Optional("--record"));
        args.EnsureAllUsed();
    }

    [Fact]
    public void ModelOptionsComeFromEveryLayerTooThreadsIncluded()
    {
        var file = ConfigFileLayer.Read(Config("threads: 3\ndtype: bfloat16\n"));
        var fromFile = ModelArgs.Read(new ArgReader([]).WithLayers(Env(), file));
        Assert.Equal((3, "bfloat16"), (fromFile.Threads, fromFile.DType));
        Assert.Equal(3, fromFile.Options().Threads); // what the engine applies
        Assert.Equal(1, ModelArgs.Read(new ArgReader([]).WithLayers(Env(("ULLAVA_THREADS", "1")), file)).Threads);
        Assert.Equal(0, ModelArgs.Read(new ArgReader([])).Threads); // libtorch's default
        Assert.Throws<UsageException>(() => ModelArgs.Read(new ArgReader(["--threads", "-2"])));
    }

    [Fact]
    public void ARepeatableOptionTakesTheWholeListOfTheHighestLayerThatGivesOne()
    {
        var file = ConfigFileLayer.Read(Config("source:\n  - a=one.mp4\n  - b=two.mp4\nsegment: [the cup]\n"));
        var env = Env(("ULLAVA_SOURCE", "c=rtsp://h/1"), ("ULLAVA_SOURCE_1", "d=rtsp://h/2"));
        var args = new ArgReader(["--segment", "the ball", "--segment", "the box"]).WithLayers(env, file);
        Assert.Equal(["c=rtsp://h/1", "d=rtsp://h/2"], args.All("--source"));
        Assert.Equal(["the ball", "the box"], args.All("--segment"));
        var fileOnly = new ArgReader([]).WithLayers(Env(), file);
        Assert.Equal(["a=one.mp4", "b=two.mp4"], fileOnly.All("--source"));
    }

    [Fact]
    public void ABadValueNamesTheSettingWhereItCameFrom()
    {
        var fromEnv = new ArgReader([]).WithLayers(Env(("ULLAVA_MAX_FPS", "fast")));
        var e = Assert.Throws<UsageException>(() => fromEnv.Double("--max-fps", 0, 0, 1000));
        Assert.Equal("ULLAVA_MAX_FPS fast: expected a number from 0 to 1000", e.Message);

        string path = Config("every: -3\nloop: maybe\n");
        var fromFile = new ArgReader([]).WithLayers(Env(), ConfigFileLayer.Read(path));
        e = Assert.Throws<UsageException>(() => fromFile.Int("--every", 1, 1, 100));
        Assert.Equal($"{path}: every -3: expected an integer from 1 to 100", e.Message);
        e = Assert.Throws<UsageException>(() => fromFile.Has("--loop"));
        Assert.Equal($"{path}: loop maybe: expected true or false", e.Message);

        var fromArgs = new ArgReader(["--every", "0"]).WithLayers(Env(("ULLAVA_EVERY", "5")));
        e = Assert.Throws<UsageException>(() => fromArgs.Int("--every", 1, 1, 100));
        Assert.Equal("--every 0: expected an integer from 1 to 100", e.Message);
    }

    [Fact]
    public void AnUnknownSettingInTheFileIsAnErrorButForeignEnvironmentVariablesAreNot()
    {
        string path = Config("max-fps: 2\nmax_fsp: 3\n");
        var args = new ArgReader([]).WithLayers(Env(("ULLAVA_SOMETHING_ELSE", "x")), ConfigFileLayer.Read(path));
        args.Double("--max-fps", 0, 0, 100);
        var e = Assert.Throws<UsageException>(args.EnsureAllUsed);
        Assert.Equal($"unknown setting(s): {path}: max_fsp", e.Message);
    }

    [Fact]
    public void AFileThatIsNotAMappingOrNotYamlIsNamed()
    {
        Assert.Contains("expected a mapping", Assert.Throws<InvalidDataException>(() => ConfigFileLayer.Read(Config("- a\n- b\n"))).Message);
        Assert.Contains("not valid YAML", Assert.Throws<InvalidDataException>(() => ConfigFileLayer.Read(Config("a: [b\nc: d\n"))).Message);
        Assert.Contains("not valid YAML at line 2", Assert.Throws<InvalidDataException>(() => ConfigFileLayer.Read(Config("a: b\n c: d: e\n"))).Message);
        Assert.Contains("expected a list of plain values", Assert.Throws<InvalidDataException>(() => ConfigFileLayer.Read(Config("source:\n  - {a: b}\n"))).Message);
        Assert.Contains("does not exist", Assert.Throws<FileNotFoundException>(() => ConfigFileLayer.Read(Path.Combine(dir, "none.yaml"))).Message);
    }

    [Fact]
    public void EnvironmentNamesFollowTheOptionNames()
    {
        Assert.Equal("ULLAVA_MAX_NEW_TOKENS", EnvironmentLayer.VariableName("--max-new-tokens"));
        Assert.Equal("ULLAVA_LIBTORCH", EnvironmentLayer.VariableName("--libtorch")); // the variable the GPU route already documents
    }
}
