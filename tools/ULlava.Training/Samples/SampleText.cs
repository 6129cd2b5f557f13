using ULlava.Training.Scenes;

namespace ULlava.Training.Samples;

/// <summary>
/// The fixed wording of questions and answers. Answers are canonical (one phrasing per fact) so exact match is a
/// meaningful metric; questions vary a little so the model learns the task, not one sentence.
/// </summary>
public static class SampleText
{
    public static IReadOnlyList<string> SegmentQuestions { get; } =
    [
        "Please segment the {0}.",
        "Please segment and locate the {0} in this image.",
        "Can you segment the {0} in this image?",
        "What is the {0} in this image? Please respond with segmentation mask.",
    ];

    public static IReadOnlyList<string> GroundQuestions { get; } =
    [
        "Please locate the {0}.",
        "Where is the {0} in this image? Please output the bounding box.",
    ];

    public static IReadOnlyList<string> CaptionQuestions { get; } =
    [
        "Describe the image briefly.",
        "What is in this image?",
    ];

    /// <summary>u-LLaVA's segmentation answer with the phrase tagged: the engine's TemplateAnswer + "; [tag]phrase[/tag]."</summary>
    public static string TemplateAnswer(string phrase) => $"{Perception.Model.Inference.ULlavaEngine.TemplateAnswer}; [tag]{phrase}[/tag].";

    /// <summary>"A red circle, a blue square and an orange star." with objects from left to right (box centres).</summary>
    public static string Caption(IEnumerable<SceneObject> objects)
    {
        var phrases = objects.OrderBy(o => o.Box.XMin + o.Box.XMax).ThenBy(o => o.Box.YMin + o.Box.YMax)
            .Select(o => Article(o.Phrase) + " " + o.Phrase).ToList();
        if (phrases.Count == 0) throw new ArgumentException("a caption needs at least one object", nameof(objects));
        string text = phrases.Count == 1 ? phrases[0] : string.Join(", ", phrases.Take(phrases.Count - 1)) + " and " + phrases[^1];
        return Capitalise(text) + ".";
    }

    public static string CountQuestion(ShapeKind shape) => $"How many {ShapeNames.Plural(shape)} are there?";

    public static string CountAnswer(int count) => count.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";

    public static string ColourQuestion(ShapeKind shape) => $"What colour is the {ShapeNames.Of(shape)}?";

    public static string ShapeQuestion(SceneColour colour) => $"What shape is the {colour.Name} object?";

    public static string VideoQuestion(string phrase) => $"Which way does the {phrase} move?";

    public static string DirectionAnswer(MotionDirection direction) => direction switch
    {
        MotionDirection.Left => "Left.",
        MotionDirection.Right => "Right.",
        MotionDirection.Up => "Up.",
        MotionDirection.Down => "Down.",
        MotionDirection.Still => "Still.",
        _ => throw new ArgumentOutOfRangeException(nameof(direction), direction, null),
    };

    public static string Capitalise(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Article(string phrase) => "aeiou".Contains(phrase[0]) ? "an" : "a";
}
