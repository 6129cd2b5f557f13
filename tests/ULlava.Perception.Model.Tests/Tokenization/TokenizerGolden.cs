using System.Text.Json;
using ULlava.Perception.Model.Tokenization;

namespace ULlava.Perception.Model.Tests.Tokenization;

/// <summary>golden.json "tokenizer" block, and the fixture tokenizer loaded once.</summary>
public static class TokenizerGolden
{
    private static readonly Lazy<ULlavaTokenizer> Tiny = new(() => ULlavaTokenizer.FromFolder(Fixtures.TinyCheckpoint));

    /// <summary>The fixture checkpoint's tokenizer (both layouts present: tokenizer.model is used).</summary>
    public static ULlavaTokenizer Tokenizer => Tiny.Value;

    public static JsonElement Block => Fixtures.GoldenJson.GetProperty("tokenizer");

    public static string Text(string name) => Block.GetProperty("texts").GetProperty(name).GetString()!;

    public static int[] Ids(string list, string name) =>
        Block.GetProperty(list).GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static IEnumerable<string> TextNames() => Block.GetProperty("texts").EnumerateObject().Select(p => p.Name);

    public static TheoryData<string> TextNameData()
    {
        var data = new TheoryData<string>();
        foreach (var name in TextNames()) data.Add(name);
        return data;
    }

    /// <summary>A golden int64 id tensor ([1, n]) as ints.</summary>
    public static int[] TensorIds(string name) => Golden.Get(name).data<long>().ToArray().Select(v => checked((int)v)).ToArray();

    /// <summary>A fresh temp folder holding only the named files of the fixture checkpoint.</summary>
    public static string CopyToTemp(params string[] files)
    {
        var dir = Directory.CreateTempSubdirectory("ullava-tok-").FullName;
        foreach (var f in files) File.Copy(Path.Combine(Fixtures.TinyCheckpoint, f), Path.Combine(dir, f));
        return dir;
    }
}
