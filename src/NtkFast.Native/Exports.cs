using System.Runtime.InteropServices;
using NtkFast.Activations;
using NtkFast.Dynamics;
using NtkFast.Empirical;
using NtkFast.Kernels;
using NtkFast.Networks;
using NtkFast.Numerics;
using static NtkFast.Native.NativeArgs;

namespace NtkFast.Native;

/// <summary>
/// The C ABI of libntkfast.so (declared and documented in include/ntkfast.h). Every export takes caller-owned
/// row-major float64 buffers with explicit sizes and leading dimensions, returns 0 (NTK_OK), 1
/// (NTK_ERR_COMPUTE: the computation failed, e.g. a singular kernel) or 2 (NTK_ERR_ARGUMENT), and leaves a
/// one-line message for ntk_last_error on the calling thread. No exception crosses the boundary.
/// Sizes are int64_t so that negative values can be reported rather than wrapped.
/// </summary>
public static unsafe class Exports
{
    /// <summary>Largest depth accepted (as the CLI's --depth: each layer is one pass over the kernel).</summary>
    public const int MaxDepth = 10_000;

    // NUL-terminated UTF-8, allocated once and never freed (the library is never unloaded).
    private static readonly nint s_version = (nint)ToNative(VersionString());

    // ---- library information and errors ----

    [UnmanagedCallersOnly(EntryPoint = "ntk_version")]
    public static byte* Version() => (byte*)s_version;

    internal static string VersionString()
    {
        Version? v = typeof(InfiniteWidth).Assembly.GetName().Version;
        return v is null ? "0.0.0" : $"{v.Major}.{v.Minor}.{v.Build}";
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_runtime_info")]
    public static nuint RuntimeInfo(byte* buf, nuint len)
    {
        try
        {
            string s = $"ntkfast {VersionString()} on .NET {Environment.Version}; isa path: {Isa.Name(Isa.Active)} "
                + $"(available: {string.Join(", ", Isa.Available.Select(Isa.Name))}); threads: {NtkParallel.MaxThreads}";
            return CopyUtf8(s, buf, len);
        }
        catch
        {
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_activations")]
    public static nuint Activations(byte* buf, nuint len)
    {
        try
        {
            return CopyUtf8(string.Join(",", ActivationRegistry.KnownNames), buf, len);
        }
        catch
        {
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_last_error")]
    public static nuint LastErrorCopy(byte* buf, nuint len)
    {
        try
        {
            return LastError.CopyTo(buf, len);
        }
        catch
        {
            return 0;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_last_error_message")]
    public static byte* LastErrorMessage()
    {
        try
        {
            return LastError.NativeMessage();
        }
        catch
        {
            return null;
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_set_threads")]
    public static int SetThreads(int threads)
    {
        try
        {
            if (threads < 0) throw Bad($"threads = {threads}: must be at least 1 (or 0 for the number of processors)");
            NtkParallel.MaxThreads = threads == 0 ? Environment.ProcessorCount : threads;
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_get_threads")]
    public static int GetThreads() => NtkParallel.MaxThreads;

    // ---- infinite-width kernels ----

    [UnmanagedCallersOnly(EntryPoint = "ntk_kernel")]
    public static int Kernel(double* x1, long n1, long ldX1, double* x2, long n2, long ldX2, long d,
        int depth, byte* activation, double beta, double weightStd,
        double* ntk, long ldNtk, double* nngp, long ldNngp)
    {
        try
        {
            KernelCore(x1, n1, ldX1, x2, n2, ldX2, d, depth, activation, beta, weightStd, ntk, ldNtk, nngp, ldNngp);
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    internal static void KernelCore(double* x1, long n1, long ldX1, double* x2, long n2, long ldX2, long d,
        int depth, byte* activation, double beta, double weightStd,
        double* ntk, long ldNtk, double* nngp, long ldNngp, int trainableFrom = 0, int quadratureDegree = 0)
    {
        int dd = Count(d, "d", 1);
        ReadOnlySpan<double> a = Input(x1, n1, d, ldX1, "x1", "n1", "d", "ld_x1");
        bool same = x2 is null;
        ReadOnlySpan<double> b;
        if (same)
        {
            if (n2 != n1) throw Bad($"x2 is NULL (X2 = X1) but n2 = {n2} differs from n1 = {n1}");
            ldX2 = ldX1;
            b = a;
        }
        else b = Input(x2, n2, d, ldX2, "x2", "n2", "d", "ld_x2");
        int rows = Count(n1, "n1"), cols = Count(n2, "n2");
        if (ntk is null && nngp is null) throw Bad("ntk and nngp are both NULL: nothing to compute");
        Output(ntk, n1, n2, ldNtk, "ntk", "n1", "n2", "ld_ntk", out Span<double> ntkOut);
        Output(nngp, n1, n2, ldNngp, "nngp", "n1", "n2", "ld_nngp", out Span<double> nngpOut);
        KernelSpec spec = Spec(depth, activation, beta, weightStd, trainableFrom, quadratureDegree);
        if (rows == 0 || cols == 0) return;

        // The library reads packed inputs (leading dimension d); the same array for both keeps the symmetric path.
        if (ldX1 != d) a = Dense(a, rows, dd, (int)ldX1);
        if (same) b = a;
        else if (ldX2 != d) b = Dense(b, cols, dd, (int)ldX2);

        // One leading dimension for both outputs: when they differ, Σ goes through a packed buffer.
        int ldOut = ntk is not null ? (int)ldNtk : (int)ldNngp;
        double[]? packedNngp = null;
        Span<double> nngpTarget = nngpOut;
        if (ntk is not null && nngp is not null && ldNngp != ldNtk)
        {
            packedNngp = new double[(long)(rows - 1) * ldOut + cols];
            nngpTarget = packedNngp;
        }
        Span<double> workspace = Workspace(InfiniteWidth.GetWorkspaceLength(spec, rows, cols));
        InfiniteWidth.ComputeBlock(spec, a, rows, b, cols, dd, 0, rows, 0, cols, nngpTarget, ntkOut, ldOut, workspace);
        if (packedNngp is not null)
            for (int i = 0; i < rows; i++)
                packedNngp.AsSpan(i * ldOut, cols).CopyTo(nngpOut.Slice(i * (int)ldNngp, cols));
    }

    /// <summary>Workspaces up to this many doubles (8 MiB) are kept per thread for the next call.</summary>
    private const long RetainedWorkspace = 1L << 20;

    [ThreadStatic] private static double[]? t_workspace;

    /// <summary>
    /// A kernel workspace: the calling thread's retained one when large enough. A small kernel's workspace
    /// (~260 KiB per worker thread) allocated on every call cost 30× the computation of a 3×3 kernel.
    /// </summary>
    private static Span<double> Workspace(long length)
    {
        if (length > Array.MaxLength) throw new OutOfMemoryException();
        if (t_workspace is { } w && w.Length >= length) return w.AsSpan(0, (int)length);
        var a = new double[length];
        if (length <= RetainedWorkspace) t_workspace = a;
        return a;
    }

    private static KernelSpec Spec(int depth, byte* activation, double beta, double weightStd, int trainableFrom = 0, int quadratureDegree = 0)
    {
        if (depth < 1 || depth > MaxDepth) throw Bad($"depth = {depth}: the number of weight layers must be in [1, {MaxDepth}]");
        Activation act = ActivationRegistry.Parse(Utf8(activation, "activation"));
        Finite(beta, "beta", nonNegative: true);
        Finite(weightStd, "weight_std", nonNegative: true);
        if (trainableFrom < 0 || trainableFrom >= depth) throw Bad($"trainable_from = {trainableFrom}: must be in [0, depth − 1 = {depth - 1}]");
        int? q = null;
        if (quadratureDegree != 0)
        {
            if (act.HasClosedFormDual) throw Bad($"quadrature_degree = {quadratureDegree}: '{act.Name}' has a closed-form dual kernel (exact); pass 0");
            if (quadratureDegree < KernelSpec.MinQuadratureDegree || quadratureDegree > KernelSpec.MaxQuadratureDegree)
                throw Bad($"quadrature_degree = {quadratureDegree}: must be 0 (the default rule) or in [{KernelSpec.MinQuadratureDegree}, {KernelSpec.MaxQuadratureDegree}]");
            q = quadratureDegree;
        }
        return new KernelSpec(depth, act, beta, weightStd, trainableFrom, q);
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_kernel_ex")]
    public static int KernelEx(double* x1, long n1, long ldX1, double* x2, long n2, long ldX2, long d,
        int depth, byte* activation, double beta, double weightStd, int trainableFrom, int quadratureDegree,
        double* ntk, long ldNtk, double* nngp, long ldNngp)
    {
        try
        {
            KernelCore(x1, n1, ldX1, x2, n2, ldX2, d, depth, activation, beta, weightStd, ntk, ldNtk, nngp, ldNngp, trainableFrom, quadratureDegree);
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_arch_kernel")]
    public static int ArchKernel(byte* spec, double beta, double weightStd,
        double* x1, long n1, double* x2, long n2, long height, long width, long channels,
        double* ntk, long ldNtk, double* nngp, long ldNngp)
    {
        try
        {
            ArchKernelCore(spec, beta, weightStd, x1, n1, x2, n2, height, width, channels, ntk, ldNtk, nngp, ldNngp);
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    internal static void ArchKernelCore(byte* spec, double beta, double weightStd,
        double* x1, long n1, double* x2, long n2, long height, long width, long channels,
        double* ntk, long ldNtk, double* nngp, long ldNngp)
    {
        Finite(beta, "beta", nonNegative: true);
        Finite(weightStd, "weight_std", nonNegative: true);
        var arch = NtkFast.Architectures.Architecture.Parse(Utf8(spec, "arch"), weightStd, beta);
        int h = Count(height, "height", 1), w = Count(width, "width", 1), c = Count(channels, "channels", 1);
        long stride = (long)h * w * c;
        if (stride > int.MaxValue) throw Bad($"an image of {h}×{w}×{c} values is too large");
        int rows = Count(n1, "n1"), cols = Count(n2, "n2");
        bool same = x2 is null;
        if (same && n2 != n1) throw Bad($"x2 is NULL (X2 = X1) but n2 = {n2} differs from n1 = {n1}");
        if (ntk is null && nngp is null) throw Bad("ntk and nngp are both NULL: nothing to compute");
        Output(ntk, n1, n2, ldNtk, "ntk", "n1", "n2", "ld_ntk", out Span<double> ntkOut);
        Output(nngp, n1, n2, ldNngp, "nngp", "n1", "n2", "ld_nngp", out Span<double> nngpOut);
        double[] a = InputCopy(x1, n1, stride, stride, "x1", "n1", "height*width*channels", "height*width*channels");
        double[]? b = same ? null : InputCopy(x2, n2, stride, stride, "x2", "n2", "height*width*channels", "height*width*channels");
        // the shape is checked against the architecture even when there is nothing to compute
        NtkFast.Architectures.ArchitectureNetwork.Initialize(arch, h, w, c, 0);
        if (rows == 0 || cols == 0) return;
        var xs = new NtkFast.Architectures.ImageSet(a, rows, h, w, c);
        var x2s = b is null ? null : new NtkFast.Architectures.ImageSet(b, cols, h, w, c);
        var outputs = (ntk is not null ? KernelOutputs.Ntk : KernelOutputs.None) | (nngp is not null ? KernelOutputs.Nngp : KernelOutputs.None);
        KernelResult r = NtkFast.Architectures.ArchitectureKernels.Compute(arch, xs, x2s, outputs);
        if (r.Ntk is { } t) Store(t.Data, rows, cols, ntkOut, (int)ldNtk);
        if (r.Nngp is { } g) Store(g.Data, rows, cols, nngpOut, (int)ldNngp);
    }

    // ---- finite networks ----

    [UnmanagedCallersOnly(EntryPoint = "ntk_mlp_parameter_count")]
    public static int MlpParameterCount(long* widths, long nWidths, long* count)
    {
        try
        {
            if (count is null) throw Bad("count is NULL");
            *count = new MlpArchitecture(Widths(widths, nWidths), Identity.Instance).ParameterCount;
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_mlp_init")]
    public static int MlpInit(long* widths, long nWidths, ulong seed, double* parameters, long nParameters)
    {
        try
        {
            var arch = new MlpArchitecture(Widths(widths, nWidths), Identity.Instance);
            if (nParameters != arch.ParameterCount)
                throw Bad($"n_params = {nParameters}, but widths {string.Join(",", arch.Widths)} have {arch.ParameterCount} parameters");
            if (parameters is null) throw Bad("params is NULL");
            Mlp<double>.Initialize(arch, seed).Parameters.CopyTo(new Span<double>(parameters, arch.ParameterCount));
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_empirical_kernel")]
    public static int EmpiricalKernelExport(long* widths, long nWidths, byte* activation, double beta, double weightStd,
        double* parameters, long nParameters,
        double* x1, long n1, long ldX1, double* x2, long n2, long ldX2,
        double* ntk, long ldNtk, double* nngp, long ldNngp)
    {
        try
        {
            int[] w = Widths(widths, nWidths);
            Activation act = ActivationRegistry.Parse(Utf8(activation, "activation"));
            Finite(beta, "beta", nonNegative: true);
            Finite(weightStd, "weight_std", nonNegative: true);
            var arch = new MlpArchitecture(w, act, beta, weightStd);
            if (nParameters != arch.ParameterCount)
                throw Bad($"n_params = {nParameters}, but widths {string.Join(",", arch.Widths)} have {arch.ParameterCount} parameters");
            double[] theta = InputCopy(parameters, 1, arch.ParameterCount, arch.ParameterCount, "params", "1", "n_params", "n_params");
            var net = new Mlp<double>(arch, theta);
            EmpiricalCore(net, x1, n1, ldX1, x2, n2, ldX2, ntk, ldNtk, nngp, ldNngp);
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "ntk_empirical_kernel_npz")]
    public static int EmpiricalKernelNpz(byte* path, long d,
        double* x1, long n1, long ldX1, double* x2, long n2, long ldX2,
        double* ntk, long ldNtk, double* nngp, long ldNngp)
    {
        try
        {
            MlpFileContents file = MlpFile.Read(Utf8(path, "path"));
            int inputs = file.Architecture.InputWidth;
            if (d != inputs) throw Bad($"d = {d}, but the network in the file has {inputs} inputs");
            // As `ntk empirical`: a float32 file computes in float32 (kernels accumulated in float64).
            if (file.IsFloat32) EmpiricalCore(file.ToNetwork<float>(), x1, n1, ldX1, x2, n2, ldX2, ntk, ldNtk, nngp, ldNngp);
            else EmpiricalCore(file.ToNetwork<double>(), x1, n1, ldX1, x2, n2, ldX2, ntk, ldNtk, nngp, ldNngp);
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    private static void EmpiricalCore<T>(Mlp<T> net, double* x1, long n1, long ldX1, double* x2, long n2, long ldX2,
        double* ntk, long ldNtk, double* nngp, long ldNngp)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int d = net.Architecture.InputWidth;
        double[] a = InputCopy(x1, n1, d, ldX1, "x1", "n1", "d (the network's input width)", "ld_x1");
        bool same = x2 is null;
        if (same && n2 != n1) throw Bad($"x2 is NULL (X2 = X1) but n2 = {n2} differs from n1 = {n1}");
        double[] b = same ? [] : InputCopy(x2, n2, d, ldX2, "x2", "n2", "d (the network's input width)", "ld_x2");
        int rows = Count(n1, "n1"), cols = Count(n2, "n2");
        if (ntk is null && nngp is null) throw Bad("ntk and nngp are both NULL: nothing to compute");
        Output(ntk, n1, n2, ldNtk, "ntk", "n1", "n2", "ld_ntk", out Span<double> ntkOut);
        Output(nngp, n1, n2, ldNngp, "nngp", "n1", "n2", "ld_nngp", out Span<double> nngpOut);
        if (rows == 0 || cols == 0) return;
        T[] xa = EmpiricalInput<T>(a), xb = EmpiricalInput<T>(b);
        EmpiricalKernelResult r = EmpiricalKernel.Compute(net, xa, xb, EmpiricalOutputs.Trace, 0, nngp is not null);
        if (ntk is not null) Store(r.Ntk, rows, cols, ntkOut, (int)ldNtk);
        if (nngp is not null) Store(r.Nngp!, rows, cols, nngpOut, (int)ldNngp);
    }

    private static T[] EmpiricalInput<T>(double[] x) where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(double)) return (T[])(object)x;
        var r = new T[x.Length];
        for (int i = 0; i < x.Length; i++) r[i] = T.CreateTruncating(x[i]);
        return r;
    }

    // ---- function-space dynamics ----

    [UnmanagedCallersOnly(EntryPoint = "ntk_predict")]
    public static int Predict(double* kTrain, long n, long ldKTrain, double* kTest, long m, long ldKTest,
        double* y, long k, long ldY, double t, double ridge, double* mean, long ldMean,
        double* sTrain, long ldSTrain, double* sTestTrain, long ldSTestTrain, double* sTestDiag, double* variance)
    {
        try
        {
            PredictCore(kTrain, n, ldKTrain, kTest, m, ldKTest, y, k, ldY, t, ridge, mean, ldMean,
                sTrain, ldSTrain, sTestTrain, ldSTestTrain, sTestDiag, variance);
            return LastError.Ok();
        }
        catch (Exception e)
        {
            return LastError.Fail(e);
        }
    }

    internal static void PredictCore(double* kTrain, long n, long ldKTrain, double* kTest, long m, long ldKTest,
        double* y, long k, long ldY, double t, double ridge, double* mean, long ldMean,
        double* sTrain, long ldSTrain, double* sTestTrain, long ldSTestTrain, double* sTestDiag, double* variance)
    {
        int nn = Count(n, "n", 1), mm = Count(m, "m"), kk = Count(k, "k", 1);
        if (double.IsNaN(t) || t < 0) throw Bad($"t = {Show(t)}: the training time must be >= 0 or +inf (INFINITY)");
        Finite(ridge, "ridge", nonNegative: true);
        var theta = new Matrix(nn, nn, InputCopy(kTrain, n, n, ldKTrain, "k_train", "n", "n", "ld_k_train"));
        var thetaTest = new Matrix(mm, nn, InputCopy(kTest, m, n, ldKTest, "k_test", "m", "n", "ld_k_test"));
        var targets = new Matrix(nn, kk, InputCopy(y, n, k, ldY, "y", "n", "k", "ld_y"));
        if (mean is null) throw Bad("mean is NULL");
        Output(mean, m, k, ldMean, "mean", "m", "k", "ld_mean", out Span<double> meanOut);
        Matrix? sigmaTrain = null, sigmaTestTrain = null, sigmaTest = null;
        if (variance is not null)
        {
            if (sTrain is null || sTestTrain is null || (sTestDiag is null && m > 0))
                throw Bad("variance needs the NNGP kernels: sigma_train (n×n), sigma_test (m×n) and sigma_test_diag (m) must not be NULL");
            sigmaTrain = new Matrix(nn, nn, InputCopy(sTrain, n, n, ldSTrain, "sigma_train", "n", "n", "ld_sigma_train"));
            sigmaTestTrain = new Matrix(mm, nn, InputCopy(sTestTrain, m, n, ldSTestTrain, "sigma_test", "m", "n", "ld_sigma_test"));
            sigmaTest = new Matrix(mm, 1, InputCopy(sTestDiag, m, 1, 1, "sigma_test_diag", "m", "1", "1"));
        }
        if (mm == 0) return;
        var dyn = new KernelDynamics(theta, targets, ridge == 0 ? Regularization.None : Regularization.Relative(ridge));
        if (variance is null)
        {
            Matrix f = dyn.PredictTest(t, thetaTest);
            Store(f.Data, mm, kk, meanOut, (int)ldMean);
            return;
        }
        EnsemblePrediction e = dyn.Ensemble(t, thetaTest, sigmaTrain!, sigmaTestTrain!, sigmaTest!);
        Store(e.Mean.Data, mm, kk, meanOut, (int)ldMean);
        e.Variance.AsSpan(0, mm).CopyTo(new Span<double>(variance, mm));
    }

}
