using ULlava.Training.Samples;

namespace ULlava.Training.Training;

/// <summary>
/// A sample made ready for the model: token ids of prompt + answer, labels (the answer's ids, <see cref="ULlavaLosses.IgnoreIndex"/>
/// elsewhere), the positions whose hidden states feed the [SEG] and [LOC] heads (the one before each token, as the
/// engine reads them), the low-res mask target and the box normalised to the white-padded square; for a mask sample the
/// referred object's colour and shape indexes and its box centre's cell (<see cref="ReferentHead"/>; -1 otherwise); for a
/// mask sample or an attribute question the share of each CLIP patch of the object it is about and the position whose
/// attention should go there (<see cref="AttentionGuide"/>: the [LOC]-predicting one, or the one predicting the answer's
/// first token; null and -1 otherwise); for an attribute or count answer its class (<see cref="HeadAnswerProbe"/>, -1
/// otherwise), read at that same first-token position, which a count of 0 has without patches to look at; for a video
/// direction answer its direction (<see cref="MotionProbe"/>, -1 otherwise).
/// </summary>
public sealed record EncodedSample(
    TrainingSample Sample,
    int[] Ids,
    long[] Labels,
    int PromptLength,
    int PlaceholderId,
    int SegHiddenPosition,
    int LocHiddenPosition,
    float[]? MaskTarget,
    int MaskSide,
    float[]? BoxTarget,
    int ReferentColour = -1,
    int ReferentShape = -1,
    int ReferentCell = -1,
    float[]? ReferentPatches = null,
    int GuidePosition = -1,
    int AnswerClass = -1,
    int MotionClass = -1)
{
    /// <summary>The positions of the visual placeholder tokens (where the image or video features go), in order.</summary>
    public long[] PlaceholderPositions() =>
        Enumerable.Range(0, Ids.Length).Where(i => Ids[i] == PlaceholderId).Select(i => (long)i).ToArray();
}
