using ULlava.Perception.Model.Tokenization;

namespace ULlava.Perception.Model.Tests.Tokenization;

public class StreamingDecoderTests
{
    private static ULlavaTokenizer Tok => TokenizerGolden.Tokenizer;

    private static List<string> StreamAll(IEnumerable<int> ids, bool skipSpecial)
    {
        var stream = Tok.CreateStreamingDecoder(skipSpecial);
        var pieces = ids.Select(stream.Push).ToList();
        pieces.Add(stream.Flush());
        return pieces;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void AnswerPiecesConcatenateToTheFullDecode(bool skipSpecial)
    {
        var ids = TokenizerGolden.Ids("reference_ids", "answer");
        var pieces = StreamAll(ids, skipSpecial);
        var expected = TokenizerGolden.Block.GetProperty("reference_decode")
            .GetProperty(skipSpecial ? "answer_skip_special" : "answer_keep_special").GetString();
        Assert.Equal(expected, string.Concat(pieces));
        // Streamed, not all at once: most tokens produce text of their own.
        Assert.True(pieces.Count(p => p.Length > 0) > ids.Length / 2);
    }

    [Fact]
    public void MultiByteCharactersAreHeldUntilComplete()
    {
        var text = TokenizerGolden.Text("unicode");
        var ids = Tok.Encode(text);
        var stream = Tok.CreateStreamingDecoder();
        var pieces = new List<string>();
        foreach (var id in ids)
        {
            var piece = stream.Push(id);
            Assert.DoesNotContain('\uFFFD', piece);
            pieces.Add(piece);
        }
        pieces.Add(stream.Flush());
        Assert.Equal(text, string.Concat(pieces));

        // 東 is <0xE6> <0x9D> <0xB1>: nothing is sent for its bytes, it comes with the "," after it.
        var first = Array.IndexOf(ids, Tok.TokenToId("<0xE6>"));
        Assert.Equal(["", "", "", "", "", ""], pieces.Skip(first).Take(6));
        Assert.Equal("東京,", pieces[first + 6]);
    }

    [Fact]
    public void FlushSendsAnUnfinishedCharacterAsReplacementChars()
    {
        var stream = Tok.CreateStreamingDecoder();
        Assert.Equal("a", stream.Push(Tok.TokenToId("▁a")));
        Assert.Equal("", stream.Push(Tok.TokenToId("<0xF0>")));
        Assert.Equal("", stream.Push(Tok.TokenToId("<0x9F>")));
        Assert.Equal("\uFFFD\uFFFD", stream.Flush());
        Assert.Equal("", stream.Flush());
        Assert.Equal(Tok.Decode(stream.Ids), stream.Text);
    }

    // The tiny model's own greedy output has invalid byte runs (a continuation byte after "C"): the stream must not
    // send "C" early, since the decode turns the whole run into U+FFFD.
    [Theory]
    [InlineData("seg_greedy_ids")]
    [InlineData("cap_greedy_ids")]
    [InlineData("video_greedy_ids")]
    public void GreedyOutputsStreamToTheirDecode(string tensor)
    {
        var ids = TokenizerGolden.TensorIds(tensor);
        if (tensor == "seg_greedy_ids") Assert.Contains('\uFFFD', Tok.Decode(ids));
        foreach (var skip in new[] { true, false })
            Assert.Equal(Tok.Decode(ids, skip), string.Concat(StreamAll(ids, skip)));
    }

    [Fact]
    public void OutOfRangeIdIsRejected()
    {
        var stream = Tok.CreateStreamingDecoder();
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Push(Tok.VocabSize));
        Assert.Empty(stream.Ids);
    }

    [Fact]
    public void ASkippedSpecialTokenBetweenByteRunsDoesNotEndTheRun()
    {
        // <0x0F> <0x63> </s> <0xC0> "1": with </s> skipped the three bytes form one invalid run (three U+FFFD),
        // so "c" must not have been sent before the run was complete.
        int[] ids = { 18, 102, 2, 195, 487 };
        var decoder = Tok.CreateStreamingDecoder(skipSpecialTokens: true);
        string streamed = string.Concat(ids.Select(decoder.Push)) + decoder.Flush();
        Assert.Equal(Tok.Decode(ids, skipSpecialTokens: true), streamed);
    }

    [Fact]
    public void RandomIdSequencesStreamToTheirDecode()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 5000; trial++)
        {
            var ids = Enumerable.Range(0, 8).Select(_ => random.Next(0, Tok.VocabSize)).ToArray();
            foreach (bool skip in new[] { true, false })
            {
                var decoder = Tok.CreateStreamingDecoder(skip);
                string streamed = string.Concat(ids.Select(decoder.Push)) + decoder.Flush();
                Assert.Equal(Tok.Decode(ids, skip), streamed);
            }
        }
    }
}
