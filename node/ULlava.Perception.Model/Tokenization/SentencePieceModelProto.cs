using System.Text;

namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// Writes a minimal SentencePiece ModelProto (sentencepiece_model.proto) so that Microsoft.ML.Tokenizers can run a
/// vocabulary that came from tokenizer.json: the library only reads SentencePiece models, and its ModelProto type is
/// internal, so we serialise the few fields it reads by hand (protobuf wire format: varints and length-delimited).
/// </summary>
internal static class SentencePieceModelProto
{
    /// <summary>SentencePiece piece types (ModelProto.SentencePiece.Type).</summary>
    internal enum PieceType { Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6 }

    /// <summary>TrainerSpec.ModelType.</summary>
    internal enum ModelType { Unigram = 1, Bpe = 2 }

    internal readonly record struct Piece(string Text, float Score, PieceType Type);

    internal static byte[] Write(IReadOnlyList<Piece> pieces, ModelType modelType, bool byteFallback, int unkId, int bosId, int eosId)
    {
        using var model = new MemoryStream();
        foreach (var p in pieces)
        {
            using var piece = new MemoryStream();
            WriteString(piece, 1, p.Text);
            WriteFloat(piece, 2, p.Score);
            WriteVarintField(piece, 3, (ulong)p.Type);
            WriteBytes(model, 1, piece.ToArray());
        }

        using (var trainer = new MemoryStream())
        {
            WriteVarintField(trainer, 3, (ulong)modelType);
            WriteVarintField(trainer, 4, (ulong)pieces.Count);
            WriteVarintField(trainer, 35, byteFallback ? 1UL : 0UL);
            WriteVarintField(trainer, 40, (ulong)(long)unkId);
            WriteVarintField(trainer, 41, (ulong)(long)bosId);
            WriteVarintField(trainer, 42, (ulong)(long)eosId);
            WriteVarintField(trainer, 43, unchecked((ulong)-1L)); // no pad piece in the SentencePiece part
            if (unkId >= 0) WriteString(trainer, 45, pieces[unkId].Text);
            if (bosId >= 0) WriteString(trainer, 46, pieces[bosId].Text);
            if (eosId >= 0) WriteString(trainer, 47, pieces[eosId].Text);
            WriteBytes(model, 2, trainer.ToArray());
        }

        using (var normalizer = new MemoryStream())
        {
            // Identity: the tokenizer does whitespace escaping and the dummy prefix itself, per chunk.
            WriteString(normalizer, 1, "identity");
            WriteVarintField(normalizer, 3, 0); // add_dummy_prefix
            WriteVarintField(normalizer, 4, 0); // remove_extra_whitespaces
            WriteVarintField(normalizer, 5, 1); // escape_whitespaces
            WriteBytes(model, 3, normalizer.ToArray());
        }

        return model.ToArray();
    }

    private static void WriteVarint(Stream s, ulong v)
    {
        while (v >= 0x80)
        {
            s.WriteByte((byte)(v | 0x80));
            v >>= 7;
        }
        s.WriteByte((byte)v);
    }

    private static void WriteTag(Stream s, int field, int wireType) => WriteVarint(s, ((ulong)(uint)field << 3) | (uint)wireType);

    private static void WriteVarintField(Stream s, int field, ulong v)
    {
        WriteTag(s, field, 0);
        WriteVarint(s, v);
    }

    private static void WriteFloat(Stream s, int field, float v)
    {
        WriteTag(s, field, 5);
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, v);
        if (!BitConverter.IsLittleEndian) b.Reverse();
        s.Write(b);
    }

    private static void WriteBytes(Stream s, int field, byte[] bytes)
    {
        WriteTag(s, field, 2);
        WriteVarint(s, (ulong)bytes.Length);
        s.Write(bytes);
    }

    private static void WriteString(Stream s, int field, string text) => WriteBytes(s, field, Encoding.UTF8.GetBytes(text));
}
