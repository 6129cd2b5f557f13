using System.Text.Json;
using TorchSharp;
using ULlava.Perception.Model.Config;

namespace ULlava.Perception.Model.Tests.Loading;

[Collection(ProcessWideStateCollection.Name)]
public class FullSizeModelTests
{
    [Fact]
    public void TheDefaultConfigBuildsExactlyULlava7BOnTheMetaDevice()
    {
        var manifest = JsonDocument.Parse(File.ReadAllText(Fixtures.Manifest7B)).RootElement;
        var expected = manifest.GetProperty("shapes").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetInt64()).ToArray());

        // Shapes only: nothing the size of a 7B model is allocated (a real config has no sam_config: SAM ViT-H).
        torch.set_default_device(torch.META);
        ULlavaForCausalLM model;
        try
        {
            model = new ULlavaForCausalLM(new ULlavaConfig(), torch.META);
        }
        finally
        {
            torch.set_default_device(torch.CPU);
        }
        using (model)
        {
            var state = model.state_dict();
            Assert.Empty(expected.Keys.Except(state.Keys));
            Assert.Empty(state.Keys.Except(expected.Keys));
            Assert.All(state, kv => Assert.True(kv.Value.shape.SequenceEqual(expected[kv.Key]),
                $"{kv.Key}: [{string.Join(",", kv.Value.shape)}] vs [{string.Join(",", expected[kv.Key])}]"));
            Assert.Equal(manifest.GetProperty("tensors").GetInt32(), state.Count);
            Assert.Equal(manifest.GetProperty("total_parameters").GetInt64(), state.Values.Sum(t => t.numel()));
            Assert.All(state.Values, t => Assert.Equal(DeviceType.META, t.device_type));
        }
    }
}
