namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// A token matched verbatim in the input before the SentencePiece model sees it (Hugging Face "added token").
/// LStrip/RStrip: the match also swallows the whitespace on that side, as in <c>tokenizers</c>.
/// </summary>
public sealed record AddedToken(string Content, int Id, bool Special = true, bool LStrip = false, bool RStrip = false);
