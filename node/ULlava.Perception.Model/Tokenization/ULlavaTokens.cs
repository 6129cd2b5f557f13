namespace ULlava.Perception.Model.Tokenization;

/// <summary>The tokens u-LLaVA adds to the LLaMA vocabulary, in the order it adds them (ids 32000.. on a 7B).</summary>
public static class ULlavaTokens
{
    public const string Pad = "[PAD]";
    public const string ImagePatch = "<image_patch>";
    public const string VideoPatch = "<video_patch>";
    public const string ImageBegin = "<img_beg>";
    public const string ImageEnd = "</img_end>";
    public const string VideoBegin = "<vid_beg>";
    public const string VideoEnd = "</vid_end>";
    public const string Seg = "[SEG]";
    public const string Loc = "[LOC]";
    public const string TagBegin = "[tag]";
    public const string TagEnd = "[/tag]";

    /// <summary>All eleven, in u-LLaVA's order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Pad, ImagePatch, VideoPatch, ImageBegin, ImageEnd, VideoBegin, VideoEnd, Seg, Loc, TagBegin, TagEnd];
}
