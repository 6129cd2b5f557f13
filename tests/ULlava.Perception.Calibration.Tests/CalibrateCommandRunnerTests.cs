using OpenCvSharp;
using ULlava.Perception.Calibration;
using Xunit.Abstractions;

namespace ULlava.Perception.Calibration.Tests;

[Collection(SyntheticViewsCollection.Name)]
public sealed class CalibrateCommandRunnerTests(SyntheticViewsFixture views, ITestOutputHelper output) : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-calibrate-").FullName;

    [Fact]
    public void A_folder_of_images_becomes_a_camera_info_file_and_a_preview()
    {
        string images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        for (int i = 0; i < views.Images.Count; i++) Cv2.ImWrite(Path.Combine(images, $"board_{i:D2}.png"), views.Images[i]);
        using (var blank = new Mat(480, 640, MatType.CV_8UC3, Scalar.All(128))) Cv2.ImWrite(Path.Combine(images, "z_blank.png"), blank);
        File.WriteAllText(Path.Combine(images, "notes.txt"), "not an image, skipped by extension");
        string outPath = Path.Combine(dir, "out", "camera.yaml");

        var options = CalibrateOptions.Parse(["--images", images, "--board", "9x6", "--square", "0.025", "--out", outPath, "--name", "front"]);
        var log = new StringWriter();
        var run = CalibrateCommandRunner.Run(options, log);
        output.WriteLine(log.ToString());

        Assert.Equal(16, run.ImagesRead);
        Assert.Equal(15, run.BoardsFound);
        Assert.Contains("z_blank.png: no board", log.ToString());
        Assert.Contains("RMS reprojection error", run.Report);
        var camera = CameraInfoFile.Read(outPath);
        Assert.Equal(CalibrationFileFormat.RosYaml, CameraInfoFile.Detect(outPath));
        Assert.Equal("front", camera.CameraName);
        ChessboardCalibratorTests.AssertIntrinsics(camera, 0.005);
        Assert.True(run.Result.Rms < 0.2);
        Assert.Equal(Path.Combine(dir, "out", "camera.preview.png"), run.PreviewFile);
        using var preview = Cv2.ImRead(run.PreviewFile);
        Assert.Equal(new Size(1280, 480), preview.Size());
    }

    [Fact]
    public void Every_nth_frame_of_a_video_is_used()
    {
        // Each view twice in a row, so every second frame sees each view once. Lossless FFV1 keeps the corners exact.
        string video = Path.Combine(dir, "board.avi");
        using (var writer = new VideoWriter(video, FourCC.FromString("FFV1"), 10, new Size(640, 480), isColor: true))
        {
            Assert.True(writer.IsOpened(), "OpenCV cannot write FFV1 here");
            foreach (var image in views.Images)
            {
                using var color = image.CvtColor(ColorConversionCodes.GRAY2BGR);
                writer.Write(color);
                writer.Write(color);
            }
        }
        string outPath = Path.Combine(dir, "camera.xml");
        var options = CalibrateOptions.Parse(["--video", video, "--every", "2", "--board", "9x6", "--square", "0.025", "--out", outPath]);
        var run = CalibrateCommandRunner.Run(options, TextWriter.Null);
        output.WriteLine(run.Report);

        Assert.Equal(15, run.ImagesRead);
        Assert.Equal(15, run.BoardsFound);
        Assert.Equal("frame_000028", run.Result.Views[^1].Name);
        Assert.Equal(CalibrationFileFormat.OpenCvXml, CameraInfoFile.Detect(outPath));
        ChessboardCalibratorTests.AssertIntrinsics(CameraInfoFile.Read(outPath), 0.005);
    }

    [Fact]
    public void Images_without_the_board_fail_with_a_hint()
    {
        string images = Path.Combine(dir, "wrong");
        Directory.CreateDirectory(images);
        Cv2.ImWrite(Path.Combine(images, "a.png"), views.Images[0]);
        var options = CalibrateOptions.Parse(["--images", images, "--board", "7x5", "--square", "0.03", "--out", Path.Combine(dir, "c.yaml")]);
        var e = Assert.Throws<InvalidOperationException>(() => CalibrateCommandRunner.Run(options, TextWriter.Null));
        Assert.Contains("no 7x5 chessboard", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "c.yaml")));
    }

    [Fact]
    public void Options_parse_the_documented_command_line()
    {
        var o = CalibrateOptions.Parse(["--images", "shots", "--board", "9x6", "--square", "0.025", "--out", "camera.yaml"]);
        Assert.Equal("shots", o.ImagesDir);
        Assert.Null(o.VideoFile);
        Assert.Equal(new Size(9, 6), o.Board);
        Assert.Equal(0.025, o.SquareSize);
        Assert.Equal(CalibrationFileFormat.RosYaml, o.Format);
        Assert.Equal(DistortionModel.PlumbBob, o.Model);

        var v = CalibrateOptions.Parse(["--video", "b.mp4", "--every", "5", "--board", "7X5", "--square", "0.03", "--out", "c.yaml", "--format", "opencv", "--model", "equidistant"]);
        Assert.Equal(5, v.Every);
        Assert.Equal(new Size(7, 5), v.Board);
        Assert.Equal(CalibrationFileFormat.OpenCvYaml, v.Format);
        Assert.Equal(DistortionModel.Equidistant, v.Model);
        Assert.Contains("--images DIR | --video FILE", CalibrateCommandRunner.Usage);

        var c = CalibrateOptions.Parse(["--images", "shots", "--charuco", "7x5", "--square", "0.04", "--marker", "0.03", "--dict", "DICT_5X5_100", "--out", "c.yaml"]);
        Assert.Equal(new Size(6, 4), c.Board);
        Assert.Equal(new CharucoBoardSpec(new Size(7, 5), 0.04, 0.03, OpenCvSharp.Aruco.PredefinedDictionaryType.Dict5X5_100), c.Charuco);
    }

    [Theory]
    [InlineData("--board 9x6 --square 0.025 --out c.yaml", "exactly one of --images DIR and --video FILE")]
    [InlineData("--images a --video b --board 9x6 --square 0.025 --out c.yaml", "exactly one of")]
    [InlineData("--images a --square 0.025 --out c.yaml", "--board COLSxROWS is required")]
    [InlineData("--images a --board 9by6 --square 0.025 --out c.yaml", "--board must be COLSxROWS")]
    [InlineData("--images a --board 9x6 --square -1 --out c.yaml", "--square needs a positive number")]
    [InlineData("--images a --board 9x6 --square 0.025", "--out FILE is required")]
    [InlineData("--images a --board 9x6 --square 0.025 --out c.yaml --model kb4", "unknown distortion model 'kb4'")]
    [InlineData("--images a --board 9x6 --square 0.025 --out c.yaml --fast", "unknown option --fast")]
    [InlineData("--images a --board 9x6 --square 0.025 --out c.yaml --every", "--every needs a value")]
    [InlineData("--images a --charuco 7x5 --square 0.04 --out c.yaml", "--charuco needs --marker")]
    [InlineData("--images a --charuco 7x5 --square 0.04 --marker 0.05 --out c.yaml", "--marker must be smaller")]
    [InlineData("--images a --board 9x6 --charuco 7x5 --square 0.04 --marker 0.03 --out c.yaml", "not both")]
    [InlineData("--images a --charuco 7x5 --square 0.04 --marker 0.03 --dict 9X9_1 --out c.yaml", "unknown ArUco dictionary '9X9_1'")]
    [InlineData("--images a --board 9x6 --square 0.04 --marker 0.03 --out c.yaml", "--marker and --dict are for --charuco")]
    public void Bad_options_say_what_is_wrong(string line, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => CalibrateOptions.Parse(line.Split(' ')));
        Assert.Contains(message, e.Message);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
