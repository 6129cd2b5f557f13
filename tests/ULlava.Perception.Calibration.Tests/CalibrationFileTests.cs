using ULlava.Perception.Calibration;

namespace ULlava.Perception.Calibration.Tests;

public sealed class CalibrationFileTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("ullava-calib-").FullName;

    public static TheoryData<DistortionModel, CalibrationFileFormat> EveryModelAndFormat()
    {
        var data = new TheoryData<DistortionModel, CalibrationFileFormat>();
        foreach (var model in Enum.GetValues<DistortionModel>())
            foreach (var format in Enum.GetValues<CalibrationFileFormat>())
                data.Add(model, format);
        return data;
    }

    [Theory]
    [MemberData(nameof(EveryModelAndFormat))]
    public void Every_format_round_trips_every_model_exactly(DistortionModel model, CalibrationFileFormat format)
    {
        var d = model switch
        {
            DistortionModel.PlumbBob => new[] { -0.2812345678901234, 0.0912, 0.000813, -0.00051, -0.0107 },
            DistortionModel.RationalPolynomial => [0.81, -0.113, 0.0011, -0.0021, 0.0103, 1.1234567, 0.051, 0.0209],
            _ => [-0.031, 0.0102, -0.0043, 0.00117],
        };
        var camera = new CameraModel(1280, 720, [912.3456789012345, 0, 641.25, 0, 911.5, 359.875, 0, 0, 1], model, d,
            r: [0.9998, -0.0175, 0.0087, 0.0175, 0.9998, 0.0012, -0.0087, -0.0013, 0.99996],
            p: [900.1, 0, 630.2, -54.5, 0, 900.1, 350.3, 0, 0, 0, 1, 0], cameraName: "front_cam", frameId: "front_cam_optical");
        string path = Path.Combine(dir, format == CalibrationFileFormat.OpenCvXml ? "camera.xml" : "camera.yaml");

        CameraInfoFile.Write(path, camera, format);
        Assert.Equal(format, CameraInfoFile.Detect(path));
        var back = CameraInfoFile.Read(path);

        Assert.Equal(camera.Width, back.Width);
        Assert.Equal(camera.Height, back.Height);
        Assert.Equal(camera.CameraName, back.CameraName);
        Assert.Equal(model, back.Distortion);
        Assert.Equal(camera.K.ToArray(), back.K.ToArray());
        Assert.Equal(camera.D.ToArray(), back.D.ToArray());
        Assert.Equal(camera.R.ToArray(), back.R.ToArray());
        Assert.Equal(camera.P.ToArray(), back.P.ToArray());
        // ROS's file has no frame id (the driver sets it); OpenCV's carries ours.
        Assert.Equal(format == CalibrationFileFormat.RosYaml ? "camera" : "front_cam_optical", back.FrameId);
    }

    [Fact]
    public void OpenCv_files_are_opencv_own_formats()
    {
        var camera = CameraModel.FromIntrinsics(640, 480, 500, 500, 320, 240);
        string yaml = Path.Combine(dir, "cv.yaml"), xml = Path.Combine(dir, "cv.xml");
        CameraInfoFile.Write(yaml, camera, CalibrationFileFormat.OpenCvYaml);
        CameraInfoFile.Write(xml, camera, CalibrationFileFormat.OpenCvXml);
        string yamlText = File.ReadAllText(yaml), xmlText = File.ReadAllText(xml);
        Assert.StartsWith("%YAML:1.0", yamlText);
        Assert.Contains("camera_matrix: !!opencv-matrix", yamlText);
        Assert.Contains("<opencv_storage>", xmlText);
        Assert.Contains("<camera_matrix type_id=\"opencv-matrix\">", xmlText);
    }

    [Fact]
    public void Ros_writer_uses_camera_calibration_layout()
    {
        var camera = CameraModel.FromIntrinsics(640, 480, 500, 501.5, 320, 240, DistortionModel.PlumbBob, [-0.25, 0.1, 0, 0, 0], cameraName: "narrow_stereo");
        const string expected =
            "image_width: 640\n" +
            "image_height: 480\n" +
            "camera_name: narrow_stereo\n" +
            "camera_matrix:\n  rows: 3\n  cols: 3\n" +
            "  data: [500, 0, 320,\n         0, 501.5, 240,\n         0, 0, 1]\n" +
            "distortion_model: plumb_bob\n" +
            "distortion_coefficients:\n  rows: 1\n  cols: 5\n  data: [-0.25, 0.1, 0, 0, 0]\n" +
            "rectification_matrix:\n  rows: 3\n  cols: 3\n" +
            "  data: [1, 0, 0,\n         0, 1, 0,\n         0, 0, 1]\n" +
            "projection_matrix:\n  rows: 3\n  cols: 4\n" +
            "  data: [500, 0, 320, 0,\n         0, 501.5, 240, 0,\n         0, 0, 1, 0]\n";
        Assert.Equal(expected, RosCameraInfoYaml.Format(camera));
    }

    [Fact]
    public void Ros_numbers_stay_floats_for_pyyaml_and_odd_names_are_quoted()
    {
        var camera = CameraModel.FromIntrinsics(640, 480, 500, 500, 320, 240, DistortionModel.PlumbBob, [1e-5, -2.5e-7, 0, 0, 1e21], cameraName: "cam: left #1");
        string text = RosCameraInfoYaml.Format(camera);
        Assert.Contains("data: [1.0E-05, -2.5E-07, 0, 0, 1.0E+21]", text);
        Assert.Contains("camera_name: 'cam: left #1'", text);
        var back = RosCameraInfoYaml.Parse(text, "memory");
        Assert.Equal(camera.D.ToArray(), back.D.ToArray());
        Assert.Equal("cam: left #1", back.CameraName);
    }

    [Fact]
    public void Reads_a_file_written_by_ros_camera_calibration()
    {
        // ost.yaml as camera_calibration's cameracalibrator.py writes it (numpy's array2string, 5 decimals, "%8f" D).
        const string ost =
            """
            image_width: 640
            image_height: 480
            camera_name: narrow_stereo
            camera_matrix:
              rows: 3
              cols: 3
              data: [635.30835,   0.     , 327.54024,
                       0.     , 636.4488 , 238.0313 ,
                       0.     ,   0.     ,   1.     ]
            distortion_model: plumb_bob
            distortion_coefficients:
              rows: 1
              cols: 5
              data: [0.101456, -0.217426, 0.001003, 0.000683, 0.000000]
            rectification_matrix:
              rows: 3
              cols: 3
              data: [1., 0., 0.,
                     0., 1., 0.,
                     0., 0., 1.]
            projection_matrix:
              rows: 3
              cols: 4
              data: [647.33643,   0.     , 327.81813,   0.     ,
                       0.     , 650.38287, 237.67923,   0.     ,
                       0.     ,   0.     ,   1.     ,   0.     ]

            """;
        string path = Write("ost.yaml", ost);
        Assert.Equal(CalibrationFileFormat.RosYaml, CameraInfoFile.Detect(path));
        var c = CameraInfoFile.Read(path);
        Assert.Equal((640, 480), (c.Width, c.Height));
        Assert.Equal("narrow_stereo", c.CameraName);
        Assert.Equal(DistortionModel.PlumbBob, c.Distortion);
        Assert.Equal([635.30835, 0, 327.54024, 0, 636.4488, 238.0313, 0, 0, 1], c.K.ToArray());
        Assert.Equal([0.101456, -0.217426, 0.001003, 0.000683, 0], c.D.ToArray());
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], c.R.ToArray());
        Assert.Equal([647.33643, 0, 327.81813, 0, 0, 650.38287, 237.67923, 0, 0, 0, 1, 0], c.P.ToArray());
    }

    [Fact]
    public void A_ros_file_without_rectification_or_projection_gets_identity_and_K()
    {
        string path = Write("minimal.yaml", RosText().Replace(RosRectAndProjection, ""));
        var c = RosCameraInfoYaml.Read(path);
        Assert.Equal([1.0, 0, 0, 0, 1, 0, 0, 0, 1], c.R.ToArray());
        Assert.Equal([500.0, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0], c.P.ToArray());
    }

    [Theory]
    [InlineData("camera_matrix:\n  rows: 3\n  cols: 3\n  data: [500, 0, 320, 0, 500, 240, 0, 0, 1]\n", "", "camera_matrix", "missing")]
    [InlineData("image_width: 640\n", "", "image_width", "missing")]
    [InlineData("image_width: 640\n", "image_width: wide\n", "image_width", "'wide' is not an integer")]
    [InlineData("  rows: 3\n  cols: 3\n  data: [500, 0, 320, 0, 500, 240, 0, 0, 1]", "  rows: 2\n  cols: 3\n  data: [500, 0, 320, 0, 500, 240]", "camera_matrix", "expected 3x3, the file says 2x3")]
    [InlineData("data: [500, 0, 320, 0, 500, 240, 0, 0, 1]", "data: [500, 0, 320, 0, 500, 240, 0, 0]", "camera_matrix.data", "expected 9 values (3x3), got 8")]
    [InlineData("data: [500, 0, 320, 0, 500, 240, 0, 0, 1]", "data: [500, 0, 320, 0, x, 240, 0, 0, 1]", "camera_matrix.data[4]", "'x' is not a number")]
    [InlineData("distortion_model: plumb_bob", "distortion_model: kannala_brandt", "distortion_model", "unknown distortion model 'kannala_brandt'")]
    [InlineData("distortion_model: plumb_bob", "distortion_model: rational_polynomial", "distortion_coefficients", "expected 1x8, the file says 1x5")]
    [InlineData("  rows: 3\n  cols: 4\n", "  rows: 4\n  cols: 4\n", "projection_matrix", "expected 3x4, the file says 4x4")]
    public void Bad_ros_files_name_the_file_and_the_field(string find, string replace, string field, string problem)
    {
        string text = RosText();
        Assert.Contains(find, text);
        string path = Write("bad.yaml", text.Replace(find, replace));
        var e = Assert.Throws<CalibrationFileException>(() => CameraInfoFile.Read(path));
        Assert.Equal(field, e.Field);
        Assert.StartsWith(path, e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Bad_opencv_files_name_the_file_and_the_field()
    {
        string good = Path.Combine(dir, "good.yaml");
        CameraInfoFile.Write(good, CameraModel.FromIntrinsics(640, 480, 500, 500, 320, 240), CalibrationFileFormat.OpenCvYaml);
        string text = File.ReadAllText(good);

        string noWidth = Write("nowidth.yaml", text.Replace("image_width: 640\n", ""));
        var e = Assert.Throws<CalibrationFileException>(() => CameraInfoFile.Read(noWidth));
        Assert.Equal("image_width", e.Field);
        Assert.Contains(noWidth, e.Message);

        string unknown = Write("unknown.yaml", text.Replace("distortion_model: plumb_bob", "distortion_model: thin_prism"));
        e = Assert.Throws<CalibrationFileException>(() => CameraInfoFile.Read(unknown));
        Assert.Equal("distortion_model", e.Field);
        Assert.Contains("thin_prism", e.Message);

        // A 2×3 camera matrix: rewrite the header and drop the last row's values.
        int start = text.IndexOf("camera_matrix", StringComparison.Ordinal);
        int end = text.IndexOf("distortion_model", StringComparison.Ordinal);
        string matrix = "camera_matrix: !!opencv-matrix\n   rows: 2\n   cols: 3\n   dt: d\n   data: [ 500., 0., 320., 0., 500., 240. ]\n";
        string wrongSize = Write("wrongsize.yaml", text[..start] + matrix + text[end..]);
        e = Assert.Throws<CalibrationFileException>(() => CameraInfoFile.Read(wrongSize));
        Assert.Equal("camera_matrix", e.Field);
        Assert.Contains("expected 3x3, the file says 2x3", e.Message);
    }

    [Fact]
    public void Opencv_sample_files_without_a_model_name_are_read_by_coefficient_count()
    {
        // What OpenCV's samples/cpp/calibration.cpp writes: no distortion_model, D as a 5×1 column.
        const string sample =
            """
            %YAML:1.0
            ---
            image_width: 640
            image_height: 480
            camera_matrix: !!opencv-matrix
               rows: 3
               cols: 3
               dt: d
               data: [ 5.2e+02, 0., 3.185e+02, 0., 5.25e+02, 2.432e+02, 0., 0., 1. ]
            distortion_coefficients: !!opencv-matrix
               rows: 5
               cols: 1
               dt: d
               data: [ -2.8e-01, 9.0e-02, 8.0e-04, -5.0e-04, -1.0e-02 ]
            avg_reprojection_error: 5.8e-02

            """;
        var c = CameraInfoFile.Read(Write("sample.yaml", sample));
        Assert.Equal(DistortionModel.PlumbBob, c.Distortion);
        Assert.Equal([-0.28, 0.09, 0.0008, -0.0005, -0.01], c.D.ToArray());
        Assert.Equal(318.5, c.Cx);
    }

    [Fact]
    public void Missing_file_is_a_file_not_found_naming_it()
    {
        string path = Path.Combine(dir, "absent.yaml");
        var e = Assert.Throws<FileNotFoundException>(() => CameraInfoFile.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void The_model_rejects_a_coefficient_count_that_does_not_match()
    {
        var e = Assert.Throws<ArgumentException>(() => new CameraModel(640, 480, [500, 0, 320, 0, 500, 240, 0, 0, 1], DistortionModel.Equidistant, new double[5]));
        Assert.Contains("equidistant needs 4", e.Message);
        Assert.Throws<ArgumentException>(() => DistortionModels.Parse("kannala_brandt"));
    }

    private const string RosRectAndProjection =
        "rectification_matrix:\n  rows: 3\n  cols: 3\n  data: [1, 0, 0, 0, 1, 0, 0, 0, 1]\n" +
        "projection_matrix:\n  rows: 3\n  cols: 4\n  data: [500, 0, 320, 0, 0, 500, 240, 0, 0, 0, 1, 0]\n";

    private static string RosText() =>
        "image_width: 640\nimage_height: 480\ncamera_name: cam\n" +
        "camera_matrix:\n  rows: 3\n  cols: 3\n  data: [500, 0, 320, 0, 500, 240, 0, 0, 1]\n" +
        "distortion_model: plumb_bob\n" +
        "distortion_coefficients:\n  rows: 1\n  cols: 5\n  data: [-0.2, 0.05, 0, 0, 0]\n" +
        RosRectAndProjection;

    private string Write(string name, string text)
    {
        string path = Path.Combine(dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);
}
