using OpenCvSharp;
using ULlava.Perception.Calibration;

namespace ULlava.Perception.Calibration.Tests;

/// <summary>Rays, ground points, scaling and cropping against values worked out by hand.</summary>
public sealed class GeometryTests
{
    private const double Tol = 1e-9;
    private static readonly CameraModel Ideal = CameraModel.FromIntrinsics(640, 480, 500, 500, 320, 240);

    [Theory]
    [InlineData(DistortionModel.PlumbBob)]
    [InlineData(DistortionModel.RationalPolynomial)]
    [InlineData(DistortionModel.Equidistant)]
    public void The_principal_point_is_the_optical_axis_whatever_the_distortion(DistortionModel model)
    {
        var camera = Distorted(model);
        var ray = camera.PixelToRay(new Point2d(camera.Cx, camera.Cy));
        AssertPoint(new Point3d(0, 0, 1), ray, 1e-9);
    }

    [Fact]
    public void A_pixel_one_focal_length_right_is_45_degrees_right()
    {
        var ray = Ideal.PixelToRay(new Point2d(820, 240));
        AssertPoint(new Point3d(Math.Sqrt(0.5), 0, Math.Sqrt(0.5)), ray, Tol);
        var down = Ideal.PixelToRay(new Point2d(320, 240 + 250));
        AssertPoint(new Point3d(0, 0.5 / Math.Sqrt(1.25), 1 / Math.Sqrt(1.25)), down, Tol);
    }

    [Theory]
    [InlineData(DistortionModel.PlumbBob)]
    [InlineData(DistortionModel.RationalPolynomial)]
    [InlineData(DistortionModel.Equidistant)]
    public void Undistortion_inverts_projection_out_to_the_image_corners(DistortionModel model)
    {
        var camera = Distorted(model);
        foreach (var point in new[] { new Point3d(0.3, -0.2, 1), new Point3d(-0.55, 0.4, 1), new Point3d(0.6, 0.45, 1) })
        {
            var pixel = camera.ProjectToPixel(point);
            Assert.InRange(pixel.X, 0, camera.Width);
            Assert.InRange(pixel.Y, 0, camera.Height);
            var n = camera.UndistortToNormalized(pixel);
            Assert.Equal(point.X, n.X, 1e-6);
            Assert.Equal(point.Y, n.Y, 1e-6);
            // And the distortion is real: the pixel is not where a distortion-free camera would put it.
            Assert.True(Math.Abs(pixel.X - (camera.Fx * point.X + camera.Cx)) > 1);
        }
    }

    [Fact]
    public void Principal_ray_of_a_camera_1m_up_pitched_45_down_meets_the_ground_1m_ahead()
    {
        var ground = new GroundProjector(Ideal, CameraMount.FromHeightPitch(1.0, Math.PI / 4));
        AssertPoint(new Point3d(1, 0, 0), ground.Project(new Point2d(320, 240)), Tol);
        // One focal length below the centre is 45° further down: straight down, under the camera.
        AssertPoint(new Point3d(0, 0, 0), ground.Project(new Point2d(320, 740)), 1e-9);
        // One focal length right: optical ray (1, 0, 1) → robot (cos45, −1, −sin45), scaled by 1/sin45 = √2 to reach
        // the ground: (1, −√2, 0), i.e. 1 m ahead and √2 m to the right (y is left).
        AssertPoint(new Point3d(1, -Math.Sqrt(2), 0), ground.Project(new Point2d(820, 240)), Tol);
    }

    [Fact]
    public void Rays_at_or_above_the_horizon_have_no_ground_point()
    {
        var pitched = new GroundProjector(Ideal, CameraMount.FromHeightPitch(1.0, Math.PI / 4));
        Assert.Null(pitched.Project(new Point2d(320, 240 - 500)));   // exactly level
        Assert.Null(pitched.Project(new Point2d(320, 240 - 700)));   // above the horizon
        var level = new GroundProjector(Ideal, CameraMount.FromHeightPitch(1.0, 0));
        Assert.Null(level.Project(new Point2d(320, 240)));
        // Level camera, a pixel 0.5 f below centre: down 0.5 per metre forward, so 2 m ahead from 1 m up.
        AssertPoint(new Point3d(2, 0, 0), level.Project(new Point2d(320, 490)), Tol);
        var onGround = new GroundProjector(Ideal, CameraMount.FromHeightPitch(0, Math.PI / 4));
        Assert.Null(onGround.Project(new Point2d(320, 240)));
    }

    [Fact]
    public void A_full_transform_places_a_downward_camera()
    {
        // Looking straight down from 2 m at (0.5, 0.1): optical z → robot −z, x (right in the image) → robot −y,
        // y (down in the image) → robot −x (the top of the image faces forward).
        var mount = new CameraMount([
            0, -1, 0, 0.5,
            -1, 0, 0, 0.1,
            0, 0, -1, 2,
            0, 0, 0, 1,
        ]);
        var ground = new GroundProjector(Ideal, mount);
        AssertPoint(new Point3d(0.5, 0.1, 0), ground.Project(new Point2d(320, 240)), Tol);
        // Half a focal length right: ray (0.5, 0, 1) → robot (0, −0.5, −1), 2 m down → 1 m to the right.
        AssertPoint(new Point3d(0.5, -0.9, 0), ground.Project(new Point2d(570, 240)), Tol);
        // Half a focal length up in the image: ray (0, −0.5, 1) → robot (0.5, 0, −1) → 1 m forward.
        AssertPoint(new Point3d(1.5, 0.1, 0), ground.Project(new Point2d(320, -10)), Tol);
    }

    [Fact]
    public void The_height_pitch_mount_is_the_transform_it_documents()
    {
        var mount = CameraMount.FromHeightPitch(0.8, 0.3, x: 0.2, y: -0.05);
        var origin = mount.ToRobot(new Point3d(0, 0, 0));
        AssertPoint(new Point3d(0.2, -0.05, 0.8), origin, Tol);
        AssertPoint(new Point3d(Math.Cos(0.3), 0, -Math.Sin(0.3)), mount.RotateToRobot(new Point3d(0, 0, 1)), Tol);
        AssertPoint(new Point3d(0, -1, 0), mount.RotateToRobot(new Point3d(1, 0, 0)), Tol);
        Assert.Throws<ArgumentException>(() => new CameraMount(new double[12]));
    }

    [Fact]
    public void Halving_the_image_halves_focal_lengths_and_maps_the_principal_point_through_pixel_centres()
    {
        var camera = CameraModel.FromIntrinsics(640, 480, 500, 510, 320, 240);
        var half = camera.Scale(320, 240);
        Assert.Equal(new Size(320, 240), half.ImageSize);
        Assert.Equal(250, half.Fx, Tol);
        Assert.Equal(255, half.Fy, Tol);
        // (320 + 0.5)·0.5 − 0.5 = 159.75; (240 + 0.5)·0.5 − 0.5 = 119.75
        Assert.Equal(159.75, half.Cx, Tol);
        Assert.Equal(119.75, half.Cy, Tol);
        Assert.Equal([250, 0, 159.75, 0, 0, 255, 119.75, 0, 0, 0, 1, 0], half.P.ToArray());
        var twice = camera.Scale(1280, 720);    // anisotropic: ×2 across, ×1.5 down
        Assert.Equal(1000, twice.Fx, Tol);
        Assert.Equal(765, twice.Fy, Tol);
        Assert.Equal(640.5, twice.Cx, Tol);
        Assert.Equal(360.25, twice.Cy, Tol);
        Assert.Equal(camera.D.ToArray(), twice.D.ToArray());
    }

    [Fact]
    public void Scaling_moves_the_stereo_baseline_term_of_P_with_fx()
    {
        var right = new CameraModel(640, 480, [500, 0, 320, 0, 500, 240, 0, 0, 1], DistortionModel.PlumbBob, new double[5],
            p: [500, 0, 320, -60, 0, 500, 240, 0, 0, 0, 1, 0]);
        Assert.Equal(-30, right.Scale(320, 240).P[3], Tol);
    }

    [Fact]
    public void Cropping_shifts_the_principal_point_by_the_roi_origin()
    {
        var crop = Ideal.Crop(new Rect(100, 50, 400, 300));
        Assert.Equal(new Size(400, 300), crop.ImageSize);
        Assert.Equal(220, crop.Cx, Tol);
        Assert.Equal(190, crop.Cy, Tol);
        Assert.Equal(500, crop.Fx, Tol);
        Assert.Equal(220, crop.P[2], Tol);
        Assert.Equal(190, crop.P[6], Tol);
        // The same scene point lands at the same place in the crop, less the ROI origin.
        var p = new Point3d(0.1, -0.05, 1);
        var full = Ideal.ProjectToPixel(p);
        var cropped = crop.ProjectToPixel(p);
        Assert.Equal(full.X - 100, cropped.X, 1e-9);
        Assert.Equal(full.Y - 50, cropped.Y, 1e-9);
        Assert.Throws<ArgumentOutOfRangeException>(() => Ideal.Crop(new Rect(300, 0, 400, 100)));
    }

    private static CameraModel Distorted(DistortionModel model) => model switch
    {
        DistortionModel.PlumbBob => new CameraModel(640, 480, [500, 0, 322, 0, 505, 236, 0, 0, 1], model, [-0.3, 0.1, 0.001, -0.002, -0.02]),
        DistortionModel.RationalPolynomial => new CameraModel(640, 480, [500, 0, 322, 0, 505, 236, 0, 0, 1], model,
            [0.8, -0.1, 0.001, -0.002, 0.01, 1.1, 0.05, 0.02]),
        _ => new CameraModel(640, 480, [300, 0, 322, 0, 302, 236, 0, 0, 1], model, [-0.03, 0.01, -0.004, 0.001]),
    };

    private static void AssertPoint(Point3d expected, Point3d? actual, double tolerance)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.X, actual.Value.X, tolerance);
        Assert.Equal(expected.Y, actual.Value.Y, tolerance);
        Assert.Equal(expected.Z, actual.Value.Z, tolerance);
    }
}
