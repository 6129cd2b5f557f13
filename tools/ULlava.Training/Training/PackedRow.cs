namespace ULlava.Training.Training;

/// <summary>
/// Several questions about one scene in one training row: the shared prefix (system prompt and image, through the image
/// or video end token) once, then each question's own tokens (the text after the image, the answer). Each question's
/// tokens see the prefix and themselves only and take the rotary positions they have alone, so a question trains exactly
/// as if it were its own sequence — the way the engine runs a frame's instructions on its cached image prefix — while
/// the prefix, about 90 % of a lone question's tokens, is computed once for all of them. A row of one question is that
/// question's sequence unchanged.
/// </summary>
public sealed class PackedRow
{
    public PackedRow(IReadOnlyList<EncodedSample> questions, int prefixLength)
    {
        if (questions.Count == 0) throw new ArgumentException("a row needs a question", nameof(questions));
        ArgumentOutOfRangeException.ThrowIfLessThan(prefixLength, 1);
        var prefix = questions[0].Ids.AsSpan(0, prefixLength);
        foreach (var q in questions)
        {
            if (q.Ids.Length <= prefixLength || !q.Ids.AsSpan(0, prefixLength).SequenceEqual(prefix))
                throw new ArgumentException($"sample {q.Sample.Seed}: the questions of a row must share their first {prefixLength} tokens", nameof(questions));
            if (q.PromptLength < prefixLength)
                throw new ArgumentException($"sample {q.Sample.Seed}: its answer starts inside the shared prefix", nameof(questions));
        }
        Questions = questions;
        PrefixLength = prefixLength;
        int length = prefixLength + questions.Sum(q => q.Ids.Length - prefixLength);
        Ids = new int[length];
        Labels = new long[length];
        Positions = new long[length];
        Segments = new int[length];
        Offsets = new int[questions.Count];
        for (int i = 0; i < prefixLength; i++)
        {
            Ids[i] = questions[0].Ids[i];
            Labels[i] = questions[0].Labels[i];
            Positions[i] = i;
            Segments[i] = -1;
        }
        int at = prefixLength;
        for (int q = 0; q < questions.Count; q++)
        {
            Offsets[q] = at;
            var s = questions[q];
            for (int i = prefixLength; i < s.Ids.Length; i++, at++)
            {
                Ids[at] = s.Ids[i];
                Labels[at] = s.Labels[i];
                Positions[at] = i;
                Segments[at] = q;
            }
        }
    }

    public IReadOnlyList<EncodedSample> Questions { get; }

    /// <summary>Tokens shared by every question (through the image or video end token).</summary>
    public int PrefixLength { get; }

    public int[] Ids { get; }
    public long[] Labels { get; }

    /// <summary>Each token's rotary position: its position in its own question's sequence.</summary>
    public long[] Positions { get; }

    /// <summary>-1 for the prefix, else the index of the question a token belongs to.</summary>
    public int[] Segments { get; }

    /// <summary>Where each question's own tokens start in the row.</summary>
    public int[] Offsets { get; }

    public int Length => Ids.Length;

    /// <summary>Whether the row holds more than one question (and so needs its own positions and attention mask).</summary>
    public bool IsPacked => Questions.Count > 1;

    /// <summary>The row position of <paramref name="position"/> in question <paramref name="question"/>'s own sequence.</summary>
    public int RowPosition(int question, int position) =>
        position < PrefixLength ? position : Offsets[question] + position - PrefixLength;

    /// <summary>The row positions of question <paramref name="question"/>'s whole sequence, in its order (prefix, then its own tokens).</summary>
    public long[] SequencePositions(int question)
    {
        int own = Questions[question].Ids.Length - PrefixLength;
        return Enumerable.Range(0, PrefixLength).Select(i => (long)i)
            .Concat(Enumerable.Range(Offsets[question], own).Select(i => (long)i)).ToArray();
    }

    /// <summary>
    /// Whether the token at row position <paramref name="query"/> may attend to the one at <paramref name="key"/>: causal,
    /// and within the prefix or its own question. Positions past the row (padding) see everything before them.
    /// </summary>
    public bool MayAttend(int query, int key)
    {
        if (key > query) return false;
        if (query >= Length || key < PrefixLength) return true;
        return Segments[key] == Segments[query];
    }
}
