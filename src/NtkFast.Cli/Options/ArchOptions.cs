using NtkFast.Architectures;
using NtkFast.Cli.Commands;
using NtkFast.Cli.Distributed;
using NtkFast.IO;
using NtkFast.Numerics;
using NtkFast.Tiling;

namespace NtkFast.Cli.Options;

/// <summary>
/// <c>ntk kernel --arch "SPEC"</c>: the infinite-width kernels of a network built from layers
/// (NtkFast.Architectures; docs/notes/arch.md). Inputs are N×H×W×C, N×L×C or N×d .npy.
/// </summary>
internal static class ArchOptions
{
    public const string Help =
        """
        Networks from layers (instead of --depth/--activation):
          --arch "SPEC"          e.g. "conv:32,3x3,same relu conv:32,3x3,same relu gap dense:1";
                                 a file name (ending .txt or .arch) holding the spec also works.
                                 Layers: dense:W[,w=S][,b=B]  conv:C,KxK[,sS][,same|valid][,w=S][,b=B]
                                 conv1d:C,K[,…]  avgpool:K[xK][,sS]  gap  flatten  id  res{ … }
                                 sum{ … | … }  param:ntk|standard, and any activation name.
                                 --x/--x2 are then N×H×W×C (channels last), N×L×C or N×d .npy;
                                 --weight-std and --beta set the default σw and β of the layers.
        """;

    /// <summary>Help lines of <c>ntk empirical --arch</c>.</summary>
    public const string EmpiricalHelp =
        """
        Finite networks from layers (instead of --params or --widths/--activation):
          --arch "SPEC" --seed S [--monte-carlo K]
                                 K networks of the architecture (seeds S … S+K−1; default K = 1), the
                                 empirical NTK (1/K_out)·Σ_k ∂f_k/∂θ·∂f_k/∂θ from per-sample Jacobians and the
                                 NNGP of the dense readout; --out-ntk/--out-nngp the mean over the K networks,
                                 --out-ntk-std/--out-nngp-std their sample standard deviation. Same SPEC, inputs,
                                 --weight-std/--beta as `ntk kernel --arch`, so the mean converges to its kernels.
                                 --params FILE (from `ntk init --arch`/`ntk train`) instead: that network.
                                 --rows/--cols, --tile, --memory-limit and mpirun work as above (each tile folds
                                 the K networks in seed order: bitwise the in-memory result).
        """;

    /// <summary>True when the command line asks for an architecture.</summary>
    public static bool Requested(CliArgs args) => args.Has("arch");

    public static int RunKernel(CliArgs args, Communicator comm)
    {
        string specText = args.Required("arch");
        string xPath = args.Required("x");
        string? x2Path = args.Optional("x2");
        double beta = KernelSpecOptions.Beta(args);
        double weightStd = KernelSpecOptions.WeightStd(args);
        string? rowsSpec = args.Optional("rows"), colsSpec = args.Optional("cols");
        string? ntkPath = args.OptionalOutputPath("out-ntk", ".npy");
        string? nngpPath = args.OptionalOutputPath("out-nngp", ".npy");
        TiledOutputOptions tiled = TiledOutputOptions.Parse(args);
        if (args.Has("depth") || args.Has("activation")) throw new CliException("--arch replaces --depth and --activation: give one or the other");
        if (args.Has("trainable-from") || args.Has("quadrature-degree")) throw new CliException("--trainable-from and --quadrature-degree are not supported with --arch");
        args.EnsureAllUsed();
        if (ntkPath is null && nngpPath is null) throw new CliException("nothing to write: give --out-ntk and/or --out-nngp");
        if (ntkPath is not null && nngpPath is not null && Path.GetFullPath(ntkPath) == Path.GetFullPath(nngpPath))
            throw new CliException("--out-ntk and --out-nngp name the same file");

        Architecture arch = ParseSpec(specText, weightStd, beta);

        ImageSet x = Read(xPath, "--x");
        ImageSet? x2 = x2Path is null ? null : Read(x2Path, "--x2");
        ArchKernelSource source;
        try { source = new ArchKernelSource(arch, x, x2, ntkPath is not null, nngpPath is not null); }
        catch (ArchitectureException e) { throw new CliException($"option --arch: {e.Message}"); }
        (int r0, int r1) = Options.PointSetOptions.Range("rows", rowsSpec, source.Rows);
        (int c0, int c1) = Options.PointSetOptions.Range("cols", colsSpec, source.Cols);
        foreach (string? o in (string?[])[ntkPath, nngpPath])
            if (o is not null) AtomicFile.CheckNotAnInput(o, xPath, x2Path);
        string?[] paths = ntkPath is null ? [nngpPath] : nngpPath is null ? [ntkPath] : [ntkPath, nngpPath];
        Matrix xm = new(x.Count, x.Stride, x.Data);
        Matrix? x2m = x2 is null ? null : new Matrix(x2.Count, x2.Stride, x2.Data);
        return KernelOutputWriter.Write(source, paths, tiled.Plan with
        {
            Communicator = comm,
            RowStart = r0, RowEnd = r1, ColStart = c0, ColEnd = c1,
            InputChecksum = KernelOutputWriter.Checksum(xm, x2m),
        }, tiled.Asked);
    }

    /// <summary>
    /// <c>ntk empirical --arch</c>: Monte Carlo over K finite networks of the architecture (network s drawn
    /// with seed S + s), mean and sample standard deviation of the empirical NTK and NNGP, folded in seed
    /// order (the same bits for every thread count). All outputs are written together or not at all.
    /// </summary>
    public static int RunEmpirical(CliArgs args, string? paramsPath, Communicator comm)
    {
        string? specText = paramsPath is null ? args.Required("arch") : null;
        string xPath = args.Required("x");
        string? x2Path = args.Optional("x2");
        if (paramsPath is not null && (args.Has("arch") || args.Has("seed") || args.Has("monte-carlo") || args.Has("beta") || args.Has("weight-std")))
            throw new CliException("--params names an architecture network file: --arch, --seed, --monte-carlo, --beta and --weight-std come from it");
        double beta = KernelSpecOptions.Beta(args);
        double weightStd = KernelSpecOptions.WeightStd(args);
        ulong seed = paramsPath is null ? NetworkOptions.Seed(args) : 0;
        int samples = paramsPath is null ? args.Int("monte-carlo", 1, min: 1, max: 1_000_000) : 1;
        string? rowsSpec = args.Optional("rows"), colsSpec = args.Optional("cols");
        string? ntkPath = args.OptionalOutputPath("out-ntk", ".npy");
        string? nngpPath = args.OptionalOutputPath("out-nngp", ".npy");
        string? ntkStdPath = args.OptionalOutputPath("out-ntk-std", ".npy");
        string? nngpStdPath = args.OptionalOutputPath("out-nngp-std", ".npy");
        TiledOutputOptions tiled = TiledOutputOptions.Parse(args);
        int trainableFrom = args.Int("trainable-from", 0, min: 0);
        bool single = args.Flag("float32");
        foreach (string other in (string[])[paramsPath is null ? "params" : "arch", "widths", "activation", "depth", "reference", "outputs",
                     "diagnostics-report"])
            if (args.Has(other)) throw new CliException($"--{other} is not supported with --arch (finite networks from layers)");
        args.EnsureAllUsed();
        if (ntkPath is null && nngpPath is null) throw new CliException("nothing to write: give --out-ntk and/or --out-nngp");
        if (ntkStdPath is not null && ntkPath is null) throw new CliException("--out-ntk-std needs --out-ntk");
        if (nngpStdPath is not null && nngpPath is null) throw new CliException("--out-nngp-std needs --out-nngp");
        string?[] outs = [ntkPath, nngpPath, ntkStdPath, nngpStdPath];
        for (int i = 0; i < outs.Length; i++)
        {
            if (outs[i] is not string o) continue;
            AtomicFile.CheckNotAnInput(o, xPath, x2Path, paramsPath);
            for (int j = 0; j < i; j++)
                if (outs[j] is string q && Path.GetFullPath(q) == Path.GetFullPath(o)) throw new CliException($"two outputs name the same file {o}");
        }
        ArchitectureNetwork? fromFile = paramsPath is null ? null : ArchitectureNetworkFile.Read(paramsPath);
        if (fromFile is not null && single && !fromFile.IsFloat32) fromFile = fromFile.ConvertTo<float>();
        Architecture arch = fromFile?.Architecture ?? ParseSpec(specText!, weightStd, beta);
        ImageSet x = Read(xPath, "--x");
        ImageSet? x2 = x2Path is null ? null : Read(x2Path, "--x2");
        if (fromFile is not null && (fromFile.InputShape.Height, fromFile.InputShape.Width, fromFile.InputShape.Channels) != (x.Height, x.Width, x.Channels))
            throw new CliException($"--x images are {x.ShapeString}, the network (--params {CliMessages.Name(paramsPath)}) takes {fromFile.InputShape.Height}×{fromFile.InputShape.Width}×{fromFile.InputShape.Channels}");
        if (x2 is not null && (x2.Height != x.Height || x2.Width != x.Width || x2.Channels != x.Channels))
            throw new CliException($"--x2 images are {x2.ShapeString}, --x images {x.ShapeString}: they must match");
        ArchEmpiricalSource source;
        try
        {
            int layers = (fromFile ?? ArchitectureNetwork.Initialize(arch, x.Height, x.Width, x.Channels, 0)).AffineLayers;
            CheckTrainableFrom(trainableFrom, layers);
            source = fromFile is not null
                ? new ArchEmpiricalSource([fromFile], x, x2, ntkPath is not null, nngpPath is not null, ntkStdPath is not null, nngpStdPath is not null, trainableFrom)
                : new ArchEmpiricalSource(arch, seed, samples, x, x2, ntkPath is not null, nngpPath is not null, ntkStdPath is not null, nngpStdPath is not null, trainableFrom, single);
        }
        catch (ArchitectureException e) { throw new CliException($"{(paramsPath is null ? "option --arch" : $"--params {CliMessages.Name(paramsPath)}")}: {e.Message}"); }
        (int r0, int r1) = PointSetOptions.Range("rows", rowsSpec, source.Rows);
        (int c0, int c1) = PointSetOptions.Range("cols", colsSpec, source.Cols);
        string?[] paths = [.. outs.Where(o => o is not null)];
        Matrix xm = new(x.Count, x.Stride, x.Data);
        Matrix? x2m = x2 is null ? null : new Matrix(x2.Count, x2.Stride, x2.Data);
        return KernelOutputWriter.Write(source, paths, tiled.Plan with
        {
            Communicator = comm,
            RowStart = r0, RowEnd = r1, ColStart = c0, ColEnd = c1,
            InputChecksum = Checksum(xm, x2m, fromFile, arch, seed),
        }, tiled.Asked, "ntk empirical");
    }

    /// <summary>
    /// What each MPI rank compares before it writes: the points, and the network — its parameters from --params, or
    /// the spec (a spec file can be a stale node-local copy too), σw, β and the seed — so ranks that read different
    /// files stop the job instead of writing a mixed kernel.
    /// </summary>
    private static ulong Checksum(Matrix x, Matrix? x2, ArchitectureNetwork? network, Architecture arch, ulong seed)
    {
        var c = new NtkFast.Tiling.InputChecksum();
        c.Add(unchecked((long)KernelOutputWriter.Checksum(x, x2)));
        switch (network)
        {
            case ArchitectureNetwork<double> d: c.Add<double>(d.Parameters); break;
            case ArchitectureNetwork<float> f: c.Add<float>(f.Parameters); break;
            default:
                c.Add<char>((arch.Spec ?? arch.ToString()).AsSpan());
                c.Add(BitConverter.DoubleToInt64Bits(arch.WeightStd));
                c.Add(BitConverter.DoubleToInt64Bits(arch.Beta));
                c.Add(unchecked((long)seed));
                break;
        }
        return c.Value;
    }

    /// <summary>Help lines of <c>ntk init --arch</c>.</summary>
    public const string InitHelp =
        """
        Networks from layers (instead of --widths/--activation):
          --arch "SPEC"          the layers, as for `ntk kernel --arch` (a .txt/.arch file works too)
          --input-shape H,W,C    the images it takes (N×d points: 1,1,d); with --seed, --out, --beta,
                                 --weight-std. The file holds arch, input_shape, beta, weight_std and
                                 theta (every parameter, layer by layer: W[a,b,c_in,c_out] then b);
                                 `ntk train` and `ntk empirical --params` take it like an MLP file.
        """;

    /// <summary><c>ntk init --arch</c>: a seeded network of the architecture, written as an architecture network file.</summary>
    public static int RunInit(CliArgs args)
    {
        string specText = args.Required("arch");
        string shapeText = args.Required("input-shape");
        double beta = KernelSpecOptions.Beta(args);
        double weightStd = KernelSpecOptions.WeightStd(args);
        ulong seed = NetworkOptions.Seed(args);
        string outPath = args.OutputPath("out", ".npz");
        if (args.Has("widths") || args.Has("activation")) throw new CliException("--arch replaces --widths and --activation: give one or the other");
        bool single = args.Flag("float32");
        args.EnsureAllUsed();
        string[] parts = shapeText.Split(',', StringSplitOptions.TrimEntries);
        var dims = new int[parts.Length];
        if (parts.Length != 3 || !parts.Select((t, i) => int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out dims[i]) && dims[i] >= 1 && dims[i] <= 1 << 20).All(ok => ok))
            throw new CliException($"option --input-shape: '{CliMessages.Bare(shapeText)}' is not three positive integers H,W,C (N×d points: 1,1,d)");
        Architecture arch = ParseSpec(specText, weightStd, beta);
        ArchitectureNetwork net;
        try
        {
            net = single
                ? ArchitectureNetwork<float>.Initialize(arch, dims[0], dims[1], dims[2], seed)
                : ArchitectureNetwork.Initialize(arch, dims[0], dims[1], dims[2], seed);
        }
        catch (ArchitectureException e) { throw new CliException($"option --arch: {e.Message}"); }
        using var outputs = new AtomicOutputs();
        ArchitectureNetworkFile.Write(outputs.Open(outPath), net);
        outputs.Commit();
        return ExitCodes.Ok;
    }

    /// <summary><c>ntk train --params</c> with an architecture network file: the MLP's loop, log and divergence rule.</summary>
    public static int RunTrain(string paramsPath, string xPath, string yPath, double lr, int steps, int trainableFrom, bool single,
        TrainCommand.DivergenceRule rule, string outPath, string? logPath)
    {
        ArchitectureNetwork net = ArchitectureNetworkFile.Read(paramsPath);
        if (single && !net.IsFloat32) net = net.ConvertTo<float>();
        CheckTrainableFrom(trainableFrom, net.AffineLayers);
        (int h, int w, int c) = net.InputShape;
        ImageSet x = Read(xPath, "--x");
        if (x.Height != h || x.Width != w || x.Channels != c)
            throw new CliException($"--x images are {x.ShapeString}, the network (--params {CliMessages.Name(paramsPath)}) takes {h}×{w}×{c}");
        Matrix y = PointSetOptions.Read(yPath, "y");
        if (y.Rows != x.Count) throw new CliException($"--y has {y.Rows} rows but --x has {x.Count} points");
        if (y.Cols != net.Outputs) throw new CliException($"--y has {y.Cols} columns but the network has {net.Outputs} outputs");
        // one workspace and output buffer for the whole loop: a step allocates nothing
        ArchitectureNetwork.BatchWorkspace ws = net.CreateBatchWorkspace();
        var f = new double[y.Data.Length];
        return TrainCommand.TrainLoop(
            () => net.TrainStep(x, y, lr, ws, trainableFrom),
            () =>
            {
                net.Forward(x, f, ws);
                double sum = 0;
                for (int i = 0; i < f.Length; i++) sum += (f[i] - y.Data[i]) * (f[i] - y.Data[i]);
                return sum / (2.0 * x.Count);
            },
            net.HasFiniteParameters,
            stream => ArchitectureNetworkFile.Write(stream, net),
            lr, steps, rule, outPath, logPath);
    }

    private static void CheckTrainableFrom(int trainableFrom, int affineLayers)
    {
        if (trainableFrom > affineLayers - 1)
            throw new CliException($"option --trainable-from must be in [0, {affineLayers - 1}] for a network of {affineLayers} affine (dense/conv) layers, got {trainableFrom}");
    }

    private static Architecture ParseSpec(string specText, double weightStd, double beta)
    {
        if (specText.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || specText.EndsWith(".arch", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(specText)) throw new CliException($"option --arch: file '{specText}' not found");
            specText = File.ReadAllText(specText);
        }
        try { return Architecture.Parse(specText, weightStd, beta); }
        catch (ArchitectureException e) { throw new CliException($"option --arch: {e.Message}"); }
    }

    private static ImageSet Read(string path, string what)
    {
        if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            return ImageSet.FromMatrix(MatrixFile.Read(path, what));
        if (!File.Exists(path)) throw new CliException($"{what} {path}: file not found");
        NpyArray a = Npy.Read(path, what, convertToFloat64: true); // numpy integer/bool/float16 images (e.g. uint8 pixels) convert exactly
        if (a.Rank is 2) return ImageSet.FromMatrix(MatrixFile.Read(path, what)); // its checks and messages
        if (a.Rank is not (3 or 4)) throw new CliException($"{what} {path}: shape {NpyArray.ShapeString(a.Shape)}; --arch reads N×H×W×C, N×L×C or N×d arrays");
        if (a.Shape[0] == 0) throw new CliException($"{what} {path}: has 0 inputs");
        try { return ImageSet.FromNpy(a); }
        catch (ArchitectureException e) { throw new CliException($"{what} {path}: {e.Message}"); }
    }
}
