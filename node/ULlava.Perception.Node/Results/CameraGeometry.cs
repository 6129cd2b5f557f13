using OpenCvSharp;
using ULlava.Perception.Calibration;
using ULlava.Perception.Messages.V1;

namespace ULlava.Perception.Node.Results;

/// <summary>
/// A stream's camera: turns result pixels into unit rays in the camera frame (x right, y down, z forward) and,
/// with a mount, points on the ground plane in the robot frame (x forward, y left, z up). The model sees the
/// raw frames; results are mapped afterwards through the distortion model (see README: Calibration).
/// </summary>
public sealed class CameraGeometry
{
    private readonly GroundProjector? ground;

    public CameraGeometry(CameraModel camera, CameraMount? mount = null)
    {
        Camera = camera;
        Mount = mount;
        ground = mount is null ? null : new GroundProjector(camera, mount);
    }

    public CameraModel Camera { get; }
    public CameraMount? Mount { get; }

    /// <summary>The same camera for frames of another size (a stream scaled after calibration).</summary>
    public CameraGeometry ForFrame(int width, int height) =>
        width == Camera.Width && height == Camera.Height ? this : new CameraGeometry(Camera.Scale(width, height), Mount);

    public Ray RayAt(double x, double y)
    {
        var pixel = new Point2d(x, y);
        var direction = Camera.PixelToRay(pixel);
        var ray = new Ray { X = (float)direction.X, Y = (float)direction.Y, Z = (float)direction.Z };
        if (ground?.Project(pixel) is { } point)
        {
            ray.HasGroundPoint = true;
            ray.GroundX = (float)point.X;
            ray.GroundY = (float)point.Y;
            ray.GroundZ = (float)point.Z;
        }
        return ray;
    }

    /// <summary>
    /// Adds centroid and bottom-centre rays to every mask and box of a result. Result coordinates are continuous
    /// (a pixel spans [x, x+1)); camera matrices put pixel centres on integers, hence the half-pixel shift.
    /// </summary>
    public void Annotate(InstructionResult result, IReadOnlyList<(double X, double Y)> maskCentroids)
    {
        Ray At(double x, double y) => RayAt(x - 0.5, y - 0.5);
        for (int i = 0; i < result.Masks.Count; i++)
        {
            var m = result.Masks[i];
            if (m.Area == 0) continue;
            m.CentroidRay = At(maskCentroids[i].X, maskCentroids[i].Y);
            m.BottomCenterRay = At((m.Bbox.XMin + m.Bbox.XMax) / 2.0, m.Bbox.YMax);
        }
        foreach (var b in result.Boxes)
        {
            b.CentroidRay = At((b.Pixels.XMin + b.Pixels.XMax) / 2.0, (b.Pixels.YMin + b.Pixels.YMax) / 2.0);
            b.BottomCenterRay = At((b.Pixels.XMin + b.Pixels.XMax) / 2.0, b.Pixels.YMax);
        }
    }

    public CameraCalibration ToMessage(string streamId)
    {
        var message = new CameraCalibration
        {
            StreamId = streamId,
            CameraName = Camera.CameraName,
            FrameId = Camera.FrameId,
            Width = (uint)Camera.Width,
            Height = (uint)Camera.Height,
            DistortionModel = DistortionModels.RosName(Camera.Distortion),
        };
        message.D.AddRange(Camera.D);
        message.K.AddRange(Camera.K);
        message.R.AddRange(Camera.R);
        message.P.AddRange(Camera.P);
        if (Mount is not null) message.CameraToRobot.AddRange(Mount.CameraToRobot);
        return message;
    }
}
