using NtkFast.Activations;
using NtkFast.Kernels;
using NtkFast.Numerics;
using Xunit;

namespace NtkFast.Tests.Kernels;

public class InfiniteWidthTests
{
    private static void AssertClose(double expected, double actual, double rel, string what)
    {
        double tol = rel * Math.Max(1.0, Math.Abs(expected));
        Assert.True(Math.Abs(expected - actual) <= tol, $"{what}: expected {expected:R}, got {actual:R} (|diff| {Math.Abs(expected - actual):E2} > {tol:E2})");
    }

    private static void AssertBitwise(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"{what}: element {i} differs: {expected[i]:R} vs {actual[i]:R}");
    }

    [Theory]
    [InlineData(1, 1, 0.1, 1.0)]
    [InlineData(7, 3, 0.0, 2.0)]
    [InlineData(65, 17, 0.3, 0.7)]
    [InlineData(130, 9, 0.1, 1.0)]
    public void Depth_one_is_the_scaled_gram_matrix_plus_beta_squared(int n, int d, double beta, double weightStd)
    {
        Matrix x = TestData.Random(n, d, 11 + n);
        Matrix y = TestData.Random(n + 3, d, 12 + n);
        var spec = new KernelSpec(1, ReferenceActivation.Relu, beta, weightStd);
        foreach ((Matrix a, Matrix? b) in new[] { (x, (Matrix?)null), (x, y) })
        {
            KernelResult r = InfiniteWidth.Compute(spec, a, b, KernelOutputs.Both);
            Matrix other = b ?? a;
            for (int i = 0; i < a.Rows; i++)
                for (int j = 0; j < other.Rows; j++)
                {
                    double dot = 0;
                    for (int k = 0; k < d; k++) dot += a[i, k] * other[j, k];
                    double expected = weightStd * weightStd * dot / d + beta * beta;
                    AssertClose(expected, r.Nngp![i, j], 1e-14, $"Σ({i},{j})");
                    Assert.Equal(r.Nngp![i, j], r.Ntk![i, j]);
                }
        }
    }

    // Two points x1 = (1, 0), x2 = (1, 1); σw = 1, β = 0; n0 = 2: Σ(1) = [[1/2, 1/2], [1/2, 1]].
    private static readonly Matrix TwoPoints = Matrix.FromArray(new double[,] { { 1, 0 }, { 1, 1 } });

    /// <summary>relu by hand: θ(1) = π/4 between x1 and x2.</summary>
    private static (double[,] Sigma, double[,] Theta) ReluByHand(int depth)
    {
        double pi = Math.PI;
        // Layer 2. E[relu(u)²] = a/2, E[relu'(u)²] = 1/2; off-diagonal cos θ = (1/2)/√(1/2·1) = 1/√2, θ = π/4:
        // E[relu relu] = √(1/2)/(2π)·(sin π/4 + (3π/4)·cos π/4) = (1 + 3π/4)/(4π), E[relu' relu'] = (3π/4)/(2π) = 3/8.
        double s11 = 0.25, s22 = 0.5, s12 = (1 + 3 * pi / 4) / (4 * pi);
        double t11 = 0.5 * 0.5 + 0.25, t22 = 1.0 * 0.5 + 0.5, t12 = 0.5 * (3.0 / 8) + s12;
        if (depth == 2) return (new[,] { { s11, s12 }, { s12, s22 } }, new[,] { { t11, t12 }, { t12, t22 } });
        // Layer 3: a = 1/4, c = 1/2, cos θ = s12/√(1/8).
        double cos = s12 / Math.Sqrt(1.0 / 8), theta = Math.Acos(cos);
        double n12 = Math.Sqrt(1.0 / 8) / (2 * pi) * (Math.Sin(theta) + (pi - theta) * cos), d12 = (pi - theta) / (2 * pi);
        return (new[,] { { 0.125, n12 }, { n12, 0.25 } },
                new[,] { { t11 * 0.5 + 0.125, t12 * d12 + n12 }, { t12 * d12 + n12, t22 * 0.5 + 0.25 } });
    }

    /// <summary>erf by hand: E[erf erf] = (2/π)·asin(2b/√((1+2a)(1+2c))), E[erf' erf'] = (4/π)/√((1+2a)(1+2c) − 4b²).</summary>
    private static (double[,] Sigma, double[,] Theta) ErfByHand(int depth)
    {
        double pi = Math.PI;
        // Layer 2 from a = 1/2, b = 1/2, c = 1: (1+2a)(1+2c) = 6 off the diagonal, 4 and 9 on it.
        double s11 = 2 / pi * Math.Asin(1.0 / 2), s22 = 2 / pi * Math.Asin(2.0 / 3), s12 = 2 / pi * Math.Asin(1 / Math.Sqrt(6));
        double d11 = 4 / pi / Math.Sqrt(3), d22 = 4 / pi / Math.Sqrt(5), d12 = 4 / pi / Math.Sqrt(5);
        double t11 = 0.5 * d11 + s11, t22 = 1.0 * d22 + s22, t12 = 0.5 * d12 + s12;
        Assert.Equal(1.0 / 3, s11, 15); // asin(1/2) = π/6
        if (depth == 2) return (new[,] { { s11, s12 }, { s12, s22 } }, new[,] { { t11, t12 }, { t12, t22 } });
        double q11 = (1 + 2 * s11) * (1 + 2 * s11), q22 = (1 + 2 * s22) * (1 + 2 * s22), q12 = (1 + 2 * s11) * (1 + 2 * s22);
        double n11 = 2 / pi * Math.Asin(2 * s11 / Math.Sqrt(q11)), n22 = 2 / pi * Math.Asin(2 * s22 / Math.Sqrt(q22)), n12 = 2 / pi * Math.Asin(2 * s12 / Math.Sqrt(q12));
        double e11 = 4 / pi / Math.Sqrt(q11 - 4 * s11 * s11), e22 = 4 / pi / Math.Sqrt(q22 - 4 * s22 * s22), e12 = 4 / pi / Math.Sqrt(q12 - 4 * s12 * s12);
        return (new[,] { { n11, n12 }, { n12, n22 } },
                new[,] { { t11 * e11 + n11, t12 * e12 + n12 }, { t12 * e12 + n12, t22 * e22 + n22 } });
    }

    public static TheoryData<string, int> HandCases => new() { { "relu", 2 }, { "relu", 3 }, { "erf", 2 }, { "erf", 3 } };

    [Theory]
    [MemberData(nameof(HandCases))]
    public void Two_points_match_hand_computation(string name, int depth)
    {
        (double[,] sigma, double[,] theta) = name == "relu" ? ReluByHand(depth) : ErfByHand(depth);
        foreach (Activation act in ActivationsNamed(name))
        {
            KernelResult r = InfiniteWidth.Compute(new KernelSpec(depth, act, beta: 0.0, weightStd: 1.0), TwoPoints);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++)
                {
                    AssertClose(sigma[i, j], r.Nngp![i, j], 1e-14, $"{act.Name} L={depth} Σ({i},{j})");
                    AssertClose(theta[i, j], r.Ntk![i, j], 1e-14, $"{act.Name} L={depth} Θ({i},{j})");
                }
        }
    }

    /// <summary>The reference activation, and the library's own once the activation library provides it.</summary>
    internal static IEnumerable<Activation> ActivationsNamed(string name)
    {
        yield return name == "relu" ? ReferenceActivation.Relu : ReferenceActivation.Erf;
        if (Named(name) is Activation library) yield return library;
    }

    public static TheoryData<string, int, double, double, int> RecursionCases => new()
    {
        { "relu", 4, 0.1, 1.0, 0 },
        { "relu", 3, 0.0, 1.4, 1 },
        { "erf", 5, 0.3, 0.9, 2 },
        { "erf", 2, 0.1, 1.0, 0 },
    };

    [Theory]
    [MemberData(nameof(RecursionCases))]
    public void Matrices_match_the_pairwise_reference_recursion(string name, int depth, double beta, double weightStd, int trainableFrom)
    {
        Matrix x = TestData.Random(70, 13, 3);
        Matrix y = TestData.Random(9, 13, 4, scale: 3.0);
        Func<double, double, double, (double, double)> dual = name == "relu" ? ReferenceDuals.Relu : ReferenceDuals.Erf;
        foreach (Activation act in ActivationsNamed(name))
        {
            var spec = new KernelSpec(depth, act, beta, weightStd, trainableFrom);
            foreach ((Matrix a, Matrix? b) in new[] { (x, (Matrix?)null), (x, y), (y, x) })
            {
                KernelResult r = InfiniteWidth.Compute(spec, a, b);
                (double[,] s, double[,] t) = ReferenceKernel.Full(a, b ?? a, depth, dual, beta, weightStd, trainableFrom);
                for (int i = 0; i < a.Rows; i++)
                    for (int j = 0; j < (b ?? a).Rows; j++)
                    {
                        // 1e−12 against the reference duals; the library's relu gets 1e−8 until its diagonal is
                        // exact (Library_relu_dual_is_exact_on_the_diagonal).
                        double tol = act is ReferenceActivation ? 1e-12 : 1e-8;
                        AssertClose(s[i, j], r.Nngp![i, j], tol, $"{act.Name} Σ({i},{j})");
                        AssertClose(t[i, j], r.Ntk![i, j], tol, $"{act.Name} Θ({i},{j})");
                    }
            }
        }
    }

    public static TheoryData<string> SymmetryActivations => new() { "ref_relu", "ref_relu_ordered", "ref_erf", "identity", "relu", "erf", "tanh" };

    internal static Activation? Named(string name) => name switch
    {
        "ref_relu" => ReferenceActivation.Relu,
        "ref_relu_ordered" => ReferenceActivation.OrderSensitiveRelu,
        "ref_erf" => ReferenceActivation.Erf,
        _ => TryParse(name),
    };

    private static Activation? TryParse(string name)
    {
        try { return ActivationRegistry.Parse(name); }
        catch (ArgumentException) { return null; } // not provided by the activation library in this build
    }

    [Theory]
    [MemberData(nameof(SymmetryActivations))]
    public void Symmetric_rectangular_and_block_paths_agree_bitwise(string name)
    {
        Activation? act = Named(name);
        if (act is null) return; // not provided by the activation library in this build
        // Numeric duals cost ~10 µs per entry: fewer points (still two row tiles), fewer layers.
        bool numeric = !act.HasClosedFormDual;
        Matrix x = TestData.Random(numeric ? 66 : 150, 21, 5);
        var copy = new Matrix(x.Rows, x.Cols, (double[])x.Data.Clone());
        var spec = new KernelSpec(numeric ? 2 : 3, act, 0.1, 1.0);
        KernelResult sym = InfiniteWidth.Compute(spec, x, null, KernelOutputs.Both | KernelOutputs.LayerContributions);
        KernelResult rect = InfiniteWidth.Compute(spec, x, copy, KernelOutputs.Both | KernelOutputs.LayerContributions);
        AssertBitwise(sym.Nngp!.Data, rect.Nngp!.Data, "Σ symmetric vs rectangular");
        AssertBitwise(sym.Ntk!.Data, rect.Ntk!.Data, "Θ symmetric vs rectangular");
        for (int l = 0; l < spec.Depth; l++)
            AssertBitwise(sym.LayerContributions![l].Data, rect.LayerContributions![l].Data, $"term {l + 1}");
        // Exactly symmetric.
        for (int i = 0; i < x.Rows; i++)
            for (int j = 0; j < i; j++)
            {
                Assert.Equal(sym.Nngp[i, j], sym.Nngp[j, i]);
                Assert.Equal(sym.Ntk[i, j], sym.Ntk[j, i]);
            }
        // Blocks: straddling the diagonal, below it, on it, single entries, odd shapes; x2 given or not.
        (int r0, int rc, int c0, int cc)[] blocks = numeric
            ? [(3, 60, 1, 64), (65, 1, 0, 66), (33, 30, 33, 30)]
            : [(0, 150, 0, 150), (3, 70, 1, 140), (100, 50, 0, 30), (64, 64, 64, 64), (17, 1, 149, 1), (0, 150, 129, 21), (77, 66, 77, 66)];
        foreach ((int r0, int rc, int c0, int cc) in blocks)
            foreach (Matrix? x2 in new[] { null, copy })
            {
                KernelResult blk = InfiniteWidth.ComputeBlock(spec, x, x2, r0, rc, c0, cc);
                for (int i = 0; i < rc; i++)
                    for (int j = 0; j < cc; j++)
                    {
                        if (BitConverter.DoubleToInt64Bits(blk.Nngp![i, j]) != BitConverter.DoubleToInt64Bits(sym.Nngp[r0 + i, c0 + j])
                            || BitConverter.DoubleToInt64Bits(blk.Ntk![i, j]) != BitConverter.DoubleToInt64Bits(sym.Ntk[r0 + i, c0 + j]))
                            Assert.Fail($"block ({r0},{rc},{c0},{cc}) x2={(x2 is null ? "null" : "copy")}: entry ({i},{j}) differs");
                    }
            }
        // The diagonal alone is bitwise the diagonal of the full matrices.
        KernelDiagonal diag = InfiniteWidth.Diagonal(spec, x);
        for (int i = 0; i < x.Rows; i++)
        {
            Assert.Equal(sym.Nngp[i, i], diag.Nngp[i]);
            Assert.Equal(sym.Ntk[i, i], diag.Ntk[i]);
        }
    }

    [Fact]
    public void Tiles_of_the_upper_triangle_assemble_the_full_matrix_bitwise()
    {
        Matrix x = TestData.Random(101, 8, 6);
        var spec = new KernelSpec(4, ReferenceActivation.OrderSensitiveRelu, 0.1, 1.0);
        KernelResult full = InfiniteWidth.Compute(spec, x);
        KernelTile[] tiles = KernelTiling.UpperTriangle(101, 30);
        Assert.Equal(4 * 5 / 2, tiles.Length);
        var assembled = new double[101 * 101];
        var covered = new int[101 * 101];
        foreach (KernelTile t in tiles)
        {
            Assert.True(t.ColStart >= t.RowStart);
            Matrix ntk = InfiniteWidth.ComputeBlock(spec, x, null, t.RowStart, t.RowCount, t.ColStart, t.ColCount, KernelOutputs.Ntk).Ntk!;
            for (int i = 0; i < t.RowCount; i++)
                for (int j = 0; j < t.ColCount; j++)
                {
                    int r = t.RowStart + i, c = t.ColStart + j;
                    assembled[r * 101 + c] = assembled[c * 101 + r] = ntk[i, j];
                    covered[r * 101 + c]++;
                    if (r != c) covered[c * 101 + r]++;
                }
        }
        // Every entry covered once, except the mirrored parts of diagonal tiles (covered twice, same bits).
        Assert.All(covered, c => Assert.InRange(c, 1, 2));
        AssertBitwise(full.Ntk!.Data, assembled, "tiled Θ");
        Assert.Equal(9, KernelTiling.Rectangle(10, 7, 4, 3).Length);
        Assert.Empty(KernelTiling.UpperTriangle(0, 5));
    }

    [Theory]
    [InlineData("ref_relu", 0.1)]
    [InlineData("ref_erf", 0.0)]
    [InlineData("relu", 0.1)]
    [InlineData("erf", 0.1)]
    [InlineData("tanh", 0.1)]
    [InlineData("sin", 0.0)]
    public void Kernels_are_symmetric_positive_semidefinite_on_random_data(string name, double beta)
    {
        Activation? act = Named(name);
        if (act is null) return;
        const int n = 40;
        Matrix x = TestData.Random(n, 6, 7);
        KernelResult r = InfiniteWidth.Compute(new KernelSpec(3, act, beta, 1.0), x);
        foreach (Matrix k in new[] { r.Nngp!, r.Ntk! })
        {
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) Assert.Equal(k[i, j], k[j, i]);
            double[] ev = TestData.SymmetricEigenvalues(k.Data, n);
            double max = ev.Max(), min = ev.Min();
            Assert.True(max > 0);
            Assert.True(min >= -1e-10 * max, $"{name}: smallest eigenvalue {min:E3}, largest {max:E3}");
        }
    }

    [Theory]
    [InlineData("ref_relu")]
    [InlineData("ref_erf")]
    [InlineData("ref_relu_ordered")]
    [InlineData("relu")]
    [InlineData("erf")]
    [InlineData("tanh")]
    [InlineData("leaky_relu:0.2")]
    [InlineData("sign")]
    public void Edge_inputs_give_no_nan(string name)
    {
        Activation? act = Named(name);
        if (act is null) return;
        double[] u = [0.6, -0.8, 0.0];
        List<double[]> rows =
        [
            u, u, // identical
            [0, 0, 0], [0, 0, 0], // zero vectors
            [-0.6, 0.8, 0.0], // antipodal to u
            [0.6e-6, -0.8e-6, 0], [1e-6, 0, 0], [0, 1e6, 0], [-1e6, 0, 1e6], [6e5, -8e5, 0], // 1e-6 … 1e6, parallel at different scales
            [0.6, -0.8, 1e-9], // nearly identical to u
        ];
        var x = new Matrix(rows.Count, 3);
        for (int i = 0; i < rows.Count; i++) rows[i].CopyTo(x.Row(i));
        // Numeric duals at variances near 1e12 take milliseconds each: one configuration, norms up to 1e3.
        bool numeric = !act.HasClosedFormDual;
        if (numeric) for (int i = 7; i <= 9; i++) foreach (ref double v in x.Row(i)) v *= 1e-3;
        foreach (double beta in numeric ? [0.0] : new[] { 0.0, 0.1 })
            foreach (int depth in numeric ? [2] : new[] { 1, 2, 5 })
            {
                var spec = new KernelSpec(depth, act, beta, 1.0);
                KernelResult r = InfiniteWidth.Compute(spec, x, null, KernelOutputs.Both | KernelOutputs.LayerContributions);
                foreach (Matrix k in new[] { r.Nngp!, r.Ntk! }.Concat(r.LayerContributions!))
                    Assert.All(k.Data, v => Assert.True(double.IsFinite(v), $"{name} β={beta} L={depth}: non-finite entry"));
                // Identical points: their entries equal the diagonal, exactly.
                Assert.Equal(r.Ntk![0, 0], r.Ntk[0, 1]);
                Assert.Equal(r.Ntk[0, 0], r.Ntk[1, 1]);
                Assert.Equal(r.Nngp![2, 3], r.Nngp[2, 2]);
                // Cauchy–Schwarz holds for every pair (Σ and Θ are covariances); the tolerance allows the
                // ~1e-8 relative that any dual loses at correlation ±1 from rounding in its inputs (a, b, c).
                for (int i = 0; i < x.Rows; i++)
                    for (int j = 0; j < x.Rows; j++)
                        foreach (Matrix k in new[] { r.Nngp, r.Ntk })
                            Assert.True(k[i, j] * k[i, j] <= k[i, i] * k[j, j] * (1 + 1e-7) + 1e-300, $"{name} β={beta} L={depth}: |K({i},{j})|² > K({i},{i})K({j},{j})");
            }
    }

    [Theory]
    [InlineData(4, 0)]
    [InlineData(4, 1)]
    [InlineData(4, 3)]
    [InlineData(2, 1)]
    public void Frozen_layers_keep_the_per_layer_terms_after_K(int depth, int trainableFrom)
    {
        Matrix x = TestData.Random(45, 5, 8);
        Matrix y = TestData.Random(20, 5, 9);
        foreach (Activation act in ActivationsNamed("relu").Concat(ActivationsNamed("erf")))
        {
            KernelResult all = InfiniteWidth.Compute(new KernelSpec(depth, act, 0.1, 1.0), x, y, KernelOutputs.Both | KernelOutputs.LayerContributions);
            KernelResult frozen = InfiniteWidth.Compute(new KernelSpec(depth, act, 0.1, 1.0, trainableFrom), x, y, KernelOutputs.Both);
            Assert.Equal(depth, all.LayerContributions!.Count);
            AssertBitwise(all.Nngp!.Data, frozen.Nngp!.Data, "Σ does not depend on frozen layers");
            for (int e = 0; e < x.Rows * y.Rows; e++)
            {
                double sum = 0, sumKept = 0;
                for (int l = 0; l < depth; l++)
                {
                    sum += all.LayerContributions[l].Data[e];
                    if (l + 1 > trainableFrom) sumKept += all.LayerContributions[l].Data[e];
                }
                AssertClose(all.Ntk!.Data[e], sum, 1e-13, "Σ terms = Θ");
                AssertClose(sumKept, frozen.Ntk!.Data[e], 1e-13, $"Θ with K = {trainableFrom}");
            }
            // The last term is Σ(L) itself.
            AssertBitwise(all.Nngp.Data, all.LayerContributions[depth - 1].Data, "term L = Σ(L)");
        }
    }

    [Theory]
    [InlineData("relu", 0.1, 1.0)]
    [InlineData("relu", 0.0, 1.3)]
    [InlineData("erf", 0.1, 1.0)]
    [InlineData("leaky_relu:0.2", 0.2, 0.8)]
    public void Closed_form_and_numeric_duals_agree_end_to_end(string name, double beta, double weightStd)
    {
        Activation closed = ActivationRegistry.Parse(name);
        Assert.True(closed.HasClosedFormDual);
        Activation numeric = closed.WithNumericDual();
        Assert.False(numeric.HasClosedFormDual);
        // Points include a duplicate, a zero vector, an antipodal pair and a wide range of norms.
        Matrix x = TestData.Random(14, 5, 31);
        x.Row(1).Clear();
        x.Row(0).CopyTo(x.Row(2));
        for (int k = 0; k < 5; k++) { x[3, k] = -x[0, k]; x[4, k] *= 1e-3; x[5, k] *= 30; }
        Matrix y = TestData.Random(7, 5, 32, scale: 2.0);
        foreach (Matrix? x2 in new[] { null, y })
        {
            KernelResult a = InfiniteWidth.Compute(new KernelSpec(3, closed, beta, weightStd), x, x2);
            KernelResult b = InfiniteWidth.Compute(new KernelSpec(3, numeric, beta, weightStd), x, x2);
            int cols = (x2 ?? x).Rows;
            for (int e = 0; e < a.Ntk!.Data.Length; e++)
            {
                // Entries with b = a = c (diagonal, duplicate points) get 1e−8 until the closed form's
                // diagonal is exact: see Library_relu_dual_is_exact_on_the_diagonal.
                bool diagonalLike = x2 is null && (e / cols == e % cols || (e / cols, e % cols) is (0, 2) or (2, 0));
                double tol = diagonalLike ? 1e-8 : 1e-9;
                AssertClose(a.Nngp!.Data[e], b.Nngp!.Data[e], tol, $"{name} Σ[{e}]");
                AssertClose(a.Ntk.Data[e], b.Ntk!.Data[e], tol, $"{name} Θ[{e}]");
            }
        }
    }

    /// <summary>
    /// On the diagonal b = a = c the relu dual must be exact (Σ̇ = 1/2): the kernel diagonals, and every pair
    /// of duplicate points, take these values at every layer.
    /// </summary>
    [Fact(Skip = "activation library bug (branch act, ArcCosine.Dual): b is clamped to √a·√c, which rounds below a, so the Kahan discriminant is ~1e−17 instead of 0 and Σ̇(x,x) = 0.49999999708 for a = 0.33 (error 6e−9). Unskip when fixed.")]
    public void Library_relu_dual_is_exact_on_the_diagonal()
    {
        Activation relu = ActivationRegistry.Parse("relu");
        foreach (double a in new[] { 0.33, 0.5123456, 1.7, 0.02, 1e-6, 3e5 })
        {
            DualValue v = relu.DualDiagonal(a);
            Assert.Equal(0.5, v.Edd, 15);
            AssertClose(a / 2, v.Ess, 1e-15, "E[relu²]");
        }
    }

    [Fact]
    public void Quadrature_degree_reaches_numeric_duals_only()
    {
        Matrix x = TestData.Random(12, 4, 41);
        Activation tanh = ActivationRegistry.Parse("tanh");
        KernelResult d12 = InfiniteWidth.Compute(new KernelSpec(3, tanh, 0.1, 1.0), x);
        KernelResult q12 = InfiniteWidth.Compute(new KernelSpec(3, tanh, 0.1, 1.0, quadratureDegree: NtkFast.Quadrature.BivariateQuadrature.DefaultDegree), x);
        KernelResult q4 = InfiniteWidth.Compute(new KernelSpec(3, tanh, 0.1, 1.0, quadratureDegree: 4), x);
        KernelResult q24 = InfiniteWidth.Compute(new KernelSpec(3, tanh, 0.1, 1.0, quadratureDegree: 24), x);
        AssertBitwise(d12.Ntk!.Data, q12.Ntk!.Data, "the default degree");
        Assert.NotEqual(q4.Ntk!.Data, q24.Ntk!.Data);
        for (int e = 0; e < d12.Ntk.Data.Length; e++) AssertClose(q24.Ntk.Data[e], d12.Ntk.Data[e], 1e-9, "tanh default degree vs 24");
        Activation relu = ActivationRegistry.Parse("relu");
        AssertBitwise(InfiniteWidth.Compute(new KernelSpec(3, relu), x).Ntk!.Data,
            InfiniteWidth.Compute(new KernelSpec(3, relu, quadratureDegree: 4), x).Ntk!.Data, "closed forms ignore the degree");
    }

    [Fact]
    public void Zero_sized_and_invalid_arguments()
    {
        var spec = new KernelSpec(2, ReferenceActivation.Relu);
        KernelResult empty = InfiniteWidth.Compute(spec, new Matrix(0, 3));
        Assert.Equal(0, empty.Ntk!.Rows);
        KernelResult one = InfiniteWidth.Compute(spec, TestData.Random(1, 1, 1), TestData.Random(0, 1, 1));
        Assert.Equal((1, 0), (one.Ntk!.Rows, one.Ntk.Cols));
        Assert.Throws<ArgumentOutOfRangeException>("depth", () => new KernelSpec(0, ReferenceActivation.Relu));
        Assert.Throws<ArgumentOutOfRangeException>("trainableFrom", () => new KernelSpec(3, ReferenceActivation.Relu, trainableFrom: 3));
        Assert.Throws<ArgumentOutOfRangeException>("beta", () => new KernelSpec(3, ReferenceActivation.Relu, beta: double.NaN));
        Assert.Throws<ArgumentOutOfRangeException>("quadratureDegree", () => new KernelSpec(3, ReferenceActivation.Relu, quadratureDegree: 1));
        Assert.Throws<ArgumentException>("x2", () => InfiniteWidth.Compute(spec, TestData.Random(3, 2, 1), TestData.Random(3, 3, 1)));
        Assert.Throws<ArgumentOutOfRangeException>("rowCount", () => InfiniteWidth.ComputeBlock(spec, TestData.Random(3, 2, 1), null, 1, 3, 0, 1));
        Assert.Throws<ArgumentException>("outputs", () => InfiniteWidth.Compute(spec, TestData.Random(3, 2, 1), null, KernelOutputs.None));
        var ws = new double[10];
        var outS = new double[9];
        Assert.Throws<ArgumentException>("workspace", () => InfiniteWidth.ComputeBlock(spec, new double[6], 3, new double[6], 3, 2, 0, 3, 0, 3, outS, default, 3, ws));
        Assert.Throws<ArgumentException>("nngp", () => InfiniteWidth.ComputeBlock(spec, new double[6], 3, new double[6], 3, 2, 0, 3, 0, 3, new double[8], default, 3, new double[100000]));
    }
}
