namespace ULlava.Training.Samples;

/// <summary>The u-LLaVA tasks the synthetic data covers.</summary>
public enum TaskKind
{
    /// <summary>"Please segment the red circle." → the mask template, with mask and box targets.</summary>
    ReferringSegmentation,
    /// <summary>"Please locate the red circle." → the same template (u-LLaVA answers both with [SEG] and [LOC]).</summary>
    Grounding,
    Caption,
    Count,
    Attribute,
    /// <summary>A clip: "Which way does the red circle move?" → "Left."</summary>
    VideoDirection,
}
