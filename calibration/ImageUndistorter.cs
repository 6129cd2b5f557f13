using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// Undistorts (and rectifies) whole frames the way ROS image_proc does: the maps are built once from K, D, R and the
/// new camera matrix P[0:3, 0:3], and each frame is one cv::remap. The maps are only read, so threads may share one.
/// </summary>
public sealed class ImageUndistorter : IDisposable
{
    private readonly Mat map1 = new();
    private readonly Mat map2 = new();

    public ImageUndistorter(CameraModel camera, InterpolationFlags interpolation = InterpolationFlags.Linear)
    {
        Camera = camera;
        Interpolation = interpolation;
        using var k = camera.CameraMatrix();
        using var d = camera.DistortionVector();
        using var r = camera.RectificationMatrix();
        using var p = camera.ProjectionMatrix();
        using var newK = p[new Rect(0, 0, 3, 3)].Clone();
        // Fixed-point maps (CV_16SC2) make remap about twice as fast as float maps, at 1/32 px resolution.
        if (camera.Distortion == DistortionModel.Equidistant)
            Cv2.FishEye.InitUndistortRectifyMap(k, d, r, newK, camera.ImageSize, MatType.CV_16SC2.Value, map1, map2);
        else
            Cv2.InitUndistortRectifyMap(k, d, r, newK, camera.ImageSize, MatType.CV_16SC2, map1, map2);
    }

    public CameraModel Camera { get; }
    public InterpolationFlags Interpolation { get; }

    /// <summary>The model of the undistorted image: K = P[0:3, 0:3], no distortion.</summary>
    public CameraModel Rectified => new(Camera.Width, Camera.Height,
        [Camera.P[0], Camera.P[1], Camera.P[2], Camera.P[4], Camera.P[5], Camera.P[6], Camera.P[8], Camera.P[9], Camera.P[10]],
        Camera.Distortion, new double[DistortionModels.CoefficientCount(Camera.Distortion)], null, Camera.P, Camera.CameraName, Camera.FrameId);

    public void Undistort(Mat source, Mat destination)
    {
        if (source.Width != Camera.Width || source.Height != Camera.Height)
            throw new ArgumentException($"frame is {source.Width}x{source.Height} but the calibration is for {Camera.Width}x{Camera.Height} (scale or crop the camera model first)", nameof(source));
        Cv2.Remap(source, destination, map1, map2, Interpolation, BorderTypes.Constant, Scalar.All(0));
    }

    public Mat Undistort(Mat source)
    {
        var destination = new Mat();
        Undistort(source, destination);
        return destination;
    }

    public void Dispose()
    {
        map1.Dispose();
        map2.Dispose();
    }
}
