using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using NtkFast.Networks;
using NtkFast.Numerics;

namespace NtkFast.Architectures;

/// <summary>
/// A finite network of an <see cref="Architecture"/> (dense, conv, activations, average and global
/// average pooling, flatten, residual/sum blocks) on images H×W×C (channels last): seeded
/// initialisation, forward, back-propagation, gradient descent, and its empirical NTK and NNGP —
/// the finite-width counterpart of <see cref="ArchitectureKernels"/>, converging to it as the widths
/// and channel counts grow (docs/notes/arch.md). The precision-independent members are here;
/// <see cref="ArchitectureNetwork{T}"/> holds the parameters in float or double and runs in that precision.
/// <para>Parameterisation, per affine layer (dense or conv) of fan-in n = C_in·K_h·K_w:
/// <b>NTK</b> (the paper's): z = σw/√n · W·x + β·b with trained W, b ~ N(0, 1);
/// <b>standard</b>: z = W·x + b with trained W ~ N(0, σw²/n), b ~ N(0, β²) (no bias when β = 0: b stays 0, unused).
/// Both give the same function at initialisation in distribution and the same NNGP; their NTKs differ
/// exactly as <see cref="ArchitectureKernels"/> computes. SAME padding pads with zeros.</para>
/// <para>Parameters θ are stored layer by layer in the order of the architecture, each affine layer as
/// W[a, b, c_in, c_out] (row-major; a dense layer has a = b = 0) then b[c_out]; θ is initialised from
/// <see cref="GaussianStream"/> with the seed (θ_p = scale_p · z_p) in float64, and a float32 network holds
/// those values rounded. Results are bitwise independent of the thread count and of the instruction-set path:
/// samples are independent, sums over samples are taken in a fixed order, and the dense/conv products
/// (<see cref="AffineKernels{T}"/>) sum every element in a fixed order with separate multiplies and adds.</para>
/// <para><c>trainableFrom</c> = K freezes the first K affine layers (their weights and biases: a prefix of θ),
/// as <see cref="Mlp{T}"/> does for its weight layers: training leaves them unchanged and the empirical NTK
/// sums over the other parameters only. K ranges over [0, <see cref="AffineLayers"/> − 1].</para>
/// </summary>
public abstract class ArchitectureNetwork
{
    private protected readonly ArchProgram _program;
    private protected readonly AffineInfo?[] _affine;
    private protected readonly int[] _lenIn;     // length of the tensor entering each op
    private protected readonly int _inputLength;
    private readonly int[] _affineStarts;
    private protected readonly AffinePlan?[] _plans;    // per op: the index tables of the tiled affine kernels
    private protected int _version;                      // bumped by each batch call: workspaces rebuild their transposed weights

    private protected sealed class AffineInfo
    {
        public int WOffset, BOffset;
        public double WScale, BScale;
    }

    /// <summary>The layout of θ for an architecture on one input shape, and the draw that initialises it.</summary>
    private protected sealed class Layout
    {
        public required ArchProgram Program;
        public required AffineInfo?[] Affine;
        public required int[] LenIn;
        public required int Outputs;
        public required int Count;
        public required List<(long Start, long Count, double Scale)> Inits;
    }

    private protected ArchitectureNetwork(Architecture architecture, Layout layout)
    {
        Architecture = architecture;
        _program = layout.Program;
        _affine = layout.Affine;
        _lenIn = layout.LenIn;
        Outputs = layout.Outputs;
        ParameterCount = layout.Count;
        _inputLength = _program.InputH * _program.InputW * _program.InputC;
        _affineStarts = [.. _affine.Where(a => a is not null).Select(a => a!.WOffset)];
        _plans = [.. _program.Ops.Select(op => op.Kind == OpKind.Affine ? new AffinePlan(op) : null)];
    }

    /// <summary>The architecture the network was built from.</summary>
    public Architecture Architecture { get; }

    /// <summary>
    /// Benchmarks only: run the affine (dense/conv) layers with the reference loops (per output pixel and tap,
    /// TensorPrimitives over the output channels) instead of the register-tiled kernels, to time both in one process.
    /// </summary>
    internal static bool UseReferenceKernels { get; set; }

    /// <summary>Benchmarks only (single thread): when set, Stopwatch ticks per op, forward [0, ops) then backward [ops, 2·ops).</summary>
    internal static long[]? ProfileTicks { get; set; }

    /// <summary>The compiled ops (benchmarks count FLOPs from them).</summary>
    internal IReadOnlyList<Op> CompiledOps => _program.Ops;

    /// <summary>Number of parameters.</summary>
    public int ParameterCount { get; }

    /// <summary>Width of the output (the last layer's channels).</summary>
    public int Outputs { get; }

    /// <summary>Number of affine (dense and conv) layers, the layers <c>trainableFrom</c> counts.</summary>
    public int AffineLayers => _affineStarts.Length;

    /// <summary>Whether the parameters are float32 (<see cref="ArchitectureNetwork{T}"/> of float).</summary>
    public abstract bool IsFloat32 { get; }

    /// <summary>The input shape the network was built for.</summary>
    public (int Height, int Width, int Channels) InputShape => (_program.InputH, _program.InputW, _program.InputC);

    /// <summary>
    /// The index of the first trained parameter when the first <paramref name="trainableFrom"/> affine layers are
    /// frozen (0 for none); throws <see cref="ArgumentOutOfRangeException"/> outside [0, <see cref="AffineLayers"/> − 1].
    /// </summary>
    public int TrainableOffset(int trainableFrom)
    {
        if (trainableFrom < 0 || trainableFrom >= AffineLayers)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"must be in [0, {AffineLayers - 1}] for a network of {AffineLayers} affine layers");
        return _affineStarts[trainableFrom];
    }

    /// <summary>A float64 network of <paramref name="architecture"/> (see <see cref="ArchitectureNetwork{T}.Initialize"/>).</summary>
    public static ArchitectureNetwork<double> Initialize(Architecture architecture, int height, int width, int channels, ulong seed)
        => ArchitectureNetwork<double>.Initialize(architecture, height, width, channels, seed);

    /// <summary>f on every image: N×<see cref="Outputs"/>.</summary>
    public abstract Matrix Forward(ImageSet x);

    /// <summary>
    /// Reusable scratch for one network's batch calls (the overloads taking a workspace: forward, training step, empirical
    /// kernels): one per-sample workspace per worker thread, the training step's block gradients, and the kernels'
    /// Jacobians and products (grown to the largest batch seen and kept). With it, and caller-owned outputs, a batch call
    /// allocates nothing once warm. Made by <see cref="CreateBatchWorkspace"/> of the network it serves; one call at a time.
    /// </summary>
    public abstract class BatchWorkspace
    {
        private protected BatchWorkspace() { }
    }

    /// <summary>A workspace for this network's batch calls (see <see cref="BatchWorkspace"/>).</summary>
    public abstract BatchWorkspace CreateBatchWorkspace();

    /// <summary>f on every image into <paramref name="output"/> (N×<see cref="Outputs"/>, row-major); allocates nothing once <paramref name="workspace"/> is warm.</summary>
    public abstract void Forward(ImageSet x, Span<double> output, BatchWorkspace workspace);

    /// <summary><see cref="TrainStep(ImageSet, Matrix, double, int)"/> with a caller-owned workspace: allocates nothing once it is warm.</summary>
    public abstract double TrainStep(ImageSet x, Matrix y, double learningRate, BatchWorkspace workspace, int trainableFrom = 0);

    /// <summary>
    /// <see cref="EmpiricalKernel(ImageSet, ImageSet?, int)"/> into caller-owned spans: <paramref name="ntk"/> N×M (row-major), and
    /// <paramref name="nngp"/> N×M when it is not empty. Returns whether the NNGP was written (the network ends with a dense
    /// readout and <paramref name="nngp"/> is not empty). Allocates nothing once <paramref name="workspace"/> holds the
    /// Jacobians of the largest batch (it keeps them: (N + M)·K·P values).
    /// </summary>
    public abstract bool EmpiricalKernel(ImageSet x, ImageSet? x2, Span<double> ntk, Span<double> nngp, BatchWorkspace workspace, int trainableFrom = 0);

    /// <summary>Whether the network ends with a dense readout, so that its empirical NNGP exists.</summary>
    public bool HasEmpiricalNngp => _affine[^1] is not null && _program.Ops[^1].Pin == 1;

    /// <summary>
    /// One step of full-batch gradient descent on C(θ) = 1/(2N) Σ_i ‖f(x_i) − y_i‖² (docs/design.md §1) with
    /// learning rate <paramref name="learningRate"/>, the first <paramref name="trainableFrom"/> affine layers
    /// frozen; returns C before the step. <paramref name="y"/> is N×<see cref="Outputs"/>.
    /// </summary>
    public abstract double TrainStep(ImageSet x, Matrix y, double learningRate, int trainableFrom = 0);

    /// <summary>
    /// The empirical NTK Θ̂(x_i, x2_j) = (1/K) Σ_k ∂f_k(x_i)/∂θ · ∂f_k(x2_j)/∂θ over the trained parameters
    /// (the trace over the K outputs, normalised: it converges to the scalar Θ of <see cref="ArchitectureKernels"/>),
    /// and, when the network ends with a dense readout, the empirical NNGP σw²/n · h(x)·h(x2) + β² of its last
    /// hidden features h (null otherwise). <paramref name="x2"/> null: X2 = X. From per-sample Jacobians
    /// (N·K·P values) and one matrix product, in the network's precision; returned in float64.
    /// </summary>
    public abstract (Matrix Ntk, Matrix? Nngp) EmpiricalKernel(ImageSet x, ImageSet? x2 = null, int trainableFrom = 0);

    /// <summary>Whether every parameter is finite.</summary>
    public abstract bool HasFiniteParameters();

    /// <summary>The same network in <typeparamref name="TOut"/> (float64 → float32 rounds each parameter).</summary>
    public abstract ArchitectureNetwork<TOut> ConvertTo<TOut>() where TOut : unmanaged, IFloatingPointIeee754<TOut>;

    private protected static Layout Compile(Architecture architecture, int height, int width, int channels)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        if (height < 1 || width < 1 || channels < 1) throw new ArchitectureException($"input shape {height}×{width}×{channels} must be positive");
        ArchProgram program = ArchProgram.Compile(architecture, height, width, channels);
        Op[] ops = program.Ops;
        var affine = new AffineInfo?[ops.Length];
        var lenIn = new int[ops.Length];
        var slotLen = new int[Math.Max(program.Slots, 1)];
        long count = 0;
        int len = height * width * channels, outputs = channels;
        bool standard = architecture.Parameterization == Parameterization.Standard;
        var inits = new List<(long Start, long Count, double Scale)>();
        for (int i = 0; i < ops.Length; i++)
        {
            Op op = ops[i];
            lenIn[i] = len;
            switch (op.Kind)
            {
                case OpKind.Affine:
                {
                    long wCount = (long)op.Kh * op.Kw * op.Cin * op.Cout;
                    double sw = Math.Sqrt(op.W2), beta = Math.Sqrt(op.B2);
                    var info = new AffineInfo
                    {
                        WOffset = checked((int)count), BOffset = checked((int)(count + wCount)),
                        WScale = standard ? 1 : sw / Math.Sqrt(op.FanIn),
                        // standard with β = 0: there is no bias (z = W·x), as in the kernel recursion; b stays 0 and has no effect
                        BScale = standard ? (beta > 0 ? 1 : 0) : beta,
                    };
                    inits.Add((count, wCount, standard ? sw / Math.Sqrt(op.FanIn) : 1));
                    inits.Add((count + wCount, op.Cout, standard ? beta : 1));
                    count += wCount + op.Cout;
                    if (count > Array.MaxLength) throw new ArchitectureException($"the network has more than {Array.MaxLength} parameters");
                    affine[i] = info;
                    len = op.Pout * op.Cout;
                    outputs = op.Cout;
                    break;
                }
                case OpKind.Activation: break;
                case OpKind.Pool or OpKind.MaxPool: len = op.Pout * op.Cout; break;
                case OpKind.Gap: len = op.Cout; outputs = op.Cout; break;
                case OpKind.Flatten: len = op.Cout; outputs = op.Cout; break;
                case OpKind.Save: slotLen[op.Slot] = len; break;
                case OpKind.Load: len = slotLen[op.Slot]; break;
                case OpKind.Accumulate: slotLen[op.Slot] = len; break;
            }
        }
        return new Layout { Program = program, Affine = affine, LenIn = lenIn, Outputs = outputs, Count = (int)count, Inits = inits };
    }
}

/// <summary>
/// A finite network of an <see cref="Architecture"/> with parameters and arithmetic in <typeparamref name="T"/>
/// (float or double); see <see cref="ArchitectureNetwork"/> for the parameterisation and the layout of θ.
/// </summary>
public sealed class ArchitectureNetwork<T> : ArchitectureNetwork where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _wScale, _bScale; // per op: the affine scales in T

    private ArchitectureNetwork(Architecture architecture, Layout layout, T[] parameters) : base(architecture, layout)
    {
        NetworkOps.CheckType<T>();
        Parameters = parameters;
        _wScale = [.. _affine.Select(a => a is null ? T.Zero : T.CreateTruncating(a.WScale))];
        _bScale = [.. _affine.Select(a => a is null ? T.Zero : T.CreateTruncating(a.BScale))];
    }

    /// <summary>The trained parameters θ (see <see cref="ArchitectureNetwork"/> for their layout); change them freely.</summary>
    public T[] Parameters { get; }

    /// <inheritdoc/>
    public override bool IsFloat32 => typeof(T) == typeof(float);

    /// <summary>
    /// A network of <paramref name="architecture"/> for inputs of <paramref name="height"/>×<paramref name="width"/>×<paramref name="channels"/>
    /// (N×d points: 1×1×d), parameters drawn from the stream of <paramref name="seed"/> (in float64; a float32
    /// network rounds them). Bad shapes throw <see cref="ArchitectureException"/> with one line, as for the infinite-width kernels.
    /// </summary>
    public static new ArchitectureNetwork<T> Initialize(Architecture architecture, int height, int width, int channels, ulong seed)
    {
        Layout layout = Compile(architecture, height, width, channels);
        var theta = new double[layout.Count];
        GaussianStream.Fill(seed, 0, theta);
        foreach ((long start, long n, double scale) in layout.Inits)
            if (scale != 1) TensorPrimitives.Multiply(theta.AsSpan((int)start, (int)n), scale, theta.AsSpan((int)start, (int)n));
        return new ArchitectureNetwork<T>(architecture, layout, ToT(theta));
    }

    /// <summary>A network of the architecture and shape with the given parameters (copied; <see cref="ArchitectureNetwork.ParameterCount"/> values).</summary>
    public static ArchitectureNetwork<T> FromParameters(Architecture architecture, int height, int width, int channels, ReadOnlySpan<T> parameters)
    {
        Layout layout = Compile(architecture, height, width, channels);
        if (parameters.Length != layout.Count) throw new ArgumentException($"{parameters.Length} parameters, the architecture on {height}×{width}×{channels} inputs has {layout.Count}", nameof(parameters));
        return new ArchitectureNetwork<T>(architecture, layout, parameters.ToArray());
    }

    /// <inheritdoc/>
    public override ArchitectureNetwork<TOut> ConvertTo<TOut>()
    {
        var p = new TOut[Parameters.Length];
        for (int i = 0; i < p.Length; i++) p[i] = TOut.CreateTruncating(Parameters[i]);
        (int h, int w, int c) = InputShape;
        return ArchitectureNetwork<TOut>.FromParameters(Architecture, h, w, c, p);
    }

    /// <inheritdoc/>
    public override bool HasFiniteParameters() => Array.TrueForAll(Parameters, T.IsFinite);

    private static T[] ToT(ReadOnlySpan<double> v)
    {
        if (typeof(T) == typeof(double)) return MemoryMarshal.Cast<double, T>(v).ToArray();
        var r = new T[v.Length];
        for (int i = 0; i < r.Length; i++) r[i] = T.CreateTruncating(v[i]);
        return r;
    }

    private static void Load(ReadOnlySpan<double> src, Span<T> dst)
    {
        if (typeof(T) == typeof(double)) MemoryMarshal.Cast<double, T>(src).CopyTo(dst);
        else for (int i = 0; i < dst.Length; i++) dst[i] = T.CreateTruncating(src[i]);
    }

    /// <summary>Scratch for one sample: every op's input and gradient; reuse it across calls (one per thread).</summary>
    public sealed class Workspace
    {
        internal readonly T[][] Out, Grad, Inputs, GradSlot;
        internal readonly T[]?[] Slot;
        internal readonly bool[] GradSlotLive;
        internal readonly int[][] ArgMax;
        internal readonly T[] Image;
        internal readonly T[][] XPad;   // per affine op: s_w·input in the zero-bordered layout of its AffinePlan
        internal readonly T[][] WT;     // per affine op: s_w·W transposed to [tap, c_out, c_in] (for the input gradient)
        internal readonly T[] GPad;     // the input gradient of one affine op in the padded layout
        internal readonly T[] Seed;     // the output weights of one backward pass
        internal int WTVersion = -1;

        internal Workspace(ArchitectureNetwork<T> net)
        {
            Op[] ops = net._program.Ops;
            Out = new T[ops.Length][];
            Grad = new T[ops.Length + 1][];
            for (int i = 0; i < ops.Length; i++)
            {
                int outLen = i + 1 < ops.Length ? net._lenIn[i + 1] : net.Outputs;
                Out[i] = ops[i].Kind is OpKind.Save or OpKind.Load or OpKind.Flatten ? [] : new T[outLen];
                Grad[i] = new T[net._lenIn[i]];
            }
            Grad[ops.Length] = new T[net.Outputs];
            int slots = Math.Max(net._program.Slots, 1), maxLen = Math.Max(net.Outputs, net._lenIn.Max());
            Slot = new T[slots][];
            GradSlot = new T[slots][];
            for (int s = 0; s < slots; s++) GradSlot[s] = net._program.Slots > 0 ? new T[maxLen] : [];
            GradSlotLive = new bool[slots];
            Inputs = new T[ops.Length][];
            Image = new T[net._inputLength];
            ArgMax = new int[ops.Length][];
            for (int i = 0; i < ops.Length; i++) ArgMax[i] = ops[i].Kind == OpKind.MaxPool ? new int[ops[i].Pout * ops[i].Cout] : [];
            XPad = new T[ops.Length][];
            WT = new T[ops.Length][];
            int gpad = 0;
            for (int i = 0; i < ops.Length; i++)
            {
                AffinePlan? plan = net._plans[i];
                XPad[i] = plan is null ? [] : new T[plan.PadLength];
                WT[i] = plan is null || i == 0 ? [] : new T[plan.Taps * plan.Cin * plan.Cout];
                if (plan is not null && i > 0) gpad = Math.Max(gpad, plan.PadLength);
            }
            GPad = new T[gpad];
            Seed = new T[net.Outputs];
        }
    }

    /// <summary>A workspace for <see cref="Forward(ReadOnlySpan{T}, Span{T}, Workspace)"/> and <see cref="Gradient"/>.</summary>
    public Workspace CreateWorkspace() => new(this);

    /// <summary>f(x) of one image (H·W·C values, channels last) into <paramref name="output"/> (<see cref="ArchitectureNetwork.Outputs"/> values).</summary>
    public void Forward(ReadOnlySpan<T> image, Span<T> output, Workspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (image.Length != _inputLength) throw new ArgumentException($"image has {image.Length} values, expected {_inputLength}", nameof(image));
        if (output.Length != Outputs) throw new ArgumentException($"output has {output.Length} values, expected {Outputs}", nameof(output));
        image.CopyTo(workspace.Image);
        RunForward(workspace.Image, workspace).AsSpan(0, Outputs).CopyTo(output);
    }

    /// <inheritdoc/>
    public override BatchWorkspace CreateBatchWorkspace() => new Batch(this);

    /// <inheritdoc/>
    public override Matrix Forward(ImageSet x)
    {
        CheckShape(x, nameof(x));
        var result = new Matrix(x.Count, Outputs);
        Batch b = TakeSpare();
        try { Forward(x, result.Data, b); }
        finally { ReturnSpare(b); }
        return result;
    }

    /// <inheritdoc/>
    public override unsafe void Forward(ImageSet x, Span<double> output, BatchWorkspace workspace)
    {
        CheckShape(x, nameof(x));
        Batch b = Own(workspace);
        if (output.Length != (long)x.Count * Outputs) throw new ArgumentException($"output has {output.Length} values, expected {x.Count}×{Outputs}", nameof(output));
        fixed (double* po = output)
        {
            var action = new ForwardAction { B = b, X = x.Data, Stride = x.Stride, K = Outputs, Out = po };
            ForSamples(b, x.Count, ref action);
        }
    }

    /// <summary>
    /// Σ_k w_k ∂f_k(x)/∂θ into <paramref name="gradient"/> (overwritten; <see cref="ArchitectureNetwork.ParameterCount"/> values):
    /// with w = e_k, the Jacobian row of output k; with w = f(x) − y, the gradient of ½‖f(x) − y‖².
    /// Also returns f(x) in <paramref name="output"/> when it is not empty.
    /// </summary>
    public void Gradient(ReadOnlySpan<T> image, ReadOnlySpan<T> outputWeights, Span<T> gradient, Workspace workspace, Span<T> output = default)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (image.Length != _inputLength) throw new ArgumentException($"image has {image.Length} values, expected {_inputLength}", nameof(image));
        if (outputWeights.Length != Outputs) throw new ArgumentException($"{outputWeights.Length} output weights, expected {Outputs}", nameof(outputWeights));
        if (gradient.Length != ParameterCount) throw new ArgumentException($"gradient has {gradient.Length} values, expected {ParameterCount}", nameof(gradient));
        image.CopyTo(workspace.Image);
        Interlocked.Increment(ref _version); // the parameters may have changed since the workspace's last call
        T[] y = RunForward(workspace.Image, workspace);
        if (!output.IsEmpty) y.AsSpan(0, Outputs).CopyTo(output);
        gradient.Clear();
        RunBackward(outputWeights, gradient, workspace);
    }

    /// <inheritdoc/>
    public override double TrainStep(ImageSet x, Matrix y, double learningRate, int trainableFrom = 0)
    {
        Batch b = TakeSpare();
        try { return TrainStep(x, y, learningRate, b, trainableFrom); }
        finally { ReturnSpare(b); }
    }

    /// <summary>Samples per block of <see cref="TrainStep(ImageSet, Matrix, double, BatchWorkspace, int)"/>: at most this many blocks.</summary>
    private const int TrainBlocks = 16;

    /// <inheritdoc/>
    public override double TrainStep(ImageSet x, Matrix y, double learningRate, BatchWorkspace workspace, int trainableFrom = 0)
    {
        CheckShape(x, nameof(x));
        ArgumentNullException.ThrowIfNull(y);
        if (y.Rows != x.Count || y.Cols != Outputs) throw new ArgumentException($"targets are {y.Rows}×{y.Cols}, expected {x.Count}×{Outputs}", nameof(y));
        if (!double.IsFinite(learningRate) || learningRate <= 0) throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "learning rate must be finite and positive");
        Batch bw = Own(workspace);
        int frozen = TrainableOffset(trainableFrom);
        int n = x.Count, p = ParameterCount;
        Interlocked.Increment(ref _version);
        // fixed blocks of samples, summed in block order: the same bits for every thread count
        int blocks = Math.Min(n, TrainBlocks);
        if (bw.Gradients.Length < blocks)
        {
            int had = bw.Gradients.Length;
            Array.Resize(ref bw.Gradients, blocks);
            for (int b = had; b < blocks; b++) bw.Gradients[b] = new T[p];
        }
        var action = new TrainAction { B = bw, X = x.Data, Y = y.Data, N = n, Blocks = blocks, Stride = x.Stride, K = Outputs, Frozen = frozen };
        ForSamples(bw, blocks, ref action);
        T[][] partial = bw.Gradients;
        double total = 0;
        for (int b = 1; b < blocks; b++) TensorPrimitives.Add(partial[0], partial[b], partial[0]);
        for (int b = 0; b < blocks; b++) total += bw.Cost[b];
        Span<T> trained = Parameters.AsSpan(frozen);
        TensorPrimitives.MultiplyAdd(partial[0].AsSpan(frozen), T.CreateTruncating(-learningRate / n), trained, trained);
        return total / (2.0 * n);
    }

    /// <inheritdoc/>
    public override (Matrix Ntk, Matrix? Nngp) EmpiricalKernel(ImageSet x, ImageSet? x2 = null, int trainableFrom = 0)
    {
        CheckKernelArguments(x, x2, trainableFrom);
        int m = (x2 ?? x).Count;
        var ntk = new Matrix(x.Count, m);
        Matrix? nngp = HasEmpiricalNngp ? new Matrix(x.Count, m) : null;
        Batch b = TakeSpare();
        try { EmpiricalKernel(x, x2, ntk.Data, nngp is null ? default : nngp.Data, b, trainableFrom); }
        finally { ReturnSpare(b); }
        return (ntk, nngp);
    }

    private int CheckKernelArguments(ImageSet x, ImageSet? x2, int trainableFrom)
    {
        CheckShape(x, nameof(x));
        if (x2 is not null) CheckShape(x2, nameof(x2));
        int frozen = TrainableOffset(trainableFrom);
        if ((long)(x.Count + (x2?.Count ?? 0)) * Outputs * ParameterCount > Array.MaxLength)
            throw new ArchitectureException($"the Jacobians of {x.Count + (x2?.Count ?? 0)} points × {Outputs} outputs × {ParameterCount} parameters do not fit in one array; use fewer points per call (tiles)");
        return frozen;
    }

    /// <inheritdoc/>
    public override bool EmpiricalKernel(ImageSet x, ImageSet? x2, Span<double> ntk, Span<double> nngp, BatchWorkspace workspace, int trainableFrom = 0)
    {
        int frozen = CheckKernelArguments(x, x2, trainableFrom);
        Batch bw = Own(workspace);
        ImageSet other = x2 ?? x;
        int k = Outputs, p = ParameterCount, n = x.Count, m = other.Count;
        if (ntk.Length != (long)n * m) throw new ArgumentException($"ntk has {ntk.Length} values, expected {n}×{m}", nameof(ntk));
        if (!nngp.IsEmpty && nngp.Length != (long)n * m) throw new ArgumentException($"nngp has {nngp.Length} values, expected {n}×{m} (or none)", nameof(nngp));
        T[] ja = Jacobian(bw, x, frozen, Batch.Grow(ref bw.JacobianA, (long)n * k * p));
        T[] jb = x2 is null ? ja : Jacobian(bw, x2, frozen, Batch.Grow(ref bw.JacobianB, (long)m * k * p));
        Span<T> full = Batch.Grow(ref bw.Full, (long)n * k * m * k).AsSpan(0, n * k * m * k);
        // the frozen parameters are a prefix of θ: the product runs over the trained columns only
        NetworkOps.Gemm<T>(NtkFast.Numerics.Op.None, NtkFast.Numerics.Op.Transpose, n * k, m * k, p - frozen, 1.0,
            ja.AsSpan(frozen), p, jb.AsSpan(frozen), p, 0.0, full, m * k);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++)
            {
                double s = 0;
                for (int q = 0; q < k; q++) s += double.CreateTruncating(full[(i * k + q) * m * k + j * k + q]);
                ntk[i * m + j] = s / k;
            }
        if (nngp.IsEmpty || !HasEmpiricalNngp) return false;
        Nngp(bw, x, other, nngp);
        return true;
    }

    private void Nngp(Batch bw, ImageSet x, ImageSet other, Span<double> s)
    {
        Op[] ops = _program.Ops;
        int last = ops.Length - 1;
        int d = ops[last].Cin;
        T[] ha = Features(bw, x, last, d, Batch.Grow(ref bw.FeaturesA, (long)x.Count * d));
        T[] hb = ReferenceEquals(x, other) ? ha : Features(bw, other, last, d, Batch.Grow(ref bw.FeaturesB, (long)other.Count * d));
        Span<T> prod = Batch.Grow(ref bw.Product, s.Length).AsSpan(0, s.Length);
        // in either parameterisation the readout's weights are N(0, σw²/n) and its bias N(0, β²) in function terms
        double w2 = ops[last].W2 / ops[last].FanIn, b2 = ops[last].B2;
        NetworkOps.Gemm<T>(NtkFast.Numerics.Op.None, NtkFast.Numerics.Op.Transpose, x.Count, other.Count, d, w2, ha, d, hb, d, 0.0, prod, other.Count);
        for (int i = 0; i < s.Length; i++) s[i] = double.CreateTruncating(prod[i]) + b2;
    }

    /// <summary>The input of op <paramref name="op"/> (its first <paramref name="d"/> values) of every image, into <paramref name="h"/>.</summary>
    private T[] Features(Batch bw, ImageSet x, int op, int d, T[] h)
    {
        var action = new FeaturesAction { B = bw, X = x.Data, Stride = x.Stride, Op = op, D = d, H = h };
        ForSamples(bw, x.Count, ref action);
        return h;
    }

    /// <summary>Rows (sample i, output k) of ∂f_k(x_i)/∂θ: (N·K)×P, into <paramref name="j"/>.</summary>
    private T[] Jacobian(Batch bw, ImageSet x, int frozen, T[] j)
    {
        Interlocked.Increment(ref _version);
        var action = new JacobianAction { B = bw, X = x.Data, Stride = x.Stride, K = Outputs, P = ParameterCount, Frozen = frozen, J = j };
        ForSamples(bw, x.Count, ref action);
        return j;
    }

    private void CheckShape(ImageSet x, string name)
    {
        ArgumentNullException.ThrowIfNull(x, name);
        if (x.Height != _program.InputH || x.Width != _program.InputW || x.Channels != _program.InputC)
            throw new ArchitectureException($"{name}: images are {x.ShapeString}, the network was built for {_program.InputH}×{_program.InputW}×{_program.InputC}");
    }

    /// <summary>What <see cref="ArchitectureNetwork.BatchWorkspace"/> holds for this network.</summary>
    private sealed class Batch : BatchWorkspace
    {
        internal readonly ArchitectureNetwork<T> Net;
        internal Workspace?[] Spaces = [];          // per worker, made on first use
        internal T[][] Gradients = [];              // TrainStep: per block, Σ over its samples of (f − y)ᵀ ∂f/∂θ
        internal readonly double[] Cost = new double[TrainBlocks];
        internal T[] JacobianA = [], JacobianB = [], Full = [], FeaturesA = [], FeaturesB = [], Product = [];

        internal Batch(ArchitectureNetwork<T> net) => Net = net;

        internal Workspace Space(int worker) => Spaces[worker] ??= new Workspace(Net);

        /// <summary><paramref name="buffer"/>, replaced by a new array when it holds fewer than <paramref name="length"/> values.</summary>
        internal static T[] Grow(ref T[] buffer, long length)
        {
            if (buffer.LongLength < length) buffer = new T[length];
            return buffer;
        }

        /// <summary>Drops the kernels' buffers (the allocating overloads keep a workspace for the next call, but not these: (N + M)·K·P values).</summary>
        internal void ReleaseKernelBuffers()
        {
            JacobianA = []; JacobianB = []; Full = []; FeaturesA = []; FeaturesB = []; Product = [];
        }
    }

    private Batch Own(BatchWorkspace workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        return workspace is Batch b && ReferenceEquals(b.Net, this) ? b
            : throw new ArgumentException("the workspace was made by another network's CreateBatchWorkspace", nameof(workspace));
    }

    // The workspace of the last allocating batch call, kept for the next one: a training loop allocates no buffers per
    // step. Taken with an exchange, so concurrent calls on one network each get their own.
    private Batch? _spareBatch;

    private Batch TakeSpare() => Interlocked.Exchange(ref _spareBatch, null) ?? new Batch(this);

    private void ReturnSpare(Batch b)
    {
        b.ReleaseKernelBuffers();
        Volatile.Write(ref _spareBatch, b);
    }

    /// <summary>Runs <paramref name="action"/> on samples (or blocks) 0 … count − 1, each worker with its own workspace of <paramref name="b"/>.</summary>
    private static void ForSamples<TAction>(Batch b, int count, ref TAction action) where TAction : struct, IParallelWorkerAction
    {
        int workers = Math.Max(1, Math.Min(NtkParallel.MaxThreads, count));
        if (b.Spaces.Length < workers) Array.Resize(ref b.Spaces, workers);
        NtkParallel.ForWithWorker(count, workers, ref action);
    }

    // The batch loops' bodies: structs, so a parallel loop allocates no closure (NtkParallel's struct overloads).

    private unsafe struct ForwardAction : IParallelWorkerAction
    {
        public Batch B;
        public double[] X;
        public int Stride, K;
        public double* Out;

        public readonly void Invoke(int worker, int i)
        {
            Workspace ws = B.Space(worker);
            Load(X.AsSpan(i * Stride, Stride), ws.Image);
            T[] f = B.Net.RunForward(ws.Image, ws);
            for (int q = 0; q < K; q++) Out[(long)i * K + q] = double.CreateTruncating(f[q]);
        }
    }

    private struct TrainAction : IParallelWorkerAction
    {
        public Batch B;
        public double[] X, Y;
        public int N, Blocks, Stride, K, Frozen;

        public readonly void Invoke(int worker, int b)
        {
            Workspace ws = B.Space(worker);
            T[] g = B.Gradients[b]; // Σ over the block's samples of (f − y)ᵀ ∂f/∂θ: back-propagation accumulates into it
            Array.Clear(g);
            T[] r = ws.Seed;
            double c = 0;
            for (int i = (int)((long)N * b / Blocks); i < (int)((long)N * (b + 1) / Blocks); i++)
            {
                Load(X.AsSpan(i * Stride, Stride), ws.Image);
                T[] f = B.Net.RunForward(ws.Image, ws);
                for (int j = 0; j < K; j++)
                {
                    r[j] = f[j] - T.CreateTruncating(Y[i * K + j]);
                    double rj = double.CreateTruncating(r[j]);
                    c += rj * rj;
                }
                B.Net.RunBackward(r, g, ws, Frozen);
            }
            B.Cost[b] = c;
        }
    }

    private struct JacobianAction : IParallelWorkerAction
    {
        public Batch B;
        public double[] X;
        public int Stride, K, P, Frozen;
        public T[] J;

        public readonly void Invoke(int worker, int i)
        {
            // one forward per sample, then one backward per output (back-propagation leaves the forward state)
            Workspace ws = B.Space(worker);
            Load(X.AsSpan(i * Stride, Stride), ws.Image);
            B.Net.RunForward(ws.Image, ws);
            T[] w = ws.Seed;
            for (int q = 0; q < K; q++)
            {
                Array.Clear(w);
                w[q] = T.One;
                Span<T> row = J.AsSpan((int)(((long)i * K + q) * P), P);
                row.Clear(); // back-propagation adds to the row (the buffer is reused)
                B.Net.RunBackward(w, row, ws, Frozen);
            }
        }
    }

    private struct FeaturesAction : IParallelWorkerAction
    {
        public Batch B;
        public double[] X;
        public int Stride, Op, D;
        public T[] H;

        public readonly void Invoke(int worker, int i)
        {
            Workspace ws = B.Space(worker);
            Load(X.AsSpan(i * Stride, Stride), ws.Image);
            B.Net.RunForward(ws.Image, ws);
            ws.Inputs[Op].AsSpan(0, D).CopyTo(H.AsSpan(i * D, D));
        }
    }

    private T[] RunForward(T[] image, Workspace ws)
    {
        Op[] ops = _program.Ops;
        // every op's input is kept (a reference: the image, an op's output or a slot) for back-propagation
        T[][] inputs = ws.Inputs;
        T[] cur = image;
        for (int i = 0; i < ops.Length; i++)
        {
            Op op = ops[i];
            long t0 = ProfileTicks is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            inputs[i] = cur;
            T[] o = ws.Out[i];
            switch (op.Kind)
            {
                case OpKind.Affine:
                    if (UseReferenceKernels) AffineForwardReference(op, _affine[i]!, _wScale[i], _bScale[i], cur, o);
                    else AffineForward(i, op, _affine[i]!, cur, o, ws);
                    cur = o;
                    break;
                case OpKind.Activation: NetworkOps.Forward<T>(op.Act!, cur.AsSpan(0, _lenIn[i]), o); cur = o; break;
                case OpKind.Pool: PoolForward(op, cur, o); cur = o; break;
                case OpKind.MaxPool: MaxPoolForward(op, cur, o, ws.ArgMax[i]); cur = o; break;
                case OpKind.Gap: GapForward(op, cur, o); cur = o; break;
                case OpKind.Flatten: break; // channels-last H×W×C is already the flat vector
                case OpKind.Save: ws.Slot[op.Slot] = cur; break;
                case OpKind.Load: cur = ws.Slot[op.Slot]!; break;
                case OpKind.Accumulate:
                {
                    int len = _lenIn[i];
                    if (op.First) cur.AsSpan(0, len).CopyTo(o);
                    else TensorPrimitives.Add(ws.Slot[op.Slot]!.AsSpan(0, len), cur.AsSpan(0, len), o.AsSpan(0, len));
                    ws.Slot[op.Slot] = o;
                    break;
                }
            }
            if (ProfileTicks is { } pf) pf[i] += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
        }
        return cur;
    }

    /// <summary>
    /// Adds Σ_k seed_k ∂f_k/∂θ (at the forward state in <paramref name="ws"/>) to <paramref name="grad"/>; the entries
    /// below <paramref name="frozen"/> (a prefix of whole affine layers: their weight and bias gradients are not
    /// computed) are left as they are.
    /// </summary>
    private void RunBackward(ReadOnlySpan<T> seed, Span<T> grad, Workspace ws, int frozen = 0)
    {
        Op[] ops = _program.Ops;
        T[][] inputs = ws.Inputs;
        T[] g = ws.Grad[ops.Length];
        seed.CopyTo(g);
        int version = Volatile.Read(ref _version);
        if (ws.WTVersion != version && !UseReferenceKernels) { TransposeWeights(ws); ws.WTVersion = version; }
        Array.Clear(ws.GradSlotLive);
        // ops before the first trained affine op only carry the gradient towards the image (or frozen layers): not run
        int stop = 0;
        while (stop < ops.Length && (_affine[stop] is not { } info0 || info0.WOffset < frozen)) stop++; // none: no parameters
        for (int i = ops.Length - 1; i >= stop; i--)
        {
            Op op = ops[i];
            long t0 = ProfileTicks is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            T[] gin = ws.Grad[i];
            int len = _lenIn[i];
            switch (op.Kind)
            {
                case OpKind.Affine:
                    if (UseReferenceKernels) AffineBackwardReference(op, _affine[i]!, _wScale[i], _bScale[i], inputs[i], g, gin, grad);
                    else AffineBackward(i, op, _affine[i]!, g, gin, grad, ws, _affine[i]!.WOffset >= frozen, i > stop);
                    break;
                case OpKind.Activation:
                    NetworkOps.Derivative<T>(op.Act!, inputs[i].AsSpan(0, len), gin.AsSpan(0, len));
                    TensorPrimitives.Multiply(gin.AsSpan(0, len), g.AsSpan(0, len), gin.AsSpan(0, len));
                    break;
                case OpKind.Pool: PoolBackward(op, g, gin); break;
                case OpKind.MaxPool:
                {
                    // the gradient goes to the window's maximum (the first one in window order at a tie)
                    Array.Clear(gin, 0, len);
                    int[] arg = ws.ArgMax[i];
                    for (int k = 0; k < op.Pout * op.Cout; k++) gin[arg[k]] += g[k];
                    break;
                }
                case OpKind.Gap:
                {
                    T inv = T.One / T.CreateTruncating(op.Pin);
                    for (int px = 0; px < op.Pin; px++)
                        TensorPrimitives.Multiply(g.AsSpan(0, op.Cin), inv, gin.AsSpan(px * op.Cin, op.Cin));
                    break;
                }
                case OpKind.Flatten: g.AsSpan(0, len).CopyTo(gin); break;
                // sum{}: Save(input) [branch 0] Accumulate(acc, first) Load(input) [branch 1] Accumulate(acc) … Load(acc).
                // A slot's gradient is gathered from its Loads, then handed to the ops that wrote it.
                case OpKind.Save:
                    g.AsSpan(0, len).CopyTo(gin);
                    if (ws.GradSlotLive[op.Slot]) TensorPrimitives.Add(gin.AsSpan(0, len), ws.GradSlot[op.Slot].AsSpan(0, len), gin.AsSpan(0, len));
                    ws.GradSlotLive[op.Slot] = false;
                    break;
                case OpKind.Load:
                {
                    int outLen = i + 1 < ops.Length ? _lenIn[i + 1] : Outputs;
                    Span<T> gs = ws.GradSlot[op.Slot].AsSpan(0, outLen);
                    if (ws.GradSlotLive[op.Slot]) TensorPrimitives.Add(gs, g.AsSpan(0, outLen), gs);
                    else g.AsSpan(0, outLen).CopyTo(gs);
                    ws.GradSlotLive[op.Slot] = true;
                    Array.Clear(gin, 0, len); // what the Load replaced does not reach the output through it
                    break;
                }
                case OpKind.Accumulate:
                    g.AsSpan(0, len).CopyTo(gin);
                    if (ws.GradSlotLive[op.Slot]) TensorPrimitives.Add(gin.AsSpan(0, len), ws.GradSlot[op.Slot].AsSpan(0, len), gin.AsSpan(0, len));
                    if (op.First) ws.GradSlotLive[op.Slot] = false;
                    break;
            }
            if (ProfileTicks is { } pb) pb[ops.Length + i] += System.Diagnostics.Stopwatch.GetTimestamp() - t0;
            g = gin;
        }
    }

    private void AffineForwardReference(Op op, AffineInfo info, T wScale, T bScale, T[] input, T[] output)
    {
        ReadOnlySpan<T> theta = Parameters;
        int cin = op.Cin, cout = op.Cout;
        ReadOnlySpan<T> bias = theta.Slice(info.BOffset, cout);
        for (int ho = 0; ho < op.Hout; ho++)
            for (int wo = 0; wo < op.Wout; wo++)
            {
                Span<T> o = output.AsSpan((ho * op.Wout + wo) * cout, cout);
                TensorPrimitives.Multiply(bias, bScale, o);
                for (int a = 0; a < op.Kh; a++)
                {
                    int hi = ho * op.Sh + a - op.PadT;
                    if ((uint)hi >= (uint)op.Hin) continue;
                    for (int b = 0; b < op.Kw; b++)
                    {
                        int wi = wo * op.Sw + b - op.PadL;
                        if ((uint)wi >= (uint)op.Win) continue;
                        int xBase = (hi * op.Win + wi) * cin, wBase = info.WOffset + (a * op.Kw + b) * cin * cout;
                        for (int ci = 0; ci < cin; ci++)
                        {
                            T xv = input[xBase + ci];
                            if (xv == T.Zero) continue; // exact: adds nothing (relu zeros, padding)
                            TensorPrimitives.MultiplyAdd(theta.Slice(wBase + ci * cout, cout), xv * wScale, o, o);
                        }
                    }
                }
            }
    }

    private void AffineBackwardReference(Op op, AffineInfo info, T wScale, T bScale, T[] input, T[] gOut, T[] gIn, Span<T> grad)
    {
        ReadOnlySpan<T> theta = Parameters;
        int cin = op.Cin, cout = op.Cout;
        Array.Clear(gIn, 0, op.Pin * cin);
        Span<T> gb = grad.Slice(info.BOffset, cout);
        for (int ho = 0; ho < op.Hout; ho++)
            for (int wo = 0; wo < op.Wout; wo++)
            {
                ReadOnlySpan<T> go = gOut.AsSpan((ho * op.Wout + wo) * cout, cout);
                if (bScale != T.Zero) TensorPrimitives.MultiplyAdd(go, bScale, gb, gb);
                for (int a = 0; a < op.Kh; a++)
                {
                    int hi = ho * op.Sh + a - op.PadT;
                    if ((uint)hi >= (uint)op.Hin) continue;
                    for (int b = 0; b < op.Kw; b++)
                    {
                        int wi = wo * op.Sw + b - op.PadL;
                        if ((uint)wi >= (uint)op.Win) continue;
                        int xBase = (hi * op.Win + wi) * cin, wBase = info.WOffset + (a * op.Kw + b) * cin * cout;
                        for (int ci = 0; ci < cin; ci++)
                        {
                            ReadOnlySpan<T> w = theta.Slice(wBase + ci * cout, cout);
                            gIn[xBase + ci] += wScale * TensorPrimitives.Dot(w, go);
                            T xv = input[xBase + ci];
                            if (xv == T.Zero) continue;
                            Span<T> gw = grad.Slice(wBase + ci * cout, cout);
                            TensorPrimitives.MultiplyAdd(go, xv * wScale, gw, gw);
                        }
                    }
                }
            }
    }

    /// <summary>
    /// Benchmarks only: output pixels per chunk of the backward products; 0 (the default) takes about 8 KB of output
    /// gradient per chunk (32 pixels of 32 float64 channels), a multiple of the kernels' 4-row tile — the best of 16…∞
    /// measured on Zen 3 (bench archnet).
    /// </summary>
    internal static int PixelChunk { get; set; }

    private static int ChunkFor(int cout) =>
        PixelChunk > 0 ? PixelChunk : Math.Max(4, 8192 / (cout * Unsafe.SizeOf<T>()) / 4 * 4);

    /// <summary>
    /// Loop order of the forward product: column panels outer (a k × 2-vector panel of W stays in L1 while every
    /// pixel tile runs over it) or pixel tiles outer (W streams from L2 per tile). The bits are the same either way;
    /// settable for bench archnet.
    /// </summary>
    internal static bool ForwardColumnsOuter { get; set; } = true;

    /// <summary>s_w·W[tap, c_in, c_out] → WT[tap, c_out, c_in] of every affine op but the first (whose input gradient is not needed).</summary>
    private void TransposeWeights(Workspace ws)
    {
        ReadOnlySpan<T> theta = Parameters;
        for (int i = 1; i < _plans.Length; i++)
        {
            AffinePlan? plan = _plans[i];
            if (plan is null) continue;
            T s = _wScale[i];
            int cin = plan.Cin, cout = plan.Cout, wOff = _affine[i]!.WOffset;
            T[] wt = ws.WT[i];
            for (int t = 0; t < plan.Taps; t++)
            {
                int blk = t * cin * cout;
                for (int ci = 0; ci < cin; ci++)
                    for (int co = 0; co < cout; co++)
                        wt[blk + co * cin + ci] = s * theta[wOff + blk + ci * cout + co];
            }
        }
    }

    /// <summary>z = s_b·b + Σ_{tap, c_in} (s_w·x)·W per output pixel, by the tiled kernel on the zero-bordered, pre-scaled input.</summary>
    private void AffineForward(int i, Op op, AffineInfo info, T[] input, T[] output, Workspace ws)
    {
        AffinePlan plan = _plans[i]!;
        T[] xp = ws.XPad[i];
        T wScale = _wScale[i], bScale = _bScale[i];
        int cin = op.Cin, cout = op.Cout, rowLen = op.Win * cin;
        for (int h = 0; h < op.Hin; h++)
            TensorPrimitives.Multiply(input.AsSpan(h * rowLen, rowLen), wScale, xp.AsSpan(((h + op.PadT) * plan.Wp + op.PadL) * cin, rowLen));
        ReadOnlySpan<T> bias = Parameters.AsSpan(info.BOffset, cout);
        for (int po = 0; po < op.Pout; po++) TensorPrimitives.Multiply(bias, bScale, output.AsSpan(po * cout, cout));
        AffineKernels<T>.Run(op.Pout, xp, plan.PixBase, 0, plan.KOff, Parameters, info.WOffset, cout, cout, output, plan.OutBase, 0, ForwardColumnsOuter);
    }

    /// <summary>
    /// Back-propagation through an affine op: the weight gradient Σ_po (s_w·x)·g per tap (rows c_in, k = output pixels),
    /// the bias gradient (both unless the layer is frozen), and — unless nothing trained is below (the first op, whose
    /// input is the image, or only frozen layers) — the input gradient scattered per tap
    /// into the padded layout (rows output pixels, k = c_out, on s_w·Wᵀ) and cropped.
    /// </summary>
    private void AffineBackward(int i, Op op, AffineInfo info, T[] gOut, T[] gIn, Span<T> grad, Workspace ws, bool trained, bool needInput)
    {
        AffinePlan plan = _plans[i]!;
        int cin = op.Cin, cout = op.Cout;
        T bScale = _bScale[i];
        T[] xp = ws.XPad[i];
        if (trained && bScale != T.Zero)
        {
            Span<T> gb = grad.Slice(info.BOffset, cout);
            for (int po = 0; po < op.Pout; po++) TensorPrimitives.MultiplyAdd(gOut.AsSpan(po * cout, cout), bScale, gb, gb);
        }
        // Both products run over chunks of output pixels (ChunkFor), taps inside, so that the chunk's output gradient
        // (and its part of the padded input) stays in L1 across the taps instead of streaming from L2 once per tap.
        // The weight gradient's k (pixel) loop is only split (each element still sums its pixels in order); the
        // input gradient sums, per element, chunk by chunk and tap by tap within a chunk — fixed, thread-free orders.
        int chunk = ChunkFor(cout);
        if (trained)
            for (int k0 = 0; k0 < op.Pout; k0 += chunk)
            {
                ReadOnlySpan<int> pix = plan.PixBase.AsSpan(k0, Math.Min(chunk, op.Pout - k0));
                for (int t = 0; t < plan.Taps; t++)
                    AffineKernels<T>.Run(cin, xp, plan.CiId, plan.TapOff[t], pix, gOut, k0 * cout, cout, cout, grad, plan.CiRow, info.WOffset + t * cin * cout);
            }
        if (!needInput) return;
        Span<T> gp = ws.GPad.AsSpan(0, plan.PadLength);
        gp.Clear();
        T[] wt = ws.WT[i];
        for (int k0 = 0; k0 < op.Pout; k0 += chunk)
        {
            int rows = Math.Min(chunk, op.Pout - k0);
            ReadOnlySpan<int> outBase = plan.OutBase.AsSpan(k0, rows), pixBase = plan.PixBase.AsSpan(k0, rows);
            for (int t = 0; t < plan.Taps; t++)
                AffineKernels<T>.Run(rows, gOut, outBase, 0, plan.CoId, wt, t * cout * cin, cin, cin, gp, pixBase, plan.TapOff[t]);
        }
        int rowLen = op.Win * cin;
        for (int h = 0; h < op.Hin; h++)
            gp.Slice(((h + op.PadT) * plan.Wp + op.PadL) * cin, rowLen).CopyTo(gIn.AsSpan(h * rowLen, rowLen));
    }

    private static void PoolForward(Op op, T[] input, T[] output)
    {
        int c = op.Cin;
        T inv = T.One / T.CreateTruncating(op.Kh * op.Kw);
        for (int ho = 0; ho < op.Hout; ho++)
            for (int wo = 0; wo < op.Wout; wo++)
            {
                Span<T> o = output.AsSpan((ho * op.Wout + wo) * c, c);
                o.Clear();
                for (int a = 0; a < op.Kh; a++)
                    for (int b = 0; b < op.Kw; b++)
                        TensorPrimitives.Add(o, input.AsSpan(((ho * op.Sh + a) * op.Win + wo * op.Sw + b) * c, c), o);
                TensorPrimitives.Multiply(o, inv, o);
            }
    }

    private static void PoolBackward(Op op, T[] gOut, T[] gIn)
    {
        int c = op.Cin;
        T inv = T.One / T.CreateTruncating(op.Kh * op.Kw);
        Array.Clear(gIn, 0, op.Pin * c);
        for (int ho = 0; ho < op.Hout; ho++)
            for (int wo = 0; wo < op.Wout; wo++)
            {
                ReadOnlySpan<T> go = gOut.AsSpan((ho * op.Wout + wo) * c, c);
                for (int a = 0; a < op.Kh; a++)
                    for (int b = 0; b < op.Kw; b++)
                    {
                        Span<T> gi = gIn.AsSpan(((ho * op.Sh + a) * op.Win + wo * op.Sw + b) * c, c);
                        TensorPrimitives.MultiplyAdd(go, inv, gi, gi);
                    }
            }
    }

    private static void MaxPoolForward(Op op, T[] input, T[] output, int[] argMax)
    {
        int c = op.Cin;
        for (int ho = 0; ho < op.Hout; ho++)
            for (int wo = 0; wo < op.Wout; wo++)
                for (int ch = 0; ch < c; ch++)
                {
                    int best = ((ho * op.Sh) * op.Win + wo * op.Sw) * c + ch;
                    for (int a = 0; a < op.Kh; a++)
                        for (int b = 0; b < op.Kw; b++)
                        {
                            int idx = ((ho * op.Sh + a) * op.Win + wo * op.Sw + b) * c + ch;
                            if (input[idx] > input[best]) best = idx;
                        }
                    int o = (ho * op.Wout + wo) * c + ch;
                    output[o] = input[best];
                    argMax[o] = best;
                }
    }

    private static void GapForward(Op op, T[] input, T[] output)
    {
        int c = op.Cin;
        Span<T> o = output.AsSpan(0, c);
        o.Clear();
        for (int px = 0; px < op.Pin; px++) TensorPrimitives.Add(o, input.AsSpan(px * c, c), o);
        TensorPrimitives.Multiply(o, T.One / T.CreateTruncating(op.Pin), o);
    }
}
