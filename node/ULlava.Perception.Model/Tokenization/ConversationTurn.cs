namespace ULlava.Perception.Model.Tokenization;

/// <summary>One turn of a conversation: a role ("USER"/"ASSISTANT") and its message; null leaves the turn open.</summary>
public sealed record ConversationTurn(string Role, string? Message);
