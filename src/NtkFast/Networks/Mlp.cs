using System.Numerics;
using System.Numerics.Tensors;
using NtkFast.Numerics;

namespace NtkFast.Networks;

/// <summary>
/// A fully connected network in the NTK parameterisation (docs/design.md §1), with its parameters θ
/// in one contiguous array (layout: <see cref="MlpArchitecture"/>), for T = float or double.
/// <para>
/// One generic class rather than two concrete ones: the forward/backward code is written once,
/// the JIT specialises it per value type (the float/double dispatch to the GEMM and the
/// activations folds to a direct call), and the tests exercise the same code in both precisions.
/// </para>
/// <para>
/// Batches are row-major N×n0 matrices (rows = points). The hot passes
/// (<see cref="Forward(ReadOnlySpan{T}, MlpWorkspace{T})"/>, <see cref="SetMseCotangent"/>,
/// <see cref="BackpropagateCotangents"/>, <see cref="Gradient(ReadOnlySpan{T}, MlpWorkspace{T}, Span{T}, int)"/>,
/// <see cref="ApplyGradientStep"/>, <see cref="TrainStep"/>) allocate nothing and keep their
/// intermediate results in the caller's <see cref="MlpWorkspace{T}"/>.
/// </para>
/// </summary>
public sealed class Mlp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>A network with the given parameters; the array is used as θ (not copied).</summary>
    public Mlp(MlpArchitecture architecture, T[] parameters)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(parameters);
        NetworkOps.CheckType<T>();
        if (parameters.Length != architecture.ParameterCount)
            throw new ArgumentException($"The architecture {architecture} has {architecture.ParameterCount} parameters, got {parameters.Length}.", nameof(parameters));
        Architecture = architecture;
        Parameters = parameters;
    }

    /// <summary>
    /// θ iid N(0, 1): θ_p = z_p of <see cref="GaussianStream"/> with this seed, in the order
    /// W(0), b(0), W(1), b(1), … — the same network on every machine and thread count, and the
    /// float32 network is the float64 one rounded to nearest.
    /// </summary>
    public static Mlp<T> Initialize(MlpArchitecture architecture, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        NetworkOps.CheckType<T>();
        var theta = new T[architecture.ParameterCount];
        GaussianStream.FillParallel(seed, 0, theta);
        return new Mlp<T>(architecture, theta);
    }

    public MlpArchitecture Architecture { get; }

    /// <summary>θ, all parameters: W(0), b(0), W(1), b(1), …</summary>
    public T[] Parameters { get; }

    /// <summary>W(l), n(l+1)×n(l) row-major, a view into θ.</summary>
    public Span<T> Weights(int l) => Parameters.AsSpan(Architecture.WeightOffset(CheckLayer(l)), Architecture.WeightLength(l));

    /// <summary>b(l), n(l+1) entries, a view into θ.</summary>
    public Span<T> Bias(int l) => Parameters.AsSpan(Architecture.BiasOffset(CheckLayer(l)), Architecture.BiasLength(l));

    public MlpWorkspace<T> CreateWorkspace(int capacity) => new(Architecture, capacity);

    /// <summary>A deep copy (θ copied).</summary>
    public Mlp<T> Clone() => new(Architecture, (T[])Parameters.Clone());

    /// <summary>The same network in another precision (each parameter rounded to nearest).</summary>
    public Mlp<TOther> ConvertTo<TOther>() where TOther : unmanaged, IFloatingPointIeee754<TOther>
    {
        var p = new TOther[Parameters.Length];
        for (int i = 0; i < p.Length; i++) p[i] = TOther.CreateTruncating(Parameters[i]);
        return new Mlp<TOther>(Architecture, p);
    }

    // ───────────────────────────── forward ─────────────────────────────

    /// <summary>
    /// Forward pass over the batch <paramref name="x"/> (N×n0 row-major, N = x.Length / n0):
    /// for each layer, α~(l+1) = (σw/√n_l)·α(l)·W(l)ᵀ + β·1·b(l)ᵀ and, for hidden layers,
    /// α(l+1) = σ(α~(l+1)) — one GEMM per layer, the bias and σ applied in its epilogue. Results stay in
    /// <paramref name="workspace"/>; the output is <see cref="MlpWorkspace{T}.Output"/>.
    /// </summary>
    public void Forward(ReadOnlySpan<T> x, MlpWorkspace<T> workspace)
    {
        int n = CheckBatch(x, workspace);
        workspace.BatchSize = n;
        MlpArchitecture a = Architecture;
        int depth = a.Depth;
        T beta = T.CreateTruncating(a.Beta);
        T[] biasRow = workspace.Scratch;
        for (int l = 0; l < depth; l++)
        {
            int nIn = a.Width(l), nOut = a.Width(l + 1);
            ReadOnlySpan<T> input = l == 0 ? x[..(n * nIn)] : workspace.ActRaw(l, n);
            if (a.Beta != 0) TensorPrimitives.Multiply(Bias(l), beta, biasRow.AsSpan(0, nOut));
            // Bias and σ are applied by the GEMM epilogue on each finished block of Z (still in cache).
            var epilogue = new BiasActivationEpilogue<T>(a.Beta != 0 ? biasRow : null,
                l + 1 < depth ? workspace.ActArray : null, workspace.ActOffset(l + 1), nOut, a.Activation);
            NetworkOps.Gemm<T>(Op.None, Op.Transpose, n, nOut, nIn, a.WeightScale(l),
                input, nIn, Weights(l), nIn, 0, workspace.PreRaw(l + 1, n), nOut, ref epilogue);
        }
    }

    /// <summary>f(X) for a batch (allocating convenience): N×nL row-major.</summary>
    public T[] Predict(ReadOnlySpan<T> x)
    {
        int n = Architecture.InputWidth == 0 ? 0 : x.Length / Architecture.InputWidth;
        var ws = CreateWorkspace(n);
        Forward(x, ws);
        return ws.Output.ToArray();
    }

    // ───────────────────────────── cost ─────────────────────────────

    /// <summary>
    /// After a forward pass: returns the MSE cost C = 1/(2N)·Σ_i ‖f(x_i) − y_i‖² (accumulated in
    /// float64, in row order) and writes its output cotangent G = (f − Y)/N into
    /// <see cref="MlpWorkspace{T}.Cotangent"/>(L). <paramref name="y"/> is N×nL.
    /// </summary>
    public double SetMseCotangent(ReadOnlySpan<T> y, MlpWorkspace<T> workspace)
    {
        CheckTargets(y, workspace);
        int n = workspace.BatchSize;
        ReadOnlySpan<T> f = workspace.Output;
        Span<T> g = workspace.Cotangent(Architecture.Depth);
        double invN = 1.0 / n, sum = 0;
        for (int i = 0; i < f.Length; i++)
        {
            double d = double.CreateTruncating(f[i]) - double.CreateTruncating(y[i]);
            sum += d * d;
            g[i] = T.CreateTruncating(d * invN);
        }
        return 0.5 * sum * invN;
    }

    /// <summary>After a forward pass: the MSE cost C = 1/(2N)·Σ_i ‖f(x_i) − y_i‖² (float64 accumulation, row order).</summary>
    public double MseCost(ReadOnlySpan<T> y, MlpWorkspace<T> workspace)
    {
        CheckTargets(y, workspace);
        ReadOnlySpan<T> f = workspace.Output;
        double sum = 0;
        for (int i = 0; i < f.Length; i++)
        {
            double d = double.CreateTruncating(f[i]) - double.CreateTruncating(y[i]);
            sum += d * d;
        }
        return 0.5 * sum / workspace.BatchSize;
    }

    // ───────────────────────────── backward ─────────────────────────────

    /// <summary>
    /// After a forward pass, with the output cotangent G in <see cref="MlpWorkspace{T}.Cotangent"/>(L):
    /// back-propagates δ(l) = ∂Φ/∂α~(l) of Φ = Σ_i G_i·f(x_i) down to layer K+1, where
    /// K = <paramref name="trainableFrom"/> (the first K weight layers frozen; K = 0 gives every δ(1…L)):
    /// δ(l) = [(σw/√n_l)·δ(l+1)·W(l)] ⊙ σ'(α~(l)).
    /// </summary>
    public void BackpropagateCotangents(MlpWorkspace<T> workspace, int trainableFrom = 0)
    {
        CheckWorkspace(workspace);
        CheckTrainableFrom(trainableFrom);
        int n = workspace.BatchSize;
        MlpArchitecture a = Architecture;
        for (int l = a.Depth - 1; l > trainableFrom; l--)
        {
            int nIn = a.Width(l), nOut = a.Width(l + 1);
            // δ(l) = D ⊙ σ'(Z(l)) is applied by the GEMM epilogue on each finished block of D.
            var epilogue = new DerivativeEpilogue<T>(workspace.PreArray, workspace.PreOffset(l), nIn, a.Activation);
            NetworkOps.Gemm<T>(Op.None, Op.None, n, nIn, nOut, a.WeightScale(l),
                workspace.CotRaw(l + 1, n), nOut, Weights(l), nIn, 0, workspace.CotRaw(l, n), nIn, ref epilogue);
        }
    }

    /// <summary>
    /// After <see cref="BackpropagateCotangents"/>: writes ∂Φ/∂θ into <paramref name="gradient"/>
    /// (same layout as θ): ∂Φ/∂W(l) = (σw/√n_l)·δ(l+1)ᵀ·α(l), ∂Φ/∂b(l) = β·Σ_i δ(l+1)_i.
    /// Entries of frozen layers (l &lt; K) are set to zero. <paramref name="x"/> must be the batch
    /// of the forward pass.
    /// </summary>
    public void Gradient(ReadOnlySpan<T> x, MlpWorkspace<T> workspace, Span<T> gradient, int trainableFrom = 0)
    {
        CheckWorkspace(workspace);
        CheckTrainableFrom(trainableFrom);
        CheckSameBatch(x, workspace);
        if (gradient.Length != Architecture.ParameterCount)
            throw new ArgumentException($"gradient has {gradient.Length} elements, θ has {Architecture.ParameterCount}.", nameof(gradient));
        MlpArchitecture a = Architecture;
        int n = workspace.BatchSize;
        gradient[..a.LayerOffset(trainableFrom)].Clear();
        T beta = T.CreateTruncating(a.Beta);
        for (int l = trainableFrom; l < a.Depth; l++)
        {
            int nIn = a.Width(l), nOut = a.Width(l + 1);
            ReadOnlySpan<T> delta = workspace.CotRaw(l + 1, n);
            NetworkOps.Gemm<T>(Op.Transpose, Op.None, nOut, nIn, n, a.WeightScale(l),
                delta, nOut, workspace.Activation(l, x), nIn, 0,
                gradient.Slice(a.WeightOffset(l), a.WeightLength(l)), nIn);
            NetworkOps.ColumnSums(workspace.CotArray, workspace.PreOffset(l + 1), n, nOut, workspace.Scratch);
            TensorPrimitives.Multiply(workspace.Scratch.AsSpan(0, nOut), beta, gradient.Slice(a.BiasOffset(l), nOut));
        }
    }

    /// <summary>
    /// After <see cref="BackpropagateCotangents"/>: one gradient-descent update
    /// θ ← θ − η·∂Φ/∂θ of the trainable layers, in place — the weight gradient GEMM accumulates
    /// straight into W(l) (C = −η(σw/√n_l)·δ(l+1)ᵀ·α(l) + 1·W(l)), so no gradient buffer is written.
    /// </summary>
    public void ApplyGradientStep(ReadOnlySpan<T> x, MlpWorkspace<T> workspace, double learningRate, int trainableFrom = 0)
    {
        CheckWorkspace(workspace);
        CheckTrainableFrom(trainableFrom);
        CheckSameBatch(x, workspace);
        CheckLearningRate(learningRate);
        MlpArchitecture a = Architecture;
        int n = workspace.BatchSize;
        T biasStep = T.CreateTruncating(-learningRate * a.Beta);
        for (int l = trainableFrom; l < a.Depth; l++)
        {
            int nIn = a.Width(l), nOut = a.Width(l + 1);
            ReadOnlySpan<T> delta = workspace.CotRaw(l + 1, n);
            NetworkOps.Gemm<T>(Op.Transpose, Op.None, nOut, nIn, n, -learningRate * a.WeightScale(l),
                delta, nOut, workspace.Activation(l, x), nIn, 1, Weights(l), nIn);
            NetworkOps.ColumnSums(workspace.CotArray, workspace.PreOffset(l + 1), n, nOut, workspace.Scratch);
            NetworkOps.Axpy(biasStep, workspace.Scratch.AsSpan(0, nOut), Bias(l));
        }
    }

    /// <summary>
    /// One full-batch gradient-descent step on the MSE cost: forward, G = (f − Y)/N, back-propagation,
    /// θ ← θ − η∇C (layers K … L−1). Returns the cost C(θ) before the step. Allocation-free.
    /// </summary>
    public double TrainStep(ReadOnlySpan<T> x, ReadOnlySpan<T> y, double learningRate, MlpWorkspace<T> workspace, int trainableFrom = 0)
    {
        CheckLearningRate(learningRate);
        CheckTrainableFrom(trainableFrom);
        Forward(x, workspace);
        double cost = SetMseCotangent(y, workspace);
        BackpropagateCotangents(workspace, trainableFrom);
        ApplyGradientStep(x, workspace, learningRate, trainableFrom);
        return cost;
    }

    /// <summary>∇C of the MSE cost into <paramref name="gradient"/>; returns C. Allocation-free.</summary>
    public double MseGradient(ReadOnlySpan<T> x, ReadOnlySpan<T> y, MlpWorkspace<T> workspace, Span<T> gradient, int trainableFrom = 0)
    {
        CheckTrainableFrom(trainableFrom);
        Forward(x, workspace);
        double cost = SetMseCotangent(y, workspace);
        BackpropagateCotangents(workspace, trainableFrom);
        Gradient(x, workspace, gradient, trainableFrom);
        return cost;
    }

    /// <summary>
    /// ∂/∂θ of Φ = Σ_i G_i·f(x_i) for an output cotangent G (N×nL) into <paramref name="gradient"/>.
    /// Allocation-free.
    /// </summary>
    public void Gradient(ReadOnlySpan<T> x, ReadOnlySpan<T> outputCotangent, MlpWorkspace<T> workspace, Span<T> gradient, int trainableFrom = 0)
    {
        CheckTrainableFrom(trainableFrom);
        Forward(x, workspace);
        Span<T> g = workspace.Cotangent(Architecture.Depth);
        if (outputCotangent.Length != g.Length)
            throw new ArgumentException($"outputCotangent has {outputCotangent.Length} elements, expected N×nL = {workspace.BatchSize}×{Architecture.OutputWidth}.", nameof(outputCotangent));
        outputCotangent.CopyTo(g);
        BackpropagateCotangents(workspace, trainableFrom);
        Gradient(x, workspace, gradient, trainableFrom);
    }

    // ───────────────────────────── checks ─────────────────────────────

    private int CheckLayer(int l)
    {
        if ((uint)l >= (uint)Architecture.Depth)
            throw new ArgumentOutOfRangeException(nameof(l), l, $"Layer index must be in [0, {Architecture.Depth - 1}].");
        return l;
    }

    private void CheckWorkspace(MlpWorkspace<T> workspace)
    {
        ArgumentNullException.ThrowIfNull(workspace);
        if (!ReferenceEquals(workspace.Architecture, Architecture) && !workspace.Architecture.Widths.SequenceEqual(Architecture.Widths))
            throw new ArgumentException($"The workspace is for widths {string.Join('-', workspace.Architecture.Widths)}, the network has {string.Join('-', Architecture.Widths)}.", nameof(workspace));
    }

    private int CheckBatch(ReadOnlySpan<T> x, MlpWorkspace<T> workspace)
    {
        CheckWorkspace(workspace);
        int n0 = Architecture.InputWidth;
        if (x.Length % n0 != 0)
            throw new ArgumentException($"x has {x.Length} elements, not a whole number of rows of n0 = {n0}.", nameof(x));
        int n = x.Length / n0;
        if (n > workspace.Capacity)
            throw new ArgumentException($"The batch has {n} points, the workspace holds {workspace.Capacity}.", nameof(x));
        return n;
    }

    private void CheckSameBatch(ReadOnlySpan<T> x, MlpWorkspace<T> workspace)
    {
        if (x.Length != workspace.BatchSize * Architecture.InputWidth)
            throw new ArgumentException($"x has {x.Length} elements; the forward pass had {workspace.BatchSize}×{Architecture.InputWidth}.", nameof(x));
    }

    private void CheckTargets(ReadOnlySpan<T> y, MlpWorkspace<T> workspace)
    {
        CheckWorkspace(workspace);
        if (workspace.BatchSize == 0)
            throw new ArgumentException("The cost of an empty batch is undefined.", nameof(workspace));
        if (y.Length != workspace.BatchSize * Architecture.OutputWidth)
            throw new ArgumentException($"y has {y.Length} elements, expected N×nL = {workspace.BatchSize}×{Architecture.OutputWidth}.", nameof(y));
    }

    private void CheckTrainableFrom(int trainableFrom)
    {
        if ((uint)trainableFrom >= (uint)Architecture.Depth)
            throw new ArgumentOutOfRangeException(nameof(trainableFrom), trainableFrom, $"trainableFrom (frozen first layers) must be in [0, {Architecture.Depth - 1}].");
    }

    private static void CheckLearningRate(double learningRate)
    {
        if (!double.IsFinite(learningRate) || learningRate <= 0)
            throw new ArgumentOutOfRangeException(nameof(learningRate), learningRate, "The learning rate must be finite and positive.");
    }
}
