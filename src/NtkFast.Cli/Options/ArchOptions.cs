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

        if (specText.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || specText.EndsWith(".arch", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(specText)) throw new CliException($"option --arch: file '{specText}' not found");
            specText = File.ReadAllText(specText);
        }
        Architecture arch;
        try { arch = Architecture.Parse(specText, weightStd, beta); }
        catch (ArchitectureException e) { throw new CliException($"option --arch: {e.Message}"); }

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
