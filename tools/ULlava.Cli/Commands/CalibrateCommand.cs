using ULlava.Perception.Calibration;

namespace ULlava.Cli.Commands;

/// <summary>`ullava calibrate`: chessboard or ChArUco calibration to a ROS camera_info file (see calibration/README.md).</summary>
public static class CalibrateCommand
{
    public const string Usage = "calibrate (--images DIR | --video FILE) --board COLSxROWS --square METRES --out FILE [options]  (./run.sh calibrate --help)";

    public static int Run(ArgReader args)
    {
        var rest = args.Rest();
        if (rest.Contains("--help"))
        {
            Console.WriteLine(CalibrateCommandRunner.Usage);
            return 0;
        }
        CalibrateOptions options;
        try
        {
            options = CalibrateOptions.Parse(rest);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        try
        {
            CalibrateCommandRunner.Run(options, Console.Out);
        }
        catch (CalibrationFileException e)
        {
            Console.Error.WriteLine($"ullava calibrate: {e.Message}");
            return 1;
        }
        return 0;
    }
}
