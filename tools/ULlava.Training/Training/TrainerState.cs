using System.Text.Json.Serialization;

namespace ULlava.Training.Training;

/// <summary>trainer_state.json beside a checkpoint: what a resumed run needs besides the weights and optimizer state.</summary>
public sealed record TrainerState
{
    /// <summary>Steps completed; a resumed run takes step <c>Step</c> next.</summary>
    [JsonPropertyName("step")] public int Step { get; init; }
    /// <summary>The run's seed: it fixed the initial weights and fixes which samples every step draws.</summary>
    [JsonPropertyName("seed")] public ulong Seed { get; init; }
    [JsonPropertyName("total_steps")] public int TotalSteps { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; }
    /// <summary>Questions packed per scene (train --questions); a resume keeps it, since it decides every step's samples.</summary>
    [JsonPropertyName("questions_per_scene")] public int QuestionsPerScene { get; init; } = 1;
    /// <summary>Packed clips also asked about their still objects (train --ask-still).</summary>
    [JsonPropertyName("ask_still")] public bool AskStill { get; init; }
    /// <summary>The model folder the run started from (train --init), null for a fresh initialisation.</summary>
    [JsonPropertyName("init_from")] public string? InitFrom { get; init; }
    [JsonPropertyName("last_loss")] public double LastLoss { get; init; }
    /// <summary>The vision tower came pretrained (train --vision) and stays frozen, also after a resume.</summary>
    [JsonPropertyName("frozen_vision")] public bool FrozenVision { get; init; }
    /// <summary>SAM came pretrained (train --sam) and stays frozen, also after a resume.</summary>
    [JsonPropertyName("frozen_sam")] public bool FrozenSam { get; init; }
    /// <summary>The referent probe's loss weight (0: none); its weights are in the checkpoint's referent_head.safetensors.</summary>
    [JsonPropertyName("referent_weight")] public double ReferentWeight { get; init; }
    /// <summary>The locator probe's loss weight (0: none); its weights are in the checkpoint's locator_head.safetensors.</summary>
    [JsonPropertyName("locator_weight")] public double LocatorWeight { get; init; }
    /// <summary>The IoU head's loss weight (0: not trained); with a frozen SAM it is the one part of SAM that learns.</summary>
    [JsonPropertyName("iou_head_weight")] public double IouHeadWeight { get; init; }
    /// <summary>The attention guidance's loss weight (0: none; <see cref="AttentionGuide"/>).</summary>
    [JsonPropertyName("attention_guide")] public double AttentionGuide { get; init; }
    /// <summary>The head box probe's loss weight (0: none); its weights are in the checkpoint's head_box_probe.safetensors.</summary>
    [JsonPropertyName("head_box_weight")] public double HeadBoxWeight { get; init; }
    /// <summary>The head answer probe's loss weight (0: none); its weights are in the checkpoint's head_answer_probe.safetensors.</summary>
    [JsonPropertyName("head_answer_weight")] public double HeadAnswerWeight { get; init; }
    /// <summary>The motion guidance and probe's loss weight (0: none); its weights are in the checkpoint's motion_probe.safetensors.</summary>
    [JsonPropertyName("motion_weight")] public double MotionWeight { get; init; }
    /// <summary>The frame motion probe's loss weight (0: none); its weights are in the checkpoint's frame_motion_probe.safetensors.</summary>
    [JsonPropertyName("frame_motion_weight")] public double FrameMotionWeight { get; init; }
}
