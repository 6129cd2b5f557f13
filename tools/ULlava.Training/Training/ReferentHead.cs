using TorchSharp;
using TorchSharp.Modules;
using ULlava.Training.Scenes;
using static TorchSharp.torch;

namespace ULlava.Training.Training;

/// <summary>
/// A training-only probe on the [SEG]-predicting hidden state that must name the referred object's colour and shape
/// (two cross-entropies), thrown away with the run. Why: the hidden state that drives SAM is trained only through the
/// mask loss, and a tiny LLM trained from scratch did not learn to put the referent there: a linear probe recovered
/// the colour for 28–40 % and the shape for 20–32 % of held-out samples (chance 12.5 / 10 %), and the masks it drove
/// were the same whichever object was asked for (BatchLoss; tools/ULlava.Training/README.md). The probe asks for that
/// information directly, as stage 0's probe does for the vision tower's patches. Off unless --referent-weight &gt; 0.
/// <para>
/// The locator (<c>locates</c>, --locator-weight) is the same probe on the [LOC]-predicting hidden state, which must
/// also name the cell of a <see cref="Grid"/>×<see cref="Grid"/> grid over the white-padded square holding the referent's
/// box centre: det_decoder regresses the box from that hidden state, and its L1 + GIoU alone never moved the boxes off
/// the prior in any run (Acc@0.5 0.00–0.08; tools/ULlava.Training/README.md).
/// </para>
/// </summary>
public sealed class ReferentHead : nn.Module<Tensor, Tensor>
{
    public const string SegFile = "referent_head.safetensors";
    public const string LocFile = "locator_head.safetensors";

    /// <summary>The locator's cells per side of the padded square (the CLIP patch grid of the default size is 10).</summary>
    public const int Grid = 8;

    public static readonly int Colours = SceneColour.Palette.Count;
    public static readonly int Shapes = Enum.GetValues<ShapeKind>().Length;

    private readonly Linear probe;

    /// <param name="locates">the [LOC] probe (colour, shape and box-centre cell) rather than the [SEG] one</param>
    public ReferentHead(long hiddenSize, bool locates = false) : base(locates ? "locator_head" : "referent_head")
    {
        Locates = locates;
        probe = nn.Linear(hiddenSize, Colours + Shapes + (locates ? Grid * Grid : 0));
        RegisterComponents();
    }

    public bool Locates { get; }

    /// <summary>Its weights' file beside a resumable checkpoint.</summary>
    public string FileName => Locates ? LocFile : SegFile;

    public override Tensor forward(Tensor hidden) => probe.forward(hidden);

    /// <summary>The colour and shape indexes a phrase such as "red circle" names (-1, -1 for anything else).</summary>
    public static (int Colour, int Shape) Targets(string? phrase)
    {
        if (phrase is null) return (-1, -1);
        int space = phrase.IndexOf(' ');
        if (space < 0) return (-1, -1);
        string colour = phrase[..space], shape = phrase[(space + 1)..];
        int c = -1, s = -1;
        for (int i = 0; i < Colours; i++)
            if (SceneColour.Palette[i].Name == colour) c = i;
        foreach (var kind in Enum.GetValues<ShapeKind>())
            if (ShapeNames.Of(kind) == shape) s = (int)kind;
        return c < 0 || s < 0 ? (-1, -1) : (c, s);
    }

    /// <summary>The grid cell of a normalised xyxy box's centre (-1 for no box).</summary>
    public static int CellOf(float[]? box)
    {
        if (box is null) return -1;
        int Index(float a, float b) => Math.Clamp((int)Math.Floor((a + b) / 2 * Grid), 0, Grid - 1);
        return Index(box[1], box[3]) * Grid + Index(box[0], box[2]);
    }

    /// <summary>Colour CE + shape CE (+ the locator's cell CE) of the hidden states [N, H] against their samples' targets.</summary>
    public Tensor Loss(Tensor hidden, IReadOnlyList<EncodedSample> samples)
    {
        using var scope = NewDisposeScope();
        var logits = forward(hidden);
        var colours = tensor(samples.Select(s => (long)s.ReferentColour).ToArray()).to(hidden.device);
        var shapes = tensor(samples.Select(s => (long)s.ReferentShape).ToArray()).to(hidden.device);
        var loss = nn.functional.cross_entropy(logits[.., ..Colours], colours, ignore_index: -1)
                 + nn.functional.cross_entropy(logits[.., Colours..(Colours + Shapes)], shapes, ignore_index: -1);
        if (Locates)
        {
            var cells = tensor(samples.Select(s => (long)s.ReferentCell).ToArray()).to(hidden.device);
            loss = loss + nn.functional.cross_entropy(logits[.., (Colours + Shapes)..], cells, ignore_index: -1);
        }
        return loss.MoveToOuterDisposeScope();
    }

    public void Save(string dir) => ModuleWeights.Save(this, Path.Combine(dir, FileName));

    public void Load(string dir) =>
        ModuleWeights.Load(this, Path.Combine(dir, FileName), $"the checkpoint's run trained a {(Locates ? "locator" : "referent")} head, whose weights should be beside it");
}
