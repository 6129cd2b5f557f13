using ULlava.Perception.Model.Tokenization;

namespace ULlava.Perception.Model.Tests.Tokenization;

public class ConversationTemplateTests
{
    private static ULlavaTokenizer Tok => TokenizerGolden.Tokenizer;
    private static System.Text.Json.JsonElement Prompts => Fixtures.GoldenJson.GetProperty("prompts");

    [Fact]
    public void GoldenPromptsAreConvSep2WithTheVicunaSystem()
    {
        Assert.Equal("conv_sep2", Prompts.GetProperty("template").GetString());
        Assert.Equal(Prompts.GetProperty("system").GetString(), ConversationTemplate.Sep2.System);
        Assert.Equal(ConversationTemplate.VicunaSystem, ConversationTemplate.Sep2.System);
    }

    [Fact]
    public void SegPromptFromGoldenPromptsEncodesToSegPromptIds()
    {
        var question = ConversationTemplate.ExpandRepeats(Prompts.GetProperty("seg_question").GetString()!);
        Assert.Equal(ConversationTemplate.ImagePlaceholder(256) + "\nPlease segment and locate the red circle in this image.", question);

        var prompt = new ConversationTemplate(Prompts.GetProperty("system").GetString()!).Prompt(question);
        Assert.Equal(TokenizerGolden.Text("seg_prompt"), prompt);
        Assert.Equal(TokenizerGolden.TensorIds("seg_prompt_ids"), Tok.Encode(prompt));
        Assert.Equal(256, Tok.Encode(prompt).Count(id => id == Tok.TokenToId(ULlavaTokens.ImagePatch)));
    }

    [Fact]
    public void SegPromptWithAnswerEncodesToSegFullIds()
    {
        var full = ConversationTemplate.Sep2.PromptWithAnswer(
            ConversationTemplate.ExpandRepeats(Prompts.GetProperty("seg_question").GetString()!),
            Prompts.GetProperty("seg_answer").GetString()!);
        Assert.Equal(TokenizerGolden.Text("seg_full"), full);
        Assert.Equal(TokenizerGolden.TensorIds("seg_full_ids"), Tok.Encode(full));
    }

    // The captioning question is not in "prompts": recover it from cap_prompt_ids, rebuild the prompt, re-encode.
    [Fact]
    public void CaptioningPromptRecoveredFromCapPromptIdsRebuildsThem()
    {
        var ids = TokenizerGolden.TensorIds("cap_prompt_ids");
        var decoded = Tok.Decode(ids, skipSpecialTokens: true);
        var head = ConversationTemplate.VicunaSystem + " USER: \n";
        const string tail = " ASSISTANT:";
        Assert.StartsWith(head, decoded);
        Assert.EndsWith(tail, decoded);
        var question = decoded[head.Length..^tail.Length];
        Assert.Equal("Describe the image briefly.", question);

        var patches = ids.Count(id => id == Tok.TokenToId(ULlavaTokens.ImagePatch));
        var prompt = ConversationTemplate.Sep2.ImagePrompt(question, patches);
        Assert.Equal(TokenizerGolden.Text("cap_prompt"), prompt);
        Assert.Equal(ids, Tok.Encode(prompt));
        Assert.Equal(256, patches);
    }

    [Fact]
    public void VideoPromptHasOneTemporalTokenPerFramePlusTheSpatialOnes()
    {
        var frames = (int)Golden.Get("video_frames_u8").shape[0];
        var prompt = ConversationTemplate.Sep2.VideoPrompt("What happens in this video?", frames);
        Assert.Equal(TokenizerGolden.Text("vid_prompt"), prompt);
        var ids = TokenizerGolden.TensorIds("video_prompt_ids");
        Assert.Equal(ids, Tok.Encode(prompt));
        Assert.Equal(frames + 256, ids.Count(id => id == Tok.TokenToId(ULlavaTokens.VideoPatch)));
        Assert.Equal(Golden.Get("video_st_features").shape[1], frames + 256);
    }

    [Fact]
    public void SmallPromptMatchesTheGoldenText()
    {
        var prompt = ConversationTemplate.Sep2.ImagePrompt("Where is the blue square?", imagePatches: 4);
        Assert.Equal(TokenizerGolden.Text("small_prompt"), prompt);
    }

    [Fact]
    public void MultiTurnAlternatesSeparators()
    {
        var t = new ConversationTemplate("SYS");
        var text = t.Render([
            new ConversationTurn("USER", "hi"), new ConversationTurn("ASSISTANT", "hello"),
            new ConversationTurn("USER", "bye"), new ConversationTurn("ASSISTANT", null)]);
        Assert.Equal("SYS USER: hi ASSISTANT: hello</s>USER: bye ASSISTANT:", text);
    }

    [Fact]
    public void ExpandRepeatsLeavesOtherTextAlone()
    {
        Assert.Equal("a*3 [SEG][SEG] <image_patch>*", ConversationTemplate.ExpandRepeats("a*3 [SEG]*2 <image_patch>*"));
    }
}
