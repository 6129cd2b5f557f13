namespace ULlava.Perception.Model.Tests.Llama;

/// <summary>LLaMA tests share one model and two CPU cores: run them one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class LlamaCollection
{
    public const string Name = "llama";
}
