namespace ULlava.Perception.Core.Inference;

/// <summary>What an instruction asks of the model.</summary>
public enum InstructionKind
{
    /// <summary>Free generation: [SEG] in the answer gives masks, [LOC] boxes, the rest is text.</summary>
    Auto = 0,
    Caption = 1,
    Ask = 2,
    /// <summary>u-LLaVA's mask template is teacher-forced: always a mask, no token-by-token decoding.</summary>
    Segment = 3,
    /// <summary>u-LLaVA's box template is teacher-forced: always a box.</summary>
    Ground = 4,
}
