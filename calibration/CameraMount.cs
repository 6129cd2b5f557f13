using OpenCvSharp;

namespace ULlava.Perception.Calibration;

/// <summary>
/// Where the camera sits on the robot: the 4×4 transform from the camera's optical frame (x right, y down,
/// z forward; REP-103 "_optical") to the robot frame (x forward, y left, z up, REP-103 base frame) whose z = 0 plane
/// is the ground. Row-major; a robot-frame point is T · (camera point, 1).
/// </summary>
public sealed class CameraMount
{
    private readonly double[] t;

    public CameraMount(IReadOnlyList<double> cameraToRobot)
    {
        if (cameraToRobot.Count != 16) throw new ArgumentException($"the camera-to-robot transform needs 16 values (4x4), got {cameraToRobot.Count}", nameof(cameraToRobot));
        if (cameraToRobot[12] != 0 || cameraToRobot[13] != 0 || cameraToRobot[14] != 0 || cameraToRobot[15] != 1)
            throw new ArgumentException("the last row of the camera-to-robot transform must be 0 0 0 1", nameof(cameraToRobot));
        t = [.. cameraToRobot];
    }

    /// <summary>
    /// A camera <paramref name="height"/> metres above the ground at (<paramref name="x"/>, <paramref name="y"/>),
    /// facing forward along the robot's x axis and pitched down by <paramref name="pitch"/> radians (positive = looking
    /// down, a rotation about the robot's y axis as REP-103 defines pitch), with no roll.
    /// </summary>
    public static CameraMount FromHeightPitch(double height, double pitch, double x = 0, double y = 0)
    {
        double c = Math.Cos(pitch), s = Math.Sin(pitch);
        // Columns are the optical axes in the robot frame: x_cam → −y_robot; y_cam (down) and z_cam (forward)
        // are the robot's −z and +x rotated by the pitch: Ry(pitch)·(0,0,−1) = (−s,0,−c), Ry(pitch)·(1,0,0) = (c,0,−s).
        return new CameraMount([
            0, -s, c, x,
            -1, 0, 0, y,
            0, -c, -s, height,
            0, 0, 0, 1,
        ]);
    }

    public IReadOnlyList<double> CameraToRobot => t;

    /// <summary>The camera's optical centre in the robot frame.</summary>
    public Point3d Origin => new(t[3], t[7], t[11]);

    /// <summary>A direction in the optical frame → the same direction in the robot frame.</summary>
    public Point3d RotateToRobot(Point3d v) => new(
        t[0] * v.X + t[1] * v.Y + t[2] * v.Z,
        t[4] * v.X + t[5] * v.Y + t[6] * v.Z,
        t[8] * v.X + t[9] * v.Y + t[10] * v.Z);

    /// <summary>A point in the optical frame → the robot frame.</summary>
    public Point3d ToRobot(Point3d p)
    {
        var r = RotateToRobot(p);
        return new Point3d(r.X + t[3], r.Y + t[7], r.Z + t[11]);
    }
}
