using TorchSharp;
using ULlava.Perception.Model.Native;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Tests;

public class TorchRuntimeTests
{
    [Fact]
    public void TorchSharpInitialisesAndComputes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }, 2, 2);
        using var b = matmul(a, a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
        using var q = randn(1, 2, 8, 16);
        using var attn = nn.functional.scaled_dot_product_attention(q, q, q);
        Assert.Equal(new long[] { 1, 2, 8, 16 }, attn.shape);
        using var linear = nn.Linear(16, 4);
        using var y = linear.forward(q);
        Assert.Equal(4, y.shape[^1]);
    }

    [Fact]
    public void OutputLibTorchSharpNeedsNoMissingGlibcxxVersion()
    {
        string dir = AppContext.BaseDirectory;
        var copies = Directory.GetFiles(dir, "libLibTorchSharp.so", SearchOption.AllDirectories);
        Assert.NotEmpty(copies);
        bool systemHasIt = ElfVersionNeeds.SystemLibStdCxxProvides("GLIBCXX_3.4.32");
        foreach (var path in copies)
        {
            var need = ElfVersionNeeds.Read(File.ReadAllBytes(path)).Single(n => n.Version == "GLIBCXX_3.4.32");
            // Weak only where this libstdc++ lacks it: elsewhere nothing is touched.
            Assert.Equal(!systemHasIt, need.Weak);
        }
    }
}

public class TorchRuntimeOptionTests
{
    [Fact]
    public void LibTorchFolderThatDoesNotExistIsNamed()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => TorchRuntime.Initialize("/nonexistent/torch/lib", "cpu"));
        Assert.Contains("/nonexistent/torch/lib", e.Message);
    }

    [Fact]
    public void LibTorchFolderWithoutLibTorchIsRejected()
    {
        var dir = Directory.CreateTempSubdirectory("ullava-notorch").FullName;
        try
        {
            var e = Assert.Throws<FileNotFoundException>(() => TorchRuntime.Initialize(dir, "cpu"));
            Assert.Contains("libtorch_cpu.so", e.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void UnknownDeviceIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.Initialize(null, "tpu"));
        Assert.Contains("cpu, cuda", e.Message);
    }

    [Fact]
    public void CudaWithoutAGpuGivesAClearError()
    {
        if (torch.cuda.is_available()) return; // a GPU host: nothing to refuse
        var e = Assert.Throws<InvalidOperationException>(() => TorchRuntime.Initialize(null, "cuda"));
        Assert.Contains("CUDA is not available", e.Message);
    }
}
