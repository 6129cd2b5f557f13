namespace ULlava.Training.Scenes;

/// <summary>
/// Deterministic synthetic scenes: 1–4 coloured shapes on a flat, gradient or value-noise background, at varied
/// scales and rotations, partly occluding each other, under a global lighting gain and per-pixel noise. The same
/// seed gives the same bytes on every machine (own PRNG, own rasteriser, integer output).
/// </summary>
public sealed class SceneGenerator
{
    /// <summary>Smallest share of an object's pixels that must stay visible, so every object can be named and segmented.</summary>
    public const double MinVisibleFraction = 0.5;

    public const int MinVisiblePixels = 64;

    private const int MaxPlacementTries = 40;

    public SceneGenerator(int width = 640, int height = 480)
    {
        if (width < 32 || height < 32) throw new ArgumentOutOfRangeException(nameof(width), $"scene size {width}×{height}: at least 32×32");
        Width = width;
        Height = height;
    }

    public int Width { get; }
    public int Height { get; }

    private sealed record Style(BackgroundKind Background, byte[] BackgroundRgb, double Gain, int NoiseAmplitude);

    /// <summary>One still scene with 1–4 objects, each (colour, shape) pair at most once.</summary>
    public Scene Generate(ulong seed)
    {
        var rng = DeterministicRandom.For(seed, 1);
        var style = NewStyle(rng);
        var specs = Place(rng, rng.Next(1, 5), moving: null);
        return Render(specs, style, DeterministicRandom.For(seed, 100));
    }

    /// <summary>
    /// A clip of <paramref name="frames"/> frames: 1–3 objects, the last of them (drawn on top, so never occluded)
    /// moving left, right, up, down or staying still by a steady step per frame.
    /// </summary>
    public SceneClip GenerateClip(ulong seed, int frames = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(frames, 2);
        var rng = DeterministicRandom.For(seed, 2);
        var style = NewStyle(rng);
        var direction = rng.Pick(Enum.GetValues<MotionDirection>());
        int side = Math.Min(Width, Height);
        double step = rng.Range(0.06, 0.1) * side;
        var (dx, dy) = direction switch
        {
            MotionDirection.Left => (-step, 0.0),
            MotionDirection.Right => (step, 0.0),
            MotionDirection.Up => (0.0, -step),
            MotionDirection.Down => (0.0, step),
            _ => (0.0, 0.0),
        };
        var specs = Place(rng, rng.Next(1, 4), moving: (dx * (frames - 1), dy * (frames - 1)));
        var list = new List<Scene>(frames);
        for (int f = 0; f < frames; f++)
        {
            var moved = specs.Select((s, i) => i == specs.Count - 1 ? s with { X = s.X + dx * f, Y = s.Y + dy * f } : s).ToList();
            list.Add(Render(moved, style, DeterministicRandom.For(seed, 200 + (ulong)f)));
        }
        return new SceneClip(list, specs.Count - 1, direction);
    }

    /// <summary>
    /// A scene of the given objects (drawn in order, later ones on top) on a flat background of <paramref name="background"/>
    /// under <paramref name="gain"/> and per-pixel noise of ±<paramref name="noise"/>: the training scenes' rasteriser,
    /// palette and lighting for scripted footage (the bundled sample video).
    /// </summary>
    public Scene Compose(IReadOnlyList<ShapeSpec> objects, (byte R, byte G, byte B) background, double gain = 1, int noise = 0, ulong noiseSeed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(noise);
        var bg = new byte[Width * Height * 3];
        for (int i = 0; i < bg.Length; i += 3) (bg[i], bg[i + 1], bg[i + 2]) = (Lit(background.R, gain), Lit(background.G, gain), Lit(background.B, gain));
        return Render(objects, new Style(BackgroundKind.Flat, bg, gain, noise), DeterministicRandom.For(noiseSeed, 300));
    }

    private Style NewStyle(DeterministicRandom rng)
    {
        var kind = rng.Pick(Enum.GetValues<BackgroundKind>());
        double gain = rng.Range(0.75, 1.2);
        int noise = rng.Next(0, 13);
        var bg = new byte[Width * Height * 3];
        switch (kind)
        {
            case BackgroundKind.Flat:
            {
                var c = Muted(rng);
                for (int i = 0; i < bg.Length; i += 3) (bg[i], bg[i + 1], bg[i + 2]) = (Lit(c.R, gain), Lit(c.G, gain), Lit(c.B, gain));
                break;
            }
            case BackgroundKind.Gradient:
            {
                var a = Muted(rng);
                var b = Muted(rng);
                double angle = rng.Range(0, 2 * Math.PI), cos = Math.Cos(angle), sin = Math.Sin(angle);
                double min = Math.Min(0, cos * Width) + Math.Min(0, sin * Height), max = Math.Max(0, cos * Width) + Math.Max(0, sin * Height);
                for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    double t = (cos * x + sin * y - min) / (max - min);
                    int i = (y * Width + x) * 3;
                    bg[i] = Lit(a.R + t * (b.R - a.R), gain);
                    bg[i + 1] = Lit(a.G + t * (b.G - a.G), gain);
                    bg[i + 2] = Lit(a.B + t * (b.B - a.B), gain);
                }
                break;
            }
            default:
            {
                // Value noise: random muted colours on a coarse grid, bilinearly interpolated.
                int gx = rng.Next(3, 12), gy = Math.Max(2, gx * Height / Width);
                var grid = new (double R, double G, double B)[(gx + 1) * (gy + 1)];
                for (int i = 0; i < grid.Length; i++) grid[i] = Muted(rng);
                for (int y = 0; y < Height; y++)
                for (int x = 0; x < Width; x++)
                {
                    double u = (double)x / Width * gx, v = (double)y / Height * gy;
                    int ix = (int)u, iy = (int)v;
                    double fx = u - ix, fy = v - iy;
                    var c00 = grid[iy * (gx + 1) + ix];
                    var c10 = grid[iy * (gx + 1) + ix + 1];
                    var c01 = grid[(iy + 1) * (gx + 1) + ix];
                    var c11 = grid[(iy + 1) * (gx + 1) + ix + 1];
                    double Lerp(double p00, double p10, double p01, double p11) =>
                        (p00 * (1 - fx) + p10 * fx) * (1 - fy) + (p01 * (1 - fx) + p11 * fx) * fy;
                    int i = (y * Width + x) * 3;
                    bg[i] = Lit(Lerp(c00.R, c10.R, c01.R, c11.R), gain);
                    bg[i + 1] = Lit(Lerp(c00.G, c10.G, c01.G, c11.G), gain);
                    bg[i + 2] = Lit(Lerp(c00.B, c10.B, c01.B, c11.B), gain);
                }
                break;
            }
        }
        return new Style(kind, bg, gain, noise);
    }

    // Greyish colours: a grey level with small channel offsets, far from every saturated palette colour.
    private static (double R, double G, double B) Muted(DeterministicRandom rng)
    {
        double g = rng.Range(80, 185);
        return (g + rng.Range(-22, 22), g + rng.Range(-22, 22), g + rng.Range(-22, 22));
    }

    private static byte Lit(double value, double gain) => (byte)Math.Clamp((int)Math.Round(value * gain), 0, 255);

    /// <summary>
    /// Places up to <paramref name="count"/> objects one by one, retrying a placement that would hide too much of any
    /// object; <paramref name="moving"/> is the last object's total displacement, which must keep it inside the frame.
    /// </summary>
    private List<ShapeSpec> Place(DeterministicRandom rng, int count, (double Dx, double Dy)? moving)
    {
        var specs = new List<ShapeSpec>();
        var used = new HashSet<(ShapeKind, string)>();
        int side = Math.Min(Width, Height);
        for (int k = 0; k < count; k++)
        {
            ShapeKind shape;
            SceneColour colour;
            do
            {
                shape = rng.Pick(Enum.GetValues<ShapeKind>());
                colour = rng.Pick(SceneColour.Palette);
            } while (!used.Add((shape, colour.Name)));

            bool isMoving = moving is not null && k == count - 1;
            for (int attempt = 0; attempt < MaxPlacementTries; attempt++)
            {
                double r = rng.Range(0.07, 0.17) * side;
                var (mx, my) = isMoving ? moving!.Value : (0, 0);
                double xMin = r * 1.25 + Math.Max(0, -mx), xMax = Width - r * 1.25 - Math.Max(0, mx);
                double yMin = r * 1.25 + Math.Max(0, -my), yMax = Height - r * 1.25 - Math.Max(0, my);
                if (xMax <= xMin || yMax <= yMin) continue;
                var spec = new ShapeSpec(shape, colour, rng.Range(xMin, xMax), rng.Range(yMin, yMax), r,
                                    shape == ShapeKind.Circle ? 0 : rng.Range(-0.45, 0.45));
                specs.Add(spec);
                if (AllVisible(specs)) break;
                specs.RemoveAt(specs.Count - 1);
            }
            if (specs.Count <= k && isMoving)
            {
                // A moving object must exist: fall back to one on top of a scene without the others.
                specs.Clear();
                k = -1;
                used.Clear();
            }
        }
        return specs;
    }

    private bool AllVisible(List<ShapeSpec> specs)
    {
        var owner = Owners(specs, out var full);
        var visible = new int[specs.Count];
        foreach (int o in owner) if (o >= 0) visible[o]++;
        for (int i = 0; i < specs.Count; i++)
            if (visible[i] < MinVisiblePixels || visible[i] < MinVisibleFraction * full[i]) return false;
        return true;
    }

    // Per pixel, the index of the top-most object covering it (-1: background); also each object's full pixel count.
    private int[] Owners(IReadOnlyList<ShapeSpec> specs, out int[] full)
    {
        var owner = new int[Width * Height];
        Array.Fill(owner, -1);
        var counts = new int[specs.Count];
        for (int i = 0; i < specs.Count; i++)
        {
            var s = specs[i];
            int index = i;
            ShapeRaster.Cover(s.Shape, s.X, s.Y, s.Radius, s.Rotation, Width, Height, (x, y) =>
            {
                owner[y * Width + x] = index;
                counts[index]++;
            });
        }
        full = counts;
        return owner;
    }

    private Scene Render(IReadOnlyList<ShapeSpec> specs, Style style, DeterministicRandom noiseRng)
    {
        var owner = Owners(specs, out var full);
        var rgb = (byte[])style.BackgroundRgb.Clone();
        var lit = specs.Select(s => new[] { Lit(s.Colour.R, style.Gain), Lit(s.Colour.G, style.Gain), Lit(s.Colour.B, style.Gain) }).ToArray();
        var masks = specs.Select(_ => new byte[Width * Height]).ToArray();
        for (int p = 0; p < owner.Length; p++)
        {
            int o = owner[p];
            if (o < 0) continue;
            masks[o][p] = 1;
            rgb[p * 3] = lit[o][0];
            rgb[p * 3 + 1] = lit[o][1];
            rgb[p * 3 + 2] = lit[o][2];
        }
        int a = style.NoiseAmplitude;
        if (a > 0)
        {
            for (int i = 0; i < rgb.Length; i++)
                rgb[i] = (byte)Math.Clamp(rgb[i] + noiseRng.Next(-a, a + 1), 0, 255);
        }
        var objects = new List<SceneObject>(specs.Count);
        for (int i = 0; i < specs.Count; i++)
        {
            var s = specs[i];
            int visible = masks[i].Count(b => b != 0);
            var box = PixelBox.OfMask(masks[i], Width, Height) ?? default;
            objects.Add(new SceneObject(s.Shape, s.Colour, lit[i], s.X, s.Y, s.Radius, s.Rotation, masks[i], box, visible, full[i]));
        }
        return new Scene(Width, Height, rgb, objects, style.Background, a);
    }
}
