using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using TorchSharp;
using ULlava.Perception.Core.Frames;
using ULlava.Perception.Core.Inference;
using ULlava.Perception.Model.Clip;
using ULlava.Perception.Model.Config;
using ULlava.Perception.Model.Heads;
using ULlava.Perception.Model.Llama;
using ULlava.Perception.Model.Loading;
using ULlava.Perception.Model.Native;
using ULlava.Perception.Model.Sam;
using ULlava.Perception.Model.Tokenization;
using static TorchSharp.torch;

namespace ULlava.Perception.Model.Inference;

/// <summary>
/// The inference API the node calls: encode a frame once (CLIP now, SAM only when a mask is needed, the prompt
/// prefix KV once an instruction runs), then run any number of instructions on it. No threads, sockets or
/// OpenCV here; one thread owns an engine and the frames it encoded.
/// </summary>
public sealed class ULlavaEngine : IInferenceEngine
{
    /// <summary>u-LLaVA's segmentation/grounding answer, teacher-forced up to the [LOC] token (the [tag] phrase after it cannot change either head: attention is causal).</summary>
    public const string TemplateAnswer = "Sure. Mask: [SEG]; Location: [LOC]";

    private readonly ULlavaEngineOptions options;
    private readonly string templateText;
    private readonly EngineLifetime lifetime;
    private readonly int imagePatchId, videoPatchId, imageEndId, segId, locId, tagId, tagEndId;

    // The KV of the prompt before the image (system prompt, "USER:"), the same for every frame: computed once, copied
    // into each frame's prefix cache so a frame prefills only its image tokens and what follows.
    private readonly object systemPrefixLock = new();
    private (int[] Ids, KvCache Cache)? systemPrefix;

    private ULlavaEngine(ULlavaEngineOptions options, ULlavaForCausalLM model, ULlavaTokenizer tokenizer, ClipImageProcessor processor, string identity, string? name = null)
    {
        this.options = options;
        Model = model;
        model.Sam.ImageEncoder.SetAttentionKernel(options.SamAttention);
        model.Llm.Model.FusedNorms = options.FuseNorms && model.Device.type == DeviceType.CUDA;
        model.Llm.Model.ResidualsInGemms = options.ResidualsInGemms;
        Tokenizer = tokenizer;
        Processor = processor;
        Template = ConversationTemplate.Sep2;
        var ids = model.Config.LlmConfig.MmTokenIds;
        imagePatchId = ids.ImagePatch;
        videoPatchId = ids.VideoPatch;
        imageEndId = ids.ImageEnd;
        segId = model.Config.SegTokenIdx;
        locId = model.Config.LocTokenIdx;
        tagId = tokenizer.TryTokenToId(ULlavaTokens.TagBegin, out int t) ? t : -1;
        tagEndId = tokenizer.TryTokenToId(ULlavaTokens.TagEnd, out int te) ? te : -1;
        templateText = tokenizer.Decode(tokenizer.Encode(TemplateAnswer, addBos: false), skipSpecialTokens: true).Trim();
        Identity = identity;
        lifetime = new EngineLifetime(() =>
        {
            systemPrefix?.Cache.Dispose();
            model.Dispose();
        });
        Description = $"{name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(options.ModelDir))} sha256:{identity[..12]} on {model.Device} {model.DType}";
    }

    public ULlavaForCausalLM Model { get; }
    public ULlavaTokenizer Tokenizer { get; }
    public ClipImageProcessor Processor { get; }
    public ConversationTemplate Template { get; }

    /// <summary>SHA-256 over config.json and each weight file's name, size, first and last MiB.</summary>
    public string Identity { get; }

    public string Description { get; }

    /// <summary>Loads a checkpoint folder strictly (every tensor present, nothing extra, shapes equal).</summary>
    public static ULlavaEngine Load(ULlavaEngineOptions options)
    {
        var device = TorchRuntime.Initialize(options.LibTorchDir, options.Device);
        int threads = IntraOpThreads(options, device);
        if (threads > 0) set_num_threads(threads);
        var dtype = ParseDType(options.DType);
        string dir = options.ModelDir;
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"model folder not found: {dir}");
        var config = ULlavaConfig.Load(Path.Combine(dir, "config.json"));
        var tokenizer = ULlavaTokenizer.FromFolder(dir);
        string processorPath = Path.Combine(dir, "preprocessor_config.json");
        var processor = File.Exists(processorPath) ? ClipImageProcessor.Load(processorPath) : new ClipImageProcessor(new ClipImageProcessorConfig());
        if (tokenizer.VocabSize != config.LlmConfig.VocabSize)
            throw new InvalidDataException($"{dir}: the tokenizer has {tokenizer.VocabSize} tokens but config.json's vocab_size is {config.LlmConfig.VocabSize}");

        var model = new ULlavaForCausalLM(config);
        var weights = CheckpointWeights.Load(dir);
        try
        {
            StateDictCopy.Into(model, weights);
        }
        finally
        {
            foreach (var t in weights.Values) t.Dispose();
        }
        // Cast before moving: the device then never holds the float32 copy (30 GB for a 7B model).
        if (dtype != ScalarType.Float32) model.to(dtype);
        if (device.type != DeviceType.CPU) model.to(device);
        model.eval();
        if (options.FuseProjections) model.Llm.Model.FuseProjections();
        return new ULlavaEngine(options, model, tokenizer, processor, HashCheckpoint(dir));
    }

    /// <summary>
    /// A model of <paramref name="config"/>'s shapes with random weights, built straight on the device (7.5B parameters
    /// would take a minute to initialise on the CPU): for timing a full-size configuration without its checkpoint
    /// (`bench --random-weights`). The tokenizer comes from <see cref="ULlavaEngineOptions.ModelDir"/>.
    /// </summary>
    public static ULlavaEngine CreateWithRandomWeights(ULlavaEngineOptions options, ULlavaConfig config, ClipImageProcessor processor, string name)
    {
        var device = TorchRuntime.Initialize(options.LibTorchDir, options.Device);
        int threads = IntraOpThreads(options, device);
        if (threads > 0) set_num_threads(threads);
        var dtype = ParseDType(options.DType);
        var tokenizer = ULlavaTokenizer.FromFolder(options.ModelDir);
        if (tokenizer.VocabSize != config.LlmConfig.VocabSize)
            throw new InvalidDataException($"{options.ModelDir}: the tokenizer has {tokenizer.VocabSize} tokens but the {name} config's vocab_size is {config.LlmConfig.VocabSize}");
        var (previousDevice, previousDType) = (get_default_device(), get_default_dtype());
        ULlavaForCausalLM model;
        // Built in the target dtype where modules take the default, so the device never holds a float32 copy.
        set_default_device(device);
        set_default_dtype(dtype);
        try
        {
            model = new ULlavaForCausalLM(config, device);
        }
        finally
        {
            set_default_device(previousDevice);
            set_default_dtype(previousDType);
        }
        if (dtype != ScalarType.Float32) model.to(dtype);
        model.eval();
        if (options.FuseProjections) model.Llm.Model.FuseProjections();
        string json = System.Text.Json.JsonSerializer.Serialize(config, ULlavaConfig.JsonOptions);
        string identity = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("random weights\n" + json)));
        return new ULlavaEngine(options, model, tokenizer, processor, identity, $"{name} (random weights)");
    }

    public static ScalarType ParseDType(string name) => name switch
    {
        "float32" or "fp32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" => ScalarType.Float16,
        _ => throw new ArgumentException($"dtype '{name}': expected float32, bfloat16 or float16"),
    };

    public IEncodedFrame Encode(Frame frame) => Encode(frame, withMasks: false);

    /// <summary>
    /// As <see cref="Encode(Frame)"/>; with <paramref name="withMasks"/> (an instruction on this frame will make a mask) on
    /// the CPU, SAM's image encoder starts at once on a worker thread beside CLIP and the prompt, which share no tensor with
    /// it, and the first mask waits for it (<see cref="OverlapsSam"/>).
    /// </summary>
    public IEncodedFrame Encode(Frame frame, bool withMasks)
    {
        using var inUse = lifetime.Enter();
        var started = Stopwatch.GetTimestamp();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var rgb = tensor(frame.Rgb, new long[] { frame.Height, frame.Width, 3 }, ScalarType.Byte);
        var sam = withMasks && OverlapsSam ? StartSamImage(rgb) : null;
        try
        {
            var pixels = Processor.Preprocess(rgb).to(Model.DType, Model.Device);
            var features = Model.VisionTower.forward(pixels);
            var projected = Model.Projector.forward(features);
            return new EncodedFrame(frame.Stamp, frame.Width, frame.Height, rgb.MoveToOuterDisposeScope(), features.MoveToOuterDisposeScope(),
                                    projected.MoveToOuterDisposeScope(), Stopwatch.GetElapsedTime(started).TotalMilliseconds) { SamInFlight = sam };
        }
        catch
        {
            // The worker reads rgb, which this scope is about to free: let it finish first.
            EncodedFrame.Abandon(sam);
            throw;
        }
    }

    /// <summary>
    /// Whether <see cref="Encode(Frame, bool)"/> starts SAM on a second thread: on the CPU, when asked to, and only while the two
    /// threads' libtorch pools fit the cores (on 2 cores, bench's bare model: 9.9 fps with 2 intra-op threads each against
    /// 15.6–16.4 with one each, BENCHMARKS.md). Not on a GPU: both threads' kernels share its one stream, and launching
    /// them from two threads did not speed a frame up (7B shapes on an H200, five runs each: 10.0 against 9.8 fps).
    /// </summary>
    public bool OverlapsSam => options.OverlapSam && Model.Device.type == DeviceType.CPU && 2 * get_num_threads() <= Environment.ProcessorCount;

    /// <summary>
    /// The intra-op threads the engine gives libtorch (0: libtorch's default, one per core): <see cref="ULlavaEngineOptions.Threads"/>,
    /// or by default on the CPU with <see cref="ULlavaEngineOptions.OverlapSam"/> half the cores (at least one), so SAM's
    /// worker and the model thread each have a share instead of both asking for every core.
    /// </summary>
    public static int IntraOpThreads(ULlavaEngineOptions options, Device device) =>
        options.Threads > 0 ? options.Threads
        : device.type == DeviceType.CPU && options.OverlapSam ? Math.Max(1, Environment.ProcessorCount / 2)
        : 0;

    /// <summary>SAM's image embedding of <paramref name="rgb"/> on a thread-pool thread (own dispose scope, no autograd).</summary>
    private Task<SamImage> StartSamImage(Tensor rgb)
    {
        var inUse = lifetime.Enter();
        return Task.Run(() =>
        {
            try
            {
                // libtorch applies its thread count to a new thread lazily: set it so the worker never starts a pool per core.
                int threads = IntraOpThreads(options, Model.Device);
                if (threads > 0 && get_num_threads() != threads) set_num_threads(threads);
                using var noGrad = no_grad();
                return EmbedForSam(rgb);
            }
            finally
            {
                inUse.Dispose();
            }
        });
    }

    public InstructionAnswer Run(IEncodedFrame frame, InstructionRequest request, Action<string>? onTextPiece = null)
    {
        using var inUse = lifetime.Enter();
        request.Validate();
        var encoded = frame as EncodedFrame ?? throw new ArgumentException("frame was not encoded by this engine", nameof(frame));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool template = request.AnswersByTemplate();
        int[] ids = PromptIds(request);

        var timings = new InferenceTimings { EncodeMs = encoded.EncodeMs, VisualCacheHit = encoded.PrefixCache is not null };
        var started = Stopwatch.GetTimestamp();
        int capacity = Math.Min(options.MaxSequenceLength, ids.Length + request.MaxNewTokens + 1);
        int prefixLength = PrefixLength(ids);
        // A frame's first instruction runs its image and its own text in one pass and keeps the prefix's KV for the frame's
        // next instructions; those prefill only their text after a copy of it.
        bool onePass = encoded.PrefixCache is null && options.OnePassFirstInstruction;
        if (!onePass) EnsurePrefix(encoded, ids);
        using var cache = onePass ? Model.Llm.CreateCache(capacity) : encoded.PrefixCache!.Clone(capacity);
        int start = onePass ? StartAfterSystemPrefix(cache, ids) : prefixLength;
        var prompt = onePass
            ? SpliceInFlight(ids[start..], encoded.ImageFeatures, imagePatchId)
            : tensor(ids[start..].Select(i => (long)i).ToArray(), new long[] { 1, ids.Length - start }, ScalarType.Int64).to(Model.Device);

        string answerText;
        var segHidden = new List<Tensor>();
        var locHidden = new List<Tensor>();
        var phrases = new List<string>();
        double prefillMs, decodeMs = 0;
        int generated = 0;
        if (template)
        {
            var input = onePass ? LlamaInput.FromEmbeddings(prompt, cache, LogitsPositions.None) : LlamaInput.FromIds(prompt, cache, LogitsPositions.None);
            using var output = Model.Llm.forward(input);
            prefillMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            int seg = Array.IndexOf(ids, segId);
            segHidden.Add(output.LastHiddenState[0, seg - 1 - start].unsqueeze(0));
            locHidden.Add(output.LastHiddenState[0, ids.Length - 1 - start].unsqueeze(0));
            answerText = templateText;
        }
        else
        {
            (answerText, prefillMs, decodeMs, generated) = Generate(prompt, cache, request, onTextPiece, segHidden, locHidden, phrases, isEmbeddings: onePass);
        }
        if (onePass)
        {
            // Positions before the instruction's text are the frame's: what this answer appended after them is not copied.
            var prefix = Model.Llm.CreateCache(prefixLength);
            prefix.CopyPrefixFrom(cache, prefixLength);
            encoded.PrefixCache = prefix;
            encoded.PrefixIds = ids[..prefixLength];
        }

        var maskStarted = Stopwatch.GetTimestamp();
        var masks = request.Kind == InstructionKind.Ground ? new List<SegmentationMask>() : Masks(encoded, segHidden, phrases);
        var boxes = Boxes(encoded, locHidden, phrases);
        double maskMs = Stopwatch.GetElapsedTime(maskStarted).TotalMilliseconds;
        return new InstructionAnswer(answerText, masks, boxes, timings with
        {
            PrefillMs = prefillMs,
            DecodeMs = decodeMs,
            MaskMs = maskMs,
            PromptTokens = ids.Length,
            GeneratedTokens = generated,
        });
    }

    /// <summary>The prompt's token ids; a templated answer's end just before [LOC] (the hidden state there is all the box head needs).</summary>
    private int[] PromptIds(InstructionRequest request)
    {
        string question = request.Kind == InstructionKind.Caption && string.IsNullOrWhiteSpace(request.Text) ? InstructionRequest.DefaultCaptionQuestion : request.Text;
        bool template = request.AnswersByTemplate();
        string text = template
            ? Template.PromptWithAnswer(ConversationTemplate.ImagePlaceholder(ImagePatches) + "\n" + question, TemplateAnswer)
            : Template.ImagePrompt(question, ImagePatches);
        int[] ids = Tokenizer.Encode(text);
        return template ? ids[..Array.IndexOf(ids, locId)] : ids;
    }

    /// <summary>
    /// Several segmentation or grounding instructions on one frame as one batch: their texts prefill together after the
    /// frame's cached image (right-padded rows; attention is causal, so padding after a row's text never reaches it), and
    /// their masks decode together. The answers are <see cref="Run"/>'s one by one, up to float rounding; each carries
    /// the batch's shared timings. The weights are read once for all rows, so on a small model a second instruction
    /// costs a fraction of its own pass (BENCHMARKS.md).
    /// </summary>
    public IReadOnlyList<InstructionAnswer> RunBatch(IEncodedFrame frame, IReadOnlyList<InstructionRequest> requests)
    {
        using var inUse = lifetime.Enter();
        var encoded = frame as EncodedFrame ?? throw new ArgumentException("frame was not encoded by this engine", nameof(frame));
        foreach (var request in requests)
        {
            request.Validate();
            if (!request.AnswersByTemplate())
                throw new ArgumentException($"a batch runs segmentation and grounding instructions only, not {request.Kind}: run it alone", nameof(requests));
        }
        if (requests.Count == 0) return Array.Empty<InstructionAnswer>();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var ids = requests.Select(PromptIds).ToArray();
        var timings = new InferenceTimings { EncodeMs = encoded.EncodeMs, VisualCacheHit = encoded.PrefixCache is not null };
        var started = Stopwatch.GetTimestamp();
        foreach (var rowIds in ids) EnsurePrefix(encoded, rowIds); // the first prefills the image, the others check they share it
        int prefixLength = encoded.PrefixIds!.Length;
        int rows = ids.Length, width = ids.Max(r => r.Length) - prefixLength;
        using var cache = Model.Llm.CreateCache(prefixLength + width, rows);
        cache.CopyPrefixFrom(encoded.PrefixCache!, prefixLength); // batch 1 fills every row
        var padded = new long[rows * width];
        for (int r = 0; r < rows; r++)
            for (int t = 0; t < width; t++)
                padded[r * width + t] = prefixLength + t < ids[r].Length ? ids[r][prefixLength + t] : Model.Config.LlmConfig.EosTokenId;
        var suffix = tensor(padded, new long[] { rows, width }, ScalarType.Int64).to(Model.Device);
        using var output = Model.Llm.forward(LlamaInput.FromIds(suffix, cache, LogitsPositions.None));
        double prefillMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var hidden = output.LastHiddenState;
        var segRows = Enumerable.Range(0, rows).Select(r => hidden[r, Array.IndexOf(ids[r], segId) - 1 - prefixLength]).ToArray();
        var locRows = Enumerable.Range(0, rows).Select(r => hidden[r, ids[r].Length - 1 - prefixLength]).ToArray();

        var maskStarted = Stopwatch.GetTimestamp();
        var segmenting = Enumerable.Range(0, rows).Where(r => requests[r].Kind == InstructionKind.Segment).ToArray();
        var masks = new List<SegmentationMask>[rows];
        for (int r = 0; r < rows; r++) masks[r] = new List<SegmentationMask>();
        if (segmenting.Length > 0)
        {
            EnsureSamEmbedding(encoded);
            var text = Model.SegProjector.forward(stack(segmenting.Select(r => segRows[r]).ToArray())).unsqueeze(1);
            var (logits, iou, _) = Model.Sam.Predict(encoded.SamEmbedding!, encoded.SamResizedHeight, encoded.SamResizedWidth, encoded.Height, encoded.Width,
                                                     multimaskOutput: false, textEmbeds: text);
            var scores = iou[.., 0].to(ScalarType.Float32).cpu().data<float>().ToArray();
            var binary = logits[.., 0].gt(ScalarOps.Zero);
            for (int i = 0; i < segmenting.Length; i++)
                masks[segmenting[i]].Add(new SegmentationMask(encoded.Width, encoded.Height, MaskBytes(binary[i]), scores[i], null, 0));
        }
        var boxes = BoxesOf(encoded, stack(locRows));
        double maskMs = Stopwatch.GetElapsedTime(maskStarted).TotalMilliseconds;
        return Enumerable.Range(0, rows).Select(r => new InstructionAnswer(templateText, masks[r], new[] { boxes[r] }, timings with
        {
            PrefillMs = prefillMs,
            MaskMs = maskMs,
            PromptTokens = ids[r].Length,
        })).ToList();
    }

    public InstructionAnswer RunVideo(IReadOnlyList<IEncodedFrame> window, InstructionRequest request, Action<string>? onTextPiece = null)
    {
        using var inUse = lifetime.Enter();
        request.Validate();
        if (window.Count == 0) throw new ArgumentException("a video question needs at least one frame", nameof(window));
        var frames = window.Select(f => f as EncodedFrame ?? throw new ArgumentException("frame was not encoded by this engine", nameof(window))).ToList();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var started = Stopwatch.GetTimestamp();
        var perFrame = cat(frames.Select(f => f.ClipFeatures).ToArray(), 0);
        var tokens = Model.Projector.forward(VideoTokens.FromFrameFeatures(perFrame));
        int[] ids = Tokenizer.Encode(Template.VideoPrompt(request.Text, frames.Count, ImagePatches));
        var embeds = SpliceInFlight(ids, tokens, videoPatchId);
        using var cache = Model.Llm.CreateCache(Math.Min(options.MaxSequenceLength, ids.Length + request.MaxNewTokens + 1));
        var (text, prefillMs, decodeMs, generated) = Generate(embeds, cache, request, onTextPiece, new List<Tensor>(), new List<Tensor>(), new List<string>(), isEmbeddings: true);
        return new InstructionAnswer(text, Array.Empty<SegmentationMask>(), Array.Empty<DetectedBox>(), new InferenceTimings
        {
            EncodeMs = frames.Sum(f => f.EncodeMs),
            PrefillMs = prefillMs,
            DecodeMs = decodeMs,
            PromptTokens = ids.Length,
            GeneratedTokens = generated,
            VisualCacheHit = true,
        });
    }

    private int ImagePatches => Model.Config.LlmConfig.VisionConfig.NumPatches;

    /// <summary>The length of the prompt's prefix shared by every instruction on a frame (through the image end token).</summary>
    private int PrefixLength(int[] ids)
    {
        int end = Array.IndexOf(ids, imageEndId);
        if (end < 0) throw new InvalidOperationException("the prompt has no image end token");
        int imageStart = Array.IndexOf(ids, imagePatchId);
        if (imageStart < 0 || imageStart > end) throw new InvalidOperationException("the prompt has no image tokens before its image end token");
        return end + 1;
    }

    /// <summary>
    /// Fills an empty <paramref name="cache"/> with the KV of the prompt's text before the image when that is cached
    /// (<see cref="ULlavaEngineOptions.CacheSystemPrompt"/>); returns the position the frame's own prefill starts at.
    /// </summary>
    private int StartAfterSystemPrefix(KvCache cache, int[] ids)
    {
        int from = options.CacheSystemPrompt ? Array.IndexOf(ids, imagePatchId) : 0;
        if (from > 0) cache.CopyPrefixFrom(SystemPrefix(ids[..from]), from);
        return from;
    }

    /// <summary>Prefills the shared prefix (through the image end token) once per frame unless already cached.</summary>
    private void EnsurePrefix(EncodedFrame frame, int[] ids)
    {
        int length = PrefixLength(ids);
        if (frame.PrefixIds is { } cached)
        {
            if (cached.Length != length || !cached.AsSpan().SequenceEqual(ids.AsSpan(0, length)))
                throw new InvalidOperationException("the prompt prefix differs from the frame's cached prefix");
            return;
        }
        using var scope = NewDisposeScope();
        var cache = Model.Llm.CreateCache(length);
        int from = StartAfterSystemPrefix(cache, ids);
        var embeds = SpliceInFlight(ids[from..length], frame.ImageFeatures, imagePatchId);
        using (Model.Llm.forward(LlamaInput.FromEmbeddings(embeds, cache, LogitsPositions.None))) { }
        frame.PrefixCache = cache;
        frame.PrefixIds = ids[..length];
    }

    /// <summary>Token embeddings of <paramref name="ids"/> with the rows of <paramref name="features"/> at the placeholder positions.</summary>
    public Tensor Splice(int[] ids, Tensor features, int placeholderId)
    {
        using var inUse = lifetime.Enter();
        return SpliceInFlight(ids, features, placeholderId);
    }

    /// <summary>The KV cache of the prompt's text before the image, computed once per engine (again only if that text changes).</summary>
    private KvCache SystemPrefix(int[] ids)
    {
        lock (systemPrefixLock)
        {
            if (systemPrefix is { } held && held.Ids.AsSpan().SequenceEqual(ids)) return held.Cache;
            using var scope = NewDisposeScope();
            var cache = Model.Llm.CreateCache(ids.Length);
            var idTensor = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length }, ScalarType.Int64).to(Model.Device);
            using (Model.Llm.forward(LlamaInput.FromIds(idTensor, cache, LogitsPositions.None))) { }
            systemPrefix?.Cache.Dispose();
            systemPrefix = (ids, cache);
            return cache;
        }
    }

    // Inside a call already counted in flight: a dispose that arrives meanwhile must not refuse its second half.
    private Tensor SpliceInFlight(int[] ids, Tensor features, int placeholderId)
    {
        var positions = Enumerable.Range(0, ids.Length).Where(i => ids[i] == placeholderId).Select(i => (long)i).ToArray();
        if (positions.Length != features.shape[1])
            throw new InvalidOperationException($"the prompt has {positions.Length} placeholder tokens for {features.shape[1]} visual features");
        var idTensor = tensor(ids.Select(i => (long)i).ToArray(), new long[] { 1, ids.Length }, ScalarType.Int64).to(Model.Device);
        var embeds = Model.Llm.Embed(idTensor);
        return embeds.index_copy(1, tensor(positions).to(Model.Device), features.to(embeds.dtype));
    }

    private (string Text, double PrefillMs, double DecodeMs, int Generated) Generate(Tensor prompt, KvCache cache, InstructionRequest request, Action<string>? onTextPiece,
        List<Tensor> segHidden, List<Tensor> locHidden, List<string> phrases, bool isEmbeddings = false)
    {
        var started = Stopwatch.GetTimestamp();
        double prefillMs = 0;
        var decoder = Tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        var generation = new GenerationOptions
        {
            MaxNewTokens = request.MaxNewTokens,
            Temperature = request.Temperature,
            TopP = request.TopP,
            Seed = (ulong)(request.Seed ?? 42),
        };
        var input = isEmbeddings ? LlamaInput.FromEmbeddings(prompt, cache, LogitsPositions.Last) : LlamaInput.FromIds(prompt, cache, LogitsPositions.Last);
        using var result = Model.Llm.Generate(input, cache, generation, step =>
        {
            if (step.Step == 0) prefillMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            string piece = decoder.Push((int)step.TokenIds[0]);
            if (piece.Length > 0) onTextPiece?.Invoke(piece);
        });
        string tail = decoder.Flush();
        if (tail.Length > 0) onTextPiece?.Invoke(tail);
        double totalMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

        var tokens = result.Tokens(0, new long[] { Model.Config.LlmConfig.EosTokenId });
        for (int i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] == segId) segHidden.Add(result.HiddenStates[0, i].unsqueeze(0));
            else if (tokens[i] == locId) locHidden.Add(result.HiddenStates[0, i].unsqueeze(0));
        }
        phrases.AddRange(Phrases(tokens));
        string text = Tokenizer.Decode(tokens.Select(t => (int)t), skipSpecialTokens: true).Trim();
        return (text, prefillMs, totalMs - prefillMs, tokens.Length);
    }

    /// <summary>The texts between [tag] and [/tag] in an answer, in order.</summary>
    private IEnumerable<string> Phrases(long[] tokens)
    {
        int start = -1;
        for (int i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] == tagId) start = i + 1;
            else if (tokens[i] == tagEndId && start >= 0)
            {
                yield return Tokenizer.Decode(tokens[start..i].Select(t => (int)t), skipSpecialTokens: true).Trim();
                start = -1;
            }
        }
    }

    public InstructionAnswer Segment(IEncodedFrame frame, SamPrompt prompt)
    {
        using var inUse = lifetime.Enter();
        var encoded = frame as EncodedFrame ?? throw new ArgumentException("frame was not encoded by this engine", nameof(frame));
        prompt.Validate(encoded.Width, encoded.Height);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var started = Stopwatch.GetTimestamp();
        EnsureSamEmbedding(encoded);
        int side = Model.Sam.Config.ImageSize, h = encoded.Height, w = encoded.Width;
        Tensor? coords = null, labels = null, box = null;
        if (prompt.Points.Count > 0)
        {
            coords = SamTransforms.ApplyCoords(tensor(prompt.Points.SelectMany(p => new[] { p.X, p.Y }).ToArray(), new long[] { 1, prompt.Points.Count, 2 }), h, w, side).to(Model.DType, Model.Device);
            labels = tensor(prompt.Points.Select(p => p.Positive ? 1L : 0L).ToArray(), new long[] { 1, prompt.Points.Count }).to(Model.Device);
        }
        if (prompt.Box is { } b)
            box = SamTransforms.ApplyBoxes(tensor(new[] { b.XMin, b.YMin, b.XMax, b.YMax }, new long[] { 1, 4 }), h, w, side).to(Model.DType, Model.Device);
        var (logits, iou, _) = Model.Sam.Predict(encoded.SamEmbedding!, encoded.SamResizedHeight, encoded.SamResizedWidth, h, w,
                                                 prompt.Multimask, pointCoords: coords, pointLabels: labels, boxes: box);
        var binary = logits[0].gt(ScalarOps.Zero);
        var scores = iou[0].to(ScalarType.Float32).cpu().data<float>().ToArray();
        var masks = Enumerable.Range(0, scores.Length)
            .Select(i => new SegmentationMask(w, h, MaskBytes(binary[i]), scores[i], null, i)).ToList();
        return new InstructionAnswer("", masks, Array.Empty<DetectedBox>(), new InferenceTimings
        {
            EncodeMs = encoded.EncodeMs,
            MaskMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            VisualCacheHit = true,
        });
    }

    /// <summary>SAM's image embedding, computed only when a mask is first needed and kept for the frame's other instructions.</summary>
    private void EnsureSamEmbedding(EncodedFrame frame)
    {
        if (frame.SamEmbedding is not null) return;
        var image = frame.TakeSamInFlight() ?? EmbedForSam(frame.Rgb);
        frame.SamEmbedding = image.Embedding;
        frame.SamResizedHeight = image.ResizedHeight;
        frame.SamResizedWidth = image.ResizedWidth;
    }

    private SamImage EmbedForSam(Tensor frameRgb)
    {
        using var scope = NewDisposeScope();
        // On a GPU the frame goes up as bytes and is resized there (the CPU resize to 1024 px costs more than the upload).
        var rgb = Model.Device.type == DeviceType.CPU ? frameRgb : frameRgb.to(Model.Device);
        var (input, h, w) = Model.Sam.Preprocess(rgb);
        return new SamImage(Model.Sam.ImageEncoder.forward(input.to(Model.DType, Model.Device)).DetachFromDisposeScope(), h, w);
    }

    private List<SegmentationMask> Masks(EncodedFrame frame, List<Tensor> segHidden, List<string> phrases)
    {
        var masks = new List<SegmentationMask>();
        if (segHidden.Count == 0) return masks;
        EnsureSamEmbedding(frame);
        for (int i = 0; i < segHidden.Count; i++)
        {
            var text = Model.SegProjector.forward(segHidden[i]).unsqueeze(1);
            var (logits, iou, _) = Model.Sam.Predict(frame.SamEmbedding!, frame.SamResizedHeight, frame.SamResizedWidth, frame.Height, frame.Width,
                                                     multimaskOutput: false, textEmbeds: text);
            masks.Add(new SegmentationMask(frame.Width, frame.Height, MaskBytes(logits[0, 0].gt(ScalarOps.Zero)), iou[0, 0].to(ScalarType.Float32).item<float>(),
                                           i < phrases.Count ? phrases[i] : null, i));
        }
        return masks;
    }

    /// <summary>
    /// A boolean H×W mask as 0/1 bytes, copied in one block: the element-wise accessor (<c>data&lt;byte&gt;().ToArray()</c>)
    /// took 4.3 ms for a 640×480 mask against 0.7 ms (in-process timing on the 2-core CPU, BENCHMARKS.md).
    /// </summary>
    private static byte[] MaskBytes(Tensor mask)
    {
        using var bytes = mask.to(ScalarType.Byte).cpu().contiguous();
        return bytes.bytes.ToArray();
    }

    private List<DetectedBox> Boxes(EncodedFrame frame, List<Tensor> locHidden, List<string> phrases)
    {
        if (locHidden.Count == 0) return new List<DetectedBox>();
        var boxes = BoxesOf(frame, cat(locHidden.ToArray(), 0));
        return boxes.Select((b, i) => b with { Phrase = i < phrases.Count ? phrases[i] : null, Index = i }).ToList();
    }

    /// <summary>The box head on hidden states [N, H]: one box in frame pixels per row (index 0, no phrase).</summary>
    private DetectedBox[] BoxesOf(EncodedFrame frame, Tensor locHidden)
    {
        var raw = Model.DetDecoder.forward(Model.DetProjector.forward(locHidden)).to(ScalarType.Float32).cpu();
        var px = SquareBoxMapping.ToFramePixels(raw, frame.Height, frame.Width).data<float>().ToArray();
        var boxes = new DetectedBox[locHidden.shape[0]];
        for (int i = 0; i < boxes.Length; i++)
        {
            // The head may reach past the padded square's image area; a box is reported inside the frame.
            float x0 = Math.Clamp(px[4 * i], 0, frame.Width), y0 = Math.Clamp(px[4 * i + 1], 0, frame.Height);
            float x1 = Math.Clamp(px[4 * i + 2], 0, frame.Width), y1 = Math.Clamp(px[4 * i + 3], 0, frame.Height);
            boxes[i] = new DetectedBox(Math.Min(x0, x1), Math.Min(y0, y1), Math.Max(x0, x1), Math.Max(y0, y1), null, 0);
        }
        return boxes;
    }

    private static string HashCheckpoint(string dir)
    {
        using var sha = SHA256.Create();
        void Add(byte[] bytes) => sha.TransformBlock(bytes, 0, bytes.Length, null, 0);
        Add(File.ReadAllBytes(Path.Combine(dir, "config.json")));
        foreach (var file in CheckpointWeights.Files(dir))
        {
            using var stream = File.OpenRead(file);
            Add(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(file) + ":" + stream.Length.ToString(CultureInfo.InvariantCulture)));
            var buffer = new byte[Math.Min(1 << 20, stream.Length)];
            stream.ReadExactly(buffer);
            Add(buffer);
            stream.Seek(-buffer.Length, SeekOrigin.End);
            stream.ReadExactly(buffer);
            Add(buffer);
        }
        sha.TransformFinalBlock(Array.Empty<byte>(), 0, 0);
        return Convert.ToHexStringLower(sha.Hash!);
    }

    /// <summary>Frees the weights, or, while a call is still in flight on another thread, when that call returns.</summary>
    public void Dispose() => lifetime.Dispose();

    /// <summary>True once the weights are freed.</summary>
    public bool IsReleased => lifetime.Released;
}
