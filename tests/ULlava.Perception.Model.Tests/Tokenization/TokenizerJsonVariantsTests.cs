using System.Text.Json.Nodes;
using ULlava.Perception.Model.Tokenization;

namespace ULlava.Perception.Model.Tests.Tokenization;

/// <summary>tokenizer.json features the fixture does not use directly, made by editing a copy of its file.</summary>
public class TokenizerJsonVariantsTests
{
    private static ULlavaTokenizer Tok => TokenizerGolden.Tokenizer;

    private static ULlavaTokenizer LoadEdited(Action<JsonNode> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures.TinyCheckpoint, "tokenizer.json")))!;
        edit(root);
        var dir = Directory.CreateTempSubdirectory("ullava-tok-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), root.ToJsonString());
            return ULlavaTokenizer.FromFolder(dir);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void RStripAddedTokenSwallowsTheFollowingSpace()
    {
        var tok = LoadEdited(root =>
        {
            foreach (var t in root["added_tokens"]!.AsArray())
                if ((string?)t!["content"] == "[SEG]") t["rstrip"] = true;
        });
        Assert.Equal(Tok.Encode("Mask: [SEG]; x"), tok.Encode("Mask: [SEG]  ; x"));
        Assert.NotEqual(Tok.Encode("Mask: [SEG]  ; x"), tok.Encode("Mask: [SEG]  ; x"));
    }

    [Fact]
    public void LegacyPrependNormalizerPrefixesEveryChunk()
    {
        var tok = LoadEdited(root =>
        {
            root["pre_tokenizer"] = null;
            root["normalizer"] = JsonNode.Parse("""
                {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"}, {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]}
                """);
        });
        Assert.Equal(DummyPrefixScheme.AlwaysUnconditional, tok.Prefix);
        foreach (var name in TokenizerGolden.TextNames())
            Assert.Equal(TokenizerGolden.Ids("split_reference_ids", name), tok.Encode(TokenizerGolden.Text(name)));
    }

    [Fact]
    public void UnigramModelIsRejectedWithTheFileNamed()
    {
        var e = Assert.Throws<NotSupportedException>(() => LoadEdited(root =>
            root["model"] = new JsonObject { ["type"] = "Unigram", ["unk_id"] = 0, ["vocab"] = new JsonArray() }));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Contains("Unigram", e.Message);
    }
}
