using ULlava.Perception.Model;
using ULlava.Perception.Model.Clip;
using ULlava.Training.Training;

namespace ULlava.Training.Tests;

public sealed class ModelSizesTests
{
    [Fact]
    public void DefaultModelFitsTheWeightBudget()
    {
        using var model = new ULlavaForCausalLM(ModelSizes.Default);
        long parameters = model.parameters().Sum(p => p.numel());
        // float32 weights of the shipped model must stay within the 30 MB.
        Assert.InRange(parameters * 4, 20_000_000, 30_000_000);
        // Every parameter trains (RMSNorm weights included).
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void ProcessorFeedsTheVisionTowerItsSide()
    {
        foreach (var config in new[] { ModelSizes.Default, ModelSizes.Tiny })
        {
            var processor = new ClipImageProcessor(ModelSizes.Processor(config));
            using var pixels = processor.Preprocess(new byte[64 * 48 * 3], 64, 48);
            int side = config.LlmConfig.VisionConfig.ImageSize;
            Assert.Equal(new long[] { 1, 3, side, side }, pixels.shape);
            Assert.Equal(config.OutDim, config.Sam.PromptEmbedDim);
        }
    }
}
