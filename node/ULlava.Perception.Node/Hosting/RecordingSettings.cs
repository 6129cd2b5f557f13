namespace ULlava.Perception.Node.Hosting;

/// <summary>What and where to record (MCAP). PNG frames are lossless, so a replay reproduces the results exactly.</summary>
public sealed record RecordingSettings(string Path, string ImageFormat = "png", int JpegQuality = 90, long MaxFileBytes = 0, TimeSpan MaxFileDuration = default)
{
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new ArgumentException("recording path is empty");
        if (ImageFormat is not ("png" or "jpeg")) throw new ArgumentException($"recording image format '{ImageFormat}': expected png or jpeg");
        if (JpegQuality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(JpegQuality), $"JPEG quality {JpegQuality}: expected 1 to 100");
        if (MaxFileBytes < 0 || MaxFileDuration < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(MaxFileBytes), "rotation limits must not be negative");
    }
}
