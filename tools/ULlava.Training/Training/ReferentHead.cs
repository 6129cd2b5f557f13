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
/// </summary>
public sealed class ReferentHead : nn.Module<Tensor, Tensor>
{
    public const string File = "referent_head.safetensors";

    public static readonly int Colours = SceneColour.Palette.Count;
    public static readonly int Shapes = Enum.GetValues<ShapeKind>().Length;

    private readonly Linear probe;

    public ReferentHead(long hiddenSize) : base("referent_head")
    {
        probe = nn.Linear(hiddenSize, Colours + Shapes);
        RegisterComponents();
    }

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

    /// <summary>Colour CE + shape CE of the hidden states [N, H] against their samples' targets.</summary>
    public Tensor Loss(Tensor hidden, IReadOnlyList<EncodedSample> samples)
    {
        using var scope = NewDisposeScope();
        var logits = forward(hidden);
        var colours = tensor(samples.Select(s => (long)s.ReferentColour).ToArray()).to(hidden.device);
        var shapes = tensor(samples.Select(s => (long)s.ReferentShape).ToArray()).to(hidden.device);
        var loss = nn.functional.cross_entropy(logits[.., ..Colours], colours, ignore_index: -1)
                 + nn.functional.cross_entropy(logits[.., Colours..], shapes, ignore_index: -1);
        return loss.MoveToOuterDisposeScope();
    }

    public void Save(string dir) => ModuleWeights.Save(this, Path.Combine(dir, File));

    public void Load(string dir) =>
        ModuleWeights.Load(this, Path.Combine(dir, File), "the checkpoint's run trained a referent head, whose weights should be beside it");
}
