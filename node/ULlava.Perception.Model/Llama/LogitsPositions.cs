namespace ULlava.Perception.Model.Llama;

/// <summary>Which positions get the (vocabulary-wide, so costly) lm_head projection.</summary>
public enum LogitsPositions
{
    /// <summary>Every position: teacher-forced scoring.</summary>
    All,
    /// <summary>The last position only: prefill before generation and each decode step.</summary>
    Last,
    /// <summary>None: only the hidden states are wanted (e.g. filling a shared prefix cache).</summary>
    None,
}
