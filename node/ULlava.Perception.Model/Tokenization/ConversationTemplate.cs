using System.Text;

namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// u-LLaVA's conversation template "conv_sep2" (Vicuna v1.1): <c>system + " USER: " + message + " ASSISTANT:"</c>,
/// a finished assistant turn ending in "&lt;/s&gt;". Also the image and video placeholders u-LLaVA puts in the user
/// message, which the model replaces by visual features position for position.
/// </summary>
public sealed class ConversationTemplate
{
    /// <summary>Vicuna v1.1's system prompt, the one u-LLaVA uses.</summary>
    public const string VicunaSystem =
        "A chat between a curious human and an artificial intelligence assistant. " +
        "The assistant gives helpful, detailed, and polite answers to the human's questions.";

    /// <summary>Spatial tokens per image (CLIP ViT-L/14 at 224: 16×16) and per video, after the temporal ones.</summary>
    public const int DefaultImagePatches = 256;

    public ConversationTemplate(string system, string userRole = "USER", string assistantRole = "ASSISTANT",
        string separator = " ", string separator2 = "</s>")
    {
        System = system;
        UserRole = userRole;
        AssistantRole = assistantRole;
        Separator = separator;
        Separator2 = separator2;
    }

    /// <summary>conv_sep2 as u-LLaVA defines it.</summary>
    public static ConversationTemplate Sep2 { get; } = new(VicunaSystem);

    public string System { get; }
    public string UserRole { get; }
    public string AssistantRole { get; }

    /// <summary>After the system prompt and after each user turn.</summary>
    public string Separator { get; }

    /// <summary>After each assistant turn (the EOS text).</summary>
    public string Separator2 { get; }

    /// <summary>
    /// The prompt text: system, then per turn "ROLE: message" + separator (alternating Separator / Separator2),
    /// or "ROLE:" for an open turn (the one the model is to write).
    /// </summary>
    public string Render(IEnumerable<ConversationTurn> turns)
    {
        var sb = new StringBuilder(System).Append(Separator);
        var i = 0;
        foreach (var turn in turns)
        {
            if (turn.Message is null)
            {
                sb.Append(turn.Role).Append(':');
            }
            else
            {
                sb.Append(turn.Role).Append(": ").Append(turn.Message).Append(i % 2 == 0 ? Separator : Separator2);
            }
            i++;
        }
        return sb.ToString();
    }

    /// <summary>One user message and the open assistant turn: "system USER: message ASSISTANT:".</summary>
    public string Prompt(string userMessage) =>
        Render([new ConversationTurn(UserRole, userMessage), new ConversationTurn(AssistantRole, null)]);

    /// <summary>The prompt followed by a finished answer: "... ASSISTANT: answer&lt;/s&gt;".</summary>
    public string PromptWithAnswer(string userMessage, string answer) =>
        Render([new ConversationTurn(UserRole, userMessage), new ConversationTurn(AssistantRole, answer)]);

    /// <summary>A question about an image: the image placeholder, a newline, the question.</summary>
    public string ImagePrompt(string question, int imagePatches = DefaultImagePatches) =>
        Prompt(ImagePlaceholder(imagePatches) + "\n" + question);

    /// <summary>A question about a video of <paramref name="frames"/> frames: the video placeholder, a newline, the question.</summary>
    public string VideoPrompt(string question, int frames, int spatialPatches = DefaultImagePatches) =>
        Prompt(VideoPlaceholder(frames, spatialPatches) + "\n" + question);

    /// <summary>&lt;img_beg&gt; + N × &lt;image_patch&gt; + &lt;/img_end&gt;.</summary>
    public static string ImagePlaceholder(int imagePatches = DefaultImagePatches)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(imagePatches);
        return ULlavaTokens.ImageBegin + Repeat(ULlavaTokens.ImagePatch, imagePatches) + ULlavaTokens.ImageEnd;
    }

    /// <summary>&lt;vid_beg&gt; + (T + 256) × &lt;video_patch&gt; + &lt;/vid_end&gt;: one temporal token per frame, then the spatial ones.</summary>
    public static string VideoPlaceholder(int frames, int spatialPatches = DefaultImagePatches)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(frames);
        ArgumentOutOfRangeException.ThrowIfNegative(spatialPatches);
        return ULlavaTokens.VideoBegin + Repeat(ULlavaTokens.VideoPatch, frames + spatialPatches) + ULlavaTokens.VideoEnd;
    }

    /// <summary>
    /// Expands the "&lt;tok&gt;*N" shorthand of golden.json prompts (e.g. "&lt;image_patch&gt;*256") into N copies.
    /// </summary>
    public static string ExpandRepeats(string text)
    {
        foreach (var token in ULlavaTokens.All)
        {
            var marker = token + "*";
            for (var at = text.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = text.IndexOf(marker, at, StringComparison.Ordinal))
            {
                var digits = at + marker.Length;
                var end = digits;
                while (end < text.Length && char.IsAsciiDigit(text[end])) end++;
                if (end == digits) { at = digits; continue; }
                var count = int.Parse(text.AsSpan(digits, end - digits), global::System.Globalization.CultureInfo.InvariantCulture);
                var expanded = Repeat(token, count);
                text = string.Concat(text.AsSpan(0, at), expanded, text.AsSpan(end));
                at += expanded.Length;
            }
        }
        return text;
    }

    private static string Repeat(string token, int count) => new StringBuilder(token.Length * count).Insert(0, token, count).ToString();
}
