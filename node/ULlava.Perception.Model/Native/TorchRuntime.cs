using System.Runtime.InteropServices;
using TorchSharp;

namespace ULlava.Perception.Model.Native;

/// <summary>
/// Brings up libtorch before the first tensor. By default TorchSharp finds the CPU libtorch bundled with the
/// build. With a libtorch folder (option or ULLAVA_LIBTORCH, e.g. an installed PyTorch's site-packages/torch/lib)
/// its libraries are loaded first, so CUDA works with PyTorch's own CUDA build; such a build is made without the
/// bundled copy (-p:ULlavaBundledLibTorch=false) so the two never both load.
/// </summary>
public static class TorchRuntime
{
    public const string LibTorchEnvironmentVariable = "ULLAVA_LIBTORCH";

    // Order matters: each library's dependencies must already be loaded when it is.
    private static readonly string[] PreloadOrder =
    {
        "libc10.so", "libc10_cuda.so", "libtorch_cpu.so", "libtorch_cuda.so", "libtorch.so",
    };

    private static readonly object Gate = new();
    private static string? initialisedWith;

    /// <summary>Initialises libtorch once for the process and checks that <paramref name="device"/> is usable.</summary>
    /// <param name="libTorchDir">A folder with libtorch*.so, or null to use <see cref="LibTorchEnvironmentVariable"/> or the bundled copy.</param>
    /// <param name="device">"cpu", "cuda" or "cuda:N".</param>
    public static torch.Device Initialize(string? libTorchDir, string device)
    {
        libTorchDir ??= Environment.GetEnvironmentVariable(LibTorchEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(libTorchDir)) libTorchDir = null;
        if (libTorchDir is not null) CheckFolder(libTorchDir);
        lock (Gate)
        {
            if (initialisedWith is null)
            {
                if (libTorchDir is not null) PreloadFrom(libTorchDir);
                initialisedWith = libTorchDir ?? "bundled";
                DisableNnpack();
            }
            else if (libTorchDir is not null && initialisedWith != libTorchDir)
            {
                throw new InvalidOperationException($"libtorch is already loaded from {initialisedWith}; cannot switch to {libTorchDir} in the same process");
            }
        }
        return ResolveDevice(device);
    }

    private static torch.Device ResolveDevice(string device)
    {
        string name = device.Trim().ToLowerInvariant();
        if (name == "cpu") return torch.CPU;
        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            try
            {
                torch.InitializeDeviceType(DeviceType.CUDA);
            }
            catch (Exception e)
            {
                throw new InvalidOperationException(CudaUnavailable(FirstSentence(e.Message)), e);
            }
            if (!torch.cuda.is_available()) throw new InvalidOperationException(CudaUnavailable("torch.cuda.is_available() is false"));
            return torch.device(name);
        }
        throw new ArgumentException($"device '{device}': expected cpu, cuda or cuda:N");
    }

    /// <summary>TorchSharp's message without its empty "Trace from LoadNativeBackend:" tail (one clear line for the user).</summary>
    private static string FirstSentence(string message)
    {
        string line = message.Split('\n')[0].Trim();
        int trace = line.IndexOf(" Trace from", StringComparison.Ordinal);
        return trace > 0 ? line[..trace] : line;
    }

    private static string CudaUnavailable(string why) =>
        $"device cuda was requested but CUDA is not available ({why}). This build bundles the CPU libtorch; for a GPU, " +
        $"point --libtorch (or {LibTorchEnvironmentVariable}) at a CUDA libtorch such as an installed PyTorch's torch/lib, " +
        "with a build made with -p:ULlavaBundledLibTorch=false (README: GPU routes).";

    /// <summary>A bad folder is named before anything else, whether or not libtorch is already loaded.</summary>
    private static void CheckFolder(string dir)
    {
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"libtorch folder not found: {dir} (from --libtorch or {LibTorchEnvironmentVariable})");
        if (!File.Exists(Path.Combine(dir, "libtorch_cpu.so")))
            throw new FileNotFoundException($"{dir} has no libtorch_cpu.so: expected a libtorch lib folder such as site-packages/torch/lib");
    }

    private delegate IntPtr GlobalContext();
    private delegate void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);

    /// <summary>
    /// <c>torch.backends.nnpack.set_flags(False)</c>, which TorchSharp does not wrap: on CPUs NNPACK does not support (this
    /// EPYC) every CPU convolution tried it and printed "Could not initialize NNPACK!" on stderr, once a frame. The
    /// convolutions are the same without it. Left as it is when libtorch does not export the two functions.
    /// </summary>
    private static void DisableNnpack()
    {
        torch.InitializeDeviceType(DeviceType.CPU); // TorchSharp loads libtorch here; dlopen then finds it by its soname
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var libtorch)) return;
        if (!NativeLibrary.TryGetExport(libtorch, "_ZN2at13globalContextEv", out var globalContext)) return; // at::globalContext()
        if (!NativeLibrary.TryGetExport(libtorch, "_ZN2at7Context20setUserEnabledNNPACKEb", out var setNnpack)) return; // at::Context::setUserEnabledNNPACK(bool)
        var context = Marshal.GetDelegateForFunctionPointer<GlobalContext>(globalContext)();
        Marshal.GetDelegateForFunctionPointer<SetUserEnabledNnpack>(setNnpack)(context, false);
    }

    private static void PreloadFrom(string dir)
    {
        foreach (var name in PreloadOrder)
        {
            string path = Path.Combine(dir, name);
            if (!File.Exists(path)) continue; // CPU-only builds have no *_cuda libraries
            try
            {
                NativeLibrary.Load(path);
            }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException($"cannot load {path}: {e.Message}", e);
            }
        }
    }
}
