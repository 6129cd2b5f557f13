using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// Pixel → point on the flat ground (z = 0 of the robot frame: x forward, y left, z up, metres). A pixel whose ray
/// is level or rises, or a camera at or below the ground, has no ground point.
/// </summary>
public sealed class GroundProjector(CameraModel camera, CameraMount mount)
{
    // Rays within ~0.06° of level would meet the ground kilometres away, where a flat ground means nothing.
    private const double MinDescent = 1e-3;

    public CameraModel Camera { get; } = camera;
    public CameraMount Mount { get; } = mount;

    /// <summary>The ground point of a distorted pixel, or null when its ray does not hit the ground in front of the camera.</summary>
    public Point3d? Project(Point2d pixel) => IntersectGround(Camera.PixelToRay(pixel), Mount);

    /// <summary>Where a ray from the camera (optical frame) meets z = 0 in the robot frame, or null.</summary>
    public static Point3d? IntersectGround(Point3d rayInCamera, CameraMount mount)
    {
        var o = mount.Origin;
        var d = mount.RotateToRobot(rayInCamera);
        double length = Math.Sqrt(d.X * d.X + d.Y * d.Y + d.Z * d.Z);
        if (length == 0 || o.Z <= 0 || d.Z / length > -MinDescent) return null;
        double s = -o.Z / d.Z;
        return new Point3d(o.X + s * d.X, o.Y + s * d.Y, 0);
    }
}
