using System.Globalization;
using ULlava.Training.Scenes;

namespace ULlava.Training.Samples;

/// <summary>
/// Turns seeds into samples: the seed fixes the task (unless given), the scene and the question, so a split's index
/// range is a fixed data set that needs no files.
/// </summary>
public sealed class SampleFactory
{
    /// <summary>Share of each task in a mixed stream (segmentation-heavy: masks and boxes are the node's main job).</summary>
    public static IReadOnlyList<(TaskKind Kind, double Weight)> Mix { get; } =
    [
        (TaskKind.ReferringSegmentation, 0.30),
        (TaskKind.Grounding, 0.10),
        (TaskKind.Caption, 0.15),
        (TaskKind.Count, 0.15),
        (TaskKind.Attribute, 0.15),
        (TaskKind.VideoDirection, 0.15),
    ];

    public const int ClipFrames = 4;

    public SampleFactory(int width = 640, int height = 480) => Generator = new SceneGenerator(width, height);

    public SceneGenerator Generator { get; }

    /// <summary>The task a seed draws from <see cref="Mix"/>.</summary>
    public static TaskKind KindOf(ulong seed)
    {
        double u = DeterministicRandom.For(seed, 7).NextDouble(), acc = 0;
        foreach (var (kind, weight) in Mix)
        {
            acc += weight;
            if (u < acc) return kind;
        }
        return Mix[^1].Kind;
    }

    public TrainingSample Create(ulong seed) => Create(seed, KindOf(seed));

    public TrainingSample Create(ulong seed, TaskKind kind)
    {
        var rng = DeterministicRandom.For(seed, 9);
        if (kind == TaskKind.VideoDirection)
        {
            var clip = Generator.GenerateClip(seed, ClipFrames);
            return VideoQuestion(seed, clip, clip.MovingIndex);
        }
        var scene = Generator.Generate(seed);
        // Every shape and colour repeats (rare): a caption keeps the seed usable.
        return ImageQuestion(seed, scene, kind, rng) ?? ImageQuestion(seed, scene, TaskKind.Caption, DeterministicRandom.For(seed, 9))!;
    }

    /// <summary>Share of video clips among the scenes of a question group (<see cref="CreateGroup"/>).</summary>
    public const double GroupVideoShare = 0.3;

    /// <summary>
    /// Up to <paramref name="questions"/> different questions about one scene or clip, rendered once: what a training
    /// row packs after one shared image prefix. One question is exactly <see cref="Create(ulong)"/>. A scene's questions
    /// draw their tasks from <see cref="Mix"/> without video (one caption and one mask question an object at most); a clip's
    /// only question asks about its moving object, as <see cref="Create(ulong)"/> does, and with <paramref name="askStill"/>
    /// the others about the objects that stay ("Still.").
    /// </summary>
    public IReadOnlyList<TrainingSample> CreateGroup(ulong seed, int questions, bool askStill = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(questions, 1);
        if (questions == 1) return [Create(seed)];
        var rng = DeterministicRandom.For(seed, 12);
        var group = new List<TrainingSample>();
        if (rng.NextDouble() < GroupVideoShare)
        {
            var clip = Generator.GenerateClip(seed, ClipFrames);
            var objects = clip.Frames[0].Objects;
            // Only objects whose phrase is unique in the clip: "the red circle" must name one object.
            var askable = Enumerable.Range(0, objects.Count).Where(i => objects.Count(o => o.Phrase == objects[i].Phrase) == 1).ToList();
            if (askable.Contains(clip.MovingIndex)) group.Add(VideoQuestion(seed, clip, clip.MovingIndex));
            foreach (int i in rng.Shuffled(askable.Where(i => i != clip.MovingIndex)))
                if (askStill && group.Count < questions) group.Add(VideoQuestion(seed, clip, i));
            if (group.Count > 0) return group;
        }
        var scene = Generator.Generate(seed);
        var imageMix = Mix.Where(m => m.Kind != TaskKind.VideoDirection).ToList();
        double total = imageMix.Sum(m => m.Weight);
        var asked = new HashSet<string>();
        for (int attempt = 0; attempt < 4 * questions && group.Count < questions; attempt++)
        {
            double u = rng.NextDouble() * total, acc = 0;
            var kind = imageMix[^1].Kind;
            foreach (var (k, w) in imageMix)
            {
                acc += w;
                if (u < acc)
                {
                    kind = k;
                    break;
                }
            }
            var sample = ImageQuestion(seed, scene, kind, rng);
            // A question asked twice (the caption in other words, the same object's mask) would only weigh that answer double.
            string? key = sample is null ? null : sample.Kind == TaskKind.Caption ? "caption" : sample.HasTargets ? "mask " + sample.Phrase : sample.Question;
            if (key is not null && asked.Add(key)) group.Add(sample!);
        }
        if (group.Count == 0) group.Add(ImageQuestion(seed, scene, TaskKind.Caption, rng)!);
        return group;
    }

    private static TrainingSample VideoQuestion(ulong seed, SceneClip clip, int objectIndex)
    {
        var o = clip.Frames[0].Objects[objectIndex];
        var direction = objectIndex == clip.MovingIndex ? clip.Direction : MotionDirection.Still;
        return new TrainingSample(seed, TaskKind.VideoDirection, clip.Frames[0].Width, clip.Frames[0].Height, clip.Frames.Select(f => f.Rgb).ToList(),
                                  SampleText.VideoQuestion(o.Phrase), SampleText.DirectionAnswer(direction), ClipMotion: clip.Direction);
    }

    /// <summary>A question of <paramref name="kind"/> about <paramref name="scene"/>; null when the scene has none (an attribute question needs a unique shape or colour).</summary>
    private static TrainingSample? ImageQuestion(ulong seed, Scene scene, TaskKind kind, DeterministicRandom rng)
    {
        var frames = new[] { scene.Rgb };
        switch (kind)
        {
            case TaskKind.ReferringSegmentation:
            case TaskKind.Grounding:
            {
                var target = rng.Pick(scene.Objects);
                var questions = kind == TaskKind.Grounding ? SampleText.GroundQuestions : SampleText.SegmentQuestions;
                string question = string.Format(CultureInfo.InvariantCulture, rng.Pick(questions), target.Phrase);
                return new TrainingSample(seed, kind, scene.Width, scene.Height, frames, question, SampleText.TemplateAnswer(target.Phrase),
                                          target.Mask, target.Box, target.Phrase);
            }
            case TaskKind.Caption:
                return new TrainingSample(seed, kind, scene.Width, scene.Height, frames, rng.Pick(SampleText.CaptionQuestions), SampleText.Caption(scene.Objects));
            case TaskKind.Count:
            {
                // The answer first, uniformly among the counts this scene offers (0 for an absent shape, 1, 2, ...), then a
                // shape with that count: asking about a present shape gave "1" 69 % of the time, and a model trained on
                // that answered "1" without looking (eval: count exact match = that share, image reliance ×1.0).
                var byCount = Enum.GetValues<ShapeKind>().GroupBy(k => scene.Objects.Count(o => o.Shape == k)).OrderBy(g => g.Key).ToList();
                var chosen = rng.Pick(byCount);
                var shape = rng.Pick(chosen.ToList());
                int count = chosen.Key;
                // The attention guidance's target: every object of that shape (none for a count of 0).
                var counted = scene.Objects.Where(o => o.Shape == shape).ToList();
                byte[]? focus = null;
                if (counted.Count > 0)
                {
                    focus = new byte[scene.Width * scene.Height];
                    foreach (var o in counted)
                        for (int i = 0; i < focus.Length; i++) focus[i] |= o.Mask[i];
                }
                return new TrainingSample(seed, kind, scene.Width, scene.Height, frames, SampleText.CountQuestion(shape), SampleText.CountAnswer(count),
                                          Focus: focus);
            }
            case TaskKind.Attribute:
            {
                // Only unambiguous questions: a shape that appears once, or a colour that appears once.
                var uniqueShapes = scene.Objects.Where(o => scene.Objects.Count(p => p.Shape == o.Shape) == 1).ToList();
                var uniqueColours = scene.Objects.Where(o => scene.Objects.Count(p => p.Colour == o.Colour) == 1).ToList();
                bool askColour = uniqueShapes.Count > 0 && (uniqueColours.Count == 0 || rng.NextDouble() < 0.5);
                if (askColour)
                {
                    var o = rng.Pick(uniqueShapes);
                    return new TrainingSample(seed, kind, scene.Width, scene.Height, frames, SampleText.ColourQuestion(o.Shape), SampleText.Capitalise(o.Colour.Name) + ".",
                                              Focus: o.Mask);
                }
                if (uniqueColours.Count > 0)
                {
                    var o = rng.Pick(uniqueColours);
                    return new TrainingSample(seed, kind, scene.Width, scene.Height, frames, SampleText.ShapeQuestion(o.Colour), SampleText.Capitalise(ShapeNames.Of(o.Shape)) + ".",
                                              Focus: o.Mask);
                }
                return null;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }
}
