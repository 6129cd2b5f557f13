namespace ULlava.Training.Training;

/// <summary>What a training run did: the steps it took (this run only), the losses of each, throughput, the final checkpoint.</summary>
public sealed record TrainResult(int FirstStep, int LastStep, IReadOnlyList<LossBreakdown> Losses, double StepsPerSecond, string FinalCheckpoint);
