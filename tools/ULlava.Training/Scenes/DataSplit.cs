namespace ULlava.Training.Scenes;

public enum DataSplit
{
    Train,
    Validation,
    Test,
}
