using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// The <c>calibrate</c> command: read the images or video, detect the board, calibrate, print the report, write the
/// camera file and an undistorted preview. The CLI only parses (<see cref="CalibrateOptions.Parse"/>) and calls <see cref="Run"/>.
/// </summary>
public static class CalibrateCommandRunner
{
    public const string Usage =
        """
        usage: ullava calibrate (--images DIR | --video FILE) --board COLSxROWS --square METRES --out FILE [options]
               ullava calibrate (--images DIR | --video FILE) --charuco COLSxROWS --square METRES --marker METRES --out FILE [options]

          --images DIR        a folder of chessboard images (png, jpg, bmp, tif, pgm, ppm)
          --video FILE        a video of the chessboard; every Nth frame is used (--every)
          --board COLSxROWS   inner corners of the chessboard, e.g. 9x6 for a board of 10x7 squares
          --square METRES     edge of one square in metres, e.g. 0.025
          --charuco COLSxROWS a ChArUco board of COLSxROWS squares instead of --board (partial views count)
          --marker METRES     ChArUco: edge of one marker in metres, e.g. 0.018
          --dict NAME         ChArUco: ArUco dictionary (default 4X4_50; e.g. 5X5_100, 6X6_250)
          --out FILE          the calibration: ROS camera_info YAML (.yaml), OpenCV XML (.xml)
          --format ros|opencv file format for a .yaml output (default ros; .xml is always OpenCV)
          --every N           video: use every Nth frame (default 10)
          --model NAME        plumb_bob (default), rational_polynomial or equidistant (fisheye)
          --name NAME         camera_name written in the file (default camera)
          --reject F          drop views whose error is above F x the median (default 3), then recalibrate
          --preview FILE      side-by-side undistorted preview (default: next to --out, NAME.preview.png)
        """;

    public static CalibrateRun Run(CalibrateOptions options, TextWriter log)
    {
        var frames = options.ImagesDir is not null
            ? CalibrationImages.FromFolder(options.ImagesDir)
            : CalibrationImages.FromVideo(options.VideoFile ?? throw new ArgumentException("give --images or --video"), options.Every);
        var views = new List<CalibrationView>();
        Size? imageSize = null;
        Mat? previewSource = null;
        int read = 0;
        using var charuco = options.Charuco is null ? null : new CharucoViewDetector(options.Charuco);
        string boardName = options.Charuco is { } spec
            ? $"{spec.Squares.Width}x{spec.Squares.Height} ChArUco board ({spec.Dictionary})"
            : $"{options.Board.Width}x{options.Board.Height} chessboard (inner corners)";
        try
        {
            foreach (var (name, image) in frames)
            {
                using (image)
                {
                    read++;
                    if (imageSize is { } size && size != image.Size())
                        throw new InvalidOperationException($"{name} is {image.Width}x{image.Height}, the images before it {size.Width}x{size.Height}: calibrate one camera mode at a time");
                    imageSize = image.Size();
                    var view = charuco is not null
                        ? charuco.Detect(image, name)
                        : ChessboardCalibrator.DetectChessboard(image, options.Board) is { } corners ? new CalibrationView(name, corners) : null;
                    log.WriteLine($"{name}: {(view is null ? "no board" : $"board found ({view.Corners.Length} corners)")}");
                    if (view is null) continue;
                    views.Add(view);
                    previewSource ??= image.Clone();
                }
            }
            if (imageSize is null || previewSource is null)
                throw new InvalidOperationException($"no {boardName} found in {read} images; check --board / --charuco");

            var result = ChessboardCalibrator.Calibrate(views, imageSize.Value, options.Board, options.SquareSize, options.Model,
                options.RejectFactor, options.CameraName, options.CameraName);
            string report = ChessboardCalibrator.FormatReport(result);
            log.Write(report);

            string? dir = Path.GetDirectoryName(Path.GetFullPath(options.OutputPath));
            if (dir is not null) Directory.CreateDirectory(dir);
            CameraInfoFile.Write(options.OutputPath, result.Camera, options.Format);
            string previewPath = options.PreviewPath ?? Path.ChangeExtension(options.OutputPath, ".preview.png");
            using (var preview = ChessboardCalibrator.RenderUndistortedPreview(previewSource, result.Camera))
                if (!Cv2.ImWrite(previewPath, preview)) throw new IOException($"{previewPath}: the preview could not be written");
            log.WriteLine($"wrote {options.OutputPath} and {previewPath}");
            return new CalibrateRun(result, report, options.OutputPath, previewPath, read, views.Count);
        }
        finally
        {
            previewSource?.Dispose();
        }
    }
}
