using System.Text;

namespace ULlava.Perception.Model.Tokenization;

/// <summary>
/// Reads the pieces of, and writes, a minimal SentencePiece ModelProto (sentencepiece_model.proto) so that Microsoft.ML.Tokenizers can run a
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

    /// <summary>
    /// The pieces of a serialised ModelProto, in id order: the id → piece table comes from the model itself rather
    /// than the library's Vocabulary, which (for Unigram models) leaves byte pieces out.
    /// </summary>
    internal static List<Piece> ReadPieces(ReadOnlySpan<byte> model)
    {
        var pieces = new List<Piece>();
        var i = 0;
        while (i < model.Length)
        {
            var (field, wire) = ReadTag(model, ref i);
            if (field == 1 && wire == 2)
            {
                var length = checked((int)ReadVarint(model, ref i));
                var body = model.Slice(i, length);
                i += body.Length;
                string text = "";
                var score = 0f;
                var type = PieceType.Normal;
                var j = 0;
                while (j < body.Length)
                {
                    var (f, w) = ReadTag(body, ref j);
                    if (f == 1 && w == 2)
                    {
                        var len = checked((int)ReadVarint(body, ref j));
                        text = Encoding.UTF8.GetString(body.Slice(j, len));
                        j += len;
                    }
                    else if (f == 2 && w == 5)
                    {
                        score = BitConverter.ToSingle(body.Slice(j, 4));
                        j += 4;
                    }
                    else if (f == 3 && w == 0)
                    {
                        type = (PieceType)ReadVarint(body, ref j);
                    }
                    else
                    {
                        Skip(body, ref j, w);
                    }
                }
                pieces.Add(new Piece(text, score, type));
            }
            else
            {
                Skip(model, ref i, wire);
            }
        }
        return pieces;
    }

    private static (int Field, int Wire) ReadTag(ReadOnlySpan<byte> s, ref int i)
    {
        var tag = ReadVarint(s, ref i);
        return ((int)(tag >> 3), (int)(tag & 7));
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> s, ref int i)
    {
        ulong v = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (i >= s.Length) throw new InvalidDataException("truncated SentencePiece model");
            var b = s[i++];
            v |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return v;
        }
        throw new InvalidDataException("bad varint in SentencePiece model");
    }

    private static void Skip(ReadOnlySpan<byte> s, ref int i, int wire)
    {
        switch (wire)
        {
            case 0: ReadVarint(s, ref i); break;
            case 1: i += 8; break;
            case 2:
                var length = checked((int)ReadVarint(s, ref i)); // read before adding: "i +=" would use the old i
                i += length;
                break;
            case 5: i += 4; break;
            default: throw new InvalidDataException($"unsupported protobuf wire type {wire} in SentencePiece model");
        }
        if (i > s.Length) throw new InvalidDataException("truncated SentencePiece model");
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
