namespace ULlava.Perception.Calibration;

/// <summary>A calibration file that cannot be used; the message names the file and the field.</summary>
public sealed class CalibrationFileException : Exception
{
    public CalibrationFileException(string path, string field, string problem)
        : base($"{path}: {field}: {problem}")
    {
        Path = path;
        Field = field;
    }

    public string Path { get; }
    public string Field { get; }
}
