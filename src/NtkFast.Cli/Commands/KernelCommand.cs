using System.Globalization;
using NtkFast.Activations;
using NtkFast.Cli.Distributed;
using NtkFast.Tiling;
using NtkFast.IO;
using NtkFast.Kernels;
using NtkFast.Numerics;

namespace NtkFast.Cli.Commands;

/// <summary><c>ntk kernel</c>: the infinite-width NTK Θ(L) and NNGP Σ(L) Gram matrices (docs/design.md §1, §3).</summary>
internal sealed class KernelCommand : ICommand
{
    public string Name => "kernel";
    public string Summary => "infinite-width NTK and NNGP kernel matrices of a data set";
    public IReadOnlySet<string> Flags { get; } = new HashSet<string>(TiledOutputOptions.FlagNames);

    public IReadOnlyList<string> Examples { get; } =
    [
        "ntk kernel --x X.npy --depth 3 --activation relu --out-ntk T.npy --out-nngp S.npy",
        "ntk kernel --x X.npy --x2 XT.npy --depth 4 --activation tanh --beta 0.2 --out-ntk KT.npy   # test-by-train block",
        "ntk kernel --x X.npy --depth 3 --activation erf --rows 0:1000 --out-ntk T0.npy   # one row block of a larger kernel",
        "ntk kernel --x images.npy --arch \"conv:32,3x3,same relu gap dense:1\" --out-ntk T.npy   # a CNN's kernel",
    ];

    public string Help =>
        """
        usage: ntk kernel --x X.npy [--x2 X2.npy] --depth L --activation NAME
                          [--beta 0.1] [--weight-std 1] [--trainable-from K]
                          [--quadrature-degree Q] [--rows a:b --cols c:d]
                          --out-ntk T.npy [--out-nngp S.npy]

        Computes the infinite-width kernels of a fully connected network with L weight layers
        (Jacot et al. 2018): the NTK Θ(L)(x_i, x2_j) and/or the NNGP kernel Σ(L)(x_i, x2_j).

          --x FILE               points, one per row: 2-D .npy, FILE.npz:NAME, .csv, or - (stdin)
          --x2 FILE              second point set (same number of columns); default: --x itself
        """ + "\n" + Options.KernelSpecOptions.Help + """
          --rows a:b, --cols c:d only this block: rows a … b−1 of X, columns c … d−1 of X2
                                 (either side may be omitted: ':b', 'a:'); bitwise identical to
                                 the same block of the full matrix
          --out-ntk FILE         Θ(L) as float64 .npy, shape (rows, cols)
          --out-nngp FILE        Σ(L) as float64 .npy, shape (rows, cols)
                                 (at least one of --out-ntk, --out-nngp)

        For n_L outputs the kernels are Θ ⊗ Id and Σ ⊗ Id; the scalar kernels are written.
        Results are identical for every NTKFAST_THREADS.

        Out of core and MPI (results bitwise identical to the in-memory run):

        """ + TiledOutputOptions.Help + "\n" + Options.ArchOptions.Help;

    // Under mpirun every rank runs the whole command; KernelOutputWriter splits the tiles among them.
    public int Run(CliArgs args) => MpiJob.Run(Name, comm => Run(args, comm));

    private static int Run(CliArgs args, Communicator comm)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (Options.ArchOptions.Requested(args)) return Options.ArchOptions.RunKernel(args, comm);
        string xPath = args.Required("x");
        string? x2Path = args.Optional("x2");
        KernelSpec spec = Options.KernelSpecOptions.Kernel(args);
        string? rowsSpec = args.Optional("rows"), colsSpec = args.Optional("cols");
        string? ntkPath = args.OptionalOutputPath("out-ntk", ".npy");
        string? nngpPath = args.OptionalOutputPath("out-nngp", ".npy");
        TiledOutputOptions tiled = TiledOutputOptions.Parse(args);
        args.EnsureAllUsed();
        if (ntkPath is null && nngpPath is null) throw new CliException("nothing to write: give --out-ntk and/or --out-nngp");
        if (ntkPath is not null && nngpPath is not null && Path.GetFullPath(ntkPath) == Path.GetFullPath(nngpPath))
            throw new CliException("--out-ntk and --out-nngp name the same file");

        (Matrix x, Matrix? x2) = Options.PointSetOptions.ReadPair(xPath, x2Path);
        Matrix other = x2 ?? x;
        (int r0, int r1) = Options.PointSetOptions.Range("rows", rowsSpec, x.Rows);
        (int c0, int c1) = Options.PointSetOptions.Range("cols", colsSpec, other.Rows);

        foreach (string? o in (string?[])[ntkPath, nngpPath])
            if (o is not null) AtomicFile.CheckNotAnInput(o, xPath, x2Path);
        // One path for every size and every launch: tiles computed straight into the files (a small
        // kernel is one tile), shared among the ranks under MPI.
        var source = new AnalyticKernelSource(spec, x, x2, ntkPath is not null, nngpPath is not null);
        string?[] paths = ntkPath is null ? [nngpPath] : nngpPath is null ? [ntkPath] : [ntkPath, nngpPath];
        return KernelOutputWriter.Write(source, paths, tiled.Plan with
        {
            Communicator = comm,
            RowStart = r0, RowEnd = r1, ColStart = c0, ColEnd = c1,
            InputChecksum = KernelOutputWriter.Checksum(x, x2),
        }, tiled.Asked);
    }
}
