using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Llama;

/// <summary>The gated feed-forward block: <c>down(act(gate(x)) * up(x))</c>.</summary>
public sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    private readonly Linear gate_proj;
    private readonly Linear up_proj;
    private readonly Linear down_proj;

    // Set by FuseProjections: gate and up stacked in one matrix.
    private Tensor? _gateUpWeight;
    private Tensor? _gateUpBias;

    public LlamaMlp(Config.LlamaConfig config, Device? device = null, ScalarType? dtype = null, string name = "mlp") : base(name)
    {
        if (config.HiddenAct != "silu")
            throw new NotSupportedException($"LLaMA hidden_act '{config.HiddenAct}' is not supported (only silu)");
        gate_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, device, dtype);
        up_proj = nn.Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, device, dtype);
        down_proj = nn.Linear(config.IntermediateSize, config.HiddenSize, config.MlpBias, device, dtype);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => Forward(input, addTo: null);

    /// <summary>As <see cref="forward"/>; with <paramref name="addTo"/> (inference only) the down projection is added into that tensor in place and it is returned.</summary>
    public Tensor Forward(Tensor input, Tensor? addTo)
    {
        using var scope = NewDisposeScope();
        Tensor gated;
        if (_gateUpWeight is not null)
        {
            var gateUp = nn.functional.linear(input, _gateUpWeight, _gateUpBias).chunk(2, -1);
            gated = nn.functional.silu(gateUp[0]) * gateUp[1];
        }
        else
        {
            gated = nn.functional.silu(gate_proj.forward(input)) * up_proj.forward(input);
        }
        if (addTo is not null) return ResidualGemm.AddInto(addTo, gated, down_proj);
        return down_proj.forward(gated).MoveToOuterDisposeScope();
    }

    /// <summary>For inference once the weights are final: gate and up in one stacked matrix (see LlamaAttention.FuseProjections).</summary>
    public void FuseProjections()
    {
        if (_gateUpWeight is not null) return;
        using var noGrad = no_grad();
        _gateUpWeight = LlamaAttention.StackInto(new[] { gate_proj, up_proj }, out _gateUpBias);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _gateUpWeight?.Dispose();
            _gateUpBias?.Dispose();
            gate_proj.Dispose();
            up_proj.Dispose();
            down_proj.Dispose();
        }
        base.Dispose(disposing);
    }
}
