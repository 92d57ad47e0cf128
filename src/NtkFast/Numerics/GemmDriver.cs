using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NtkFast.Numerics;

internal static class GemmConfig
{
    /// <summary>
    /// The micro-kernel family in use: the registry's <see cref="Isa.Active"/> (pinned by NTKFAST_ISA or by
    /// tests), except that 128-bit vectors without a hardware FMA (x64 SSE only: AVX disabled, or a NativeAOT
    /// build for the SDK's default x86-64-v1) run the scalar kernel — the software vector FMA measured 0.3
    /// GFLOP/s there against ~1.5 for scalar Math.FusedMultiplyAdd; the bits are the same either way.
    /// </summary>
    public static IsaPath Path => Isa.Active == IsaPath.Vector128 && !HardwareFma128 ? IsaPath.Scalar : Isa.Active;

    /// <summary>True when 128-bit fused multiply-add is one instruction (x64 FMA3, ARM64 AdvSimd).</summary>
    public static bool HardwareFma128 { get; } = Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported;

    /// <summary>Below this many multiply-adds a product runs on the calling thread only (waking a worker costs ~10–50 µs).</summary>
    public const long ParallelThreshold = 1L << 21;
}

/// <summary>
/// Blocking and splitting knobs read once from the environment, for tuning measurements only: none of them changes a
/// result bit (tested), only where the work runs.
/// </summary>
internal static class GemmTuning
{
    /// <summary>Row or column bands per thread of a parallel product (NTKFAST_GEMM_TASKS_PER_THREAD, default 2).</summary>
    public static int TasksPerThread { get; set; } = PositiveInt("NTKFAST_GEMM_TASKS_PER_THREAD", 2);

    /// <summary>
    /// Shared-B parallel scheme (NTKFAST_GEMM_SHARED_B=1): the threads of a row-split product form a team that packs
    /// each B block (KC×NC) once between them, meets at a barrier, and multiplies it into each member's own rows (own
    /// packed A), instead of every band packing all of B itself. Off by default (see docs/notes/gemm.md).
    /// </summary>
    public static bool SharedB { get; set; } = PositiveInt("NTKFAST_GEMM_SHARED_B", 0) == 1;

    /// <summary>Multiply-adds below which a product runs on the calling thread (tests lower it to run small shapes on a team).</summary>
    internal static long ParallelThreshold { get; set; } = GemmConfig.ParallelThreshold;

    /// <summary>The packed-B block for this CPU's L2, in KiB (see <c>GemmDriver.NCBytes</c>).</summary>
    public static int DefaultNCKiB => CpuCaches.L2Bytes > 0 ? (int)Math.Clamp(CpuCaches.L2Bytes * 15 / 32 / 1024, 96, 960) : 480;

    /// <summary>A positive integer from <paramref name="variable"/>, else <paramref name="fallback"/>.</summary>
    internal static int PositiveInt(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out int v) && v is > 0 and <= 1 << 20 ? v : fallback;
}

/// <summary>
/// BLIS-style blocked GEMM for row-major storage. Loop nest (outside in):
/// row block ic (MC rows, ≤ 1536) → K block pc (KC) → pack A block (MC×KC, MR-row panels) →
/// column block jc (NC ≈ 480 KiB of packed B, kept in L2) → pack B block (KC×NC, NR-column panels) →
/// ir (MR rows; the A panel, 16 KiB, stays in L1) → jr (NR columns, B streamed from L2) → micro-kernel.
/// This is BLIS's col-major nest applied to Cᵀ = Bᵀ·Aᵀ: the vector direction runs along rows of C,
/// so stores to row-major C are contiguous.
/// </summary>
/// <remarks>
/// Determinism: every c_ij is the same chain of IEEE operations whatever the path (scalar, 256, 512),
/// the tile it lands in, the task split or the thread count: per K block [pc, pc+KC) an accumulator
/// starts at 0 and takes fma(a_ip, b_pj, acc) for p in order; the first block writes α·acc (β = 0) or
/// fma(α, acc, β·c), later blocks fma(α, acc, c). KC depends only on T (256 for double, 512 for float).
/// Padded rows/columns of partial tiles only add into accumulators that are thrown away.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class GemmDriver<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>K block: fixed per type, never per path (it shapes the FMA chains).</summary>
    public static int KC => typeof(T) == typeof(double) ? 256 : 512;

    /// <summary>
    /// Row block. The packed A block is not meant to stay in cache (each 16 KiB MR-panel is reused from
    /// L1 across a whole column block), so a large MC only costs memory and saves re-packing B, which
    /// happens once per row block. 1536 rows: 3 MiB per thread.
    /// </summary>
    private const int MCMax = 1536;

    /// <summary>
    /// Bytes of one packed B block (KC×NC), meant to stay in L2 while the A panels stream past it: 15/32 of this CPU's L2
    /// (<see cref="CpuCaches"/>; 480 KiB of Zen 5's 1 MiB, 240 KiB of Zen 3's 512 KiB), 480 KiB when the L2 is unknown.
    /// NTKFAST_GEMM_NC_KIB overrides it for tuning measurements (results are bitwise the same for any NC: only KC shapes
    /// the FMA chains).
    /// </summary>
    internal static int NCBytes { get; set; } = GemmTuning.PositiveInt("NTKFAST_GEMM_NC_KIB", GemmTuning.DefaultNCKiB) * 1024;

    internal struct Problem
    {
        public T* A; public nint Lda; public bool TransA;
        public T* B; public nint Ldb; public bool TransB;
        public T* C; public nint Ldc;
        public int M, N, K;
        public T Alpha, Beta;
        /// <summary>SYRK: compute only tiles touching the lower triangle (B is A).</summary>
        public bool Lower;
    }

    private readonly struct Geometry
    {
        public readonly IsaPath Path;
        public readonly int MR, NR, NC;

        public Geometry(IsaPath path)
        {
            Path = path;
            (MR, NR) = path switch
            {
                IsaPath.Vector512 => (8, 3 * Vector512<T>.Count),
                IsaPath.Vector256 => (6, 2 * Vector256<T>.Count),
                IsaPath.Vector128 => (6, 2 * Vector128<T>.Count),
                _ => (4, 4),
            };
            int nc = NCBytes / (KC * sizeof(T));
            NC = Math.Max(NR, nc / NR * NR);
        }
    }

    public static void Run<TEp>(ref Problem p, ref TEp epilogue, bool hasEpilogue) where TEp : struct, IGemmEpilogue<T>
    {
        if (p.M == 0 || p.N == 0) return;
        if (p.K > 0 && p.K <= KC && p.Alpha != T.Zero && (long)p.M * p.N * p.K <= GemmSmall<T>.Limit)
        {
            GemmSmall<T>.Run(in p, GemmConfig.Path, ref epilogue, hasEpilogue);
            return;
        }
        var g = new Geometry(GemmConfig.Path);
        TEp ep = epilogue; // on this stack frame: workers receive its address
        var action = new Action<TEp> { P = p, G = g, Ep = Unsafe.AsPointer(ref ep), HasEp = hasEpilogue };

        long work = (long)p.M * p.N * Math.Max(p.K, 1);
        if (p.Lower) work /= 2;
        int threads = work < GemmTuning.ParallelThreshold ? 1 : NtkParallel.MaxThreads;
        if (p.Lower)
        {
            action.Tasks = threads == 1 ? 1 : Math.Min(4 * threads, (p.M + g.MR - 1) / g.MR);
            action.Mode = SplitMode.Triangle;
        }
        else
        {
            int panelsM = (p.M + g.MR - 1) / g.MR, panelsN = (p.N + g.NR - 1) / g.NR;
            action.Mode = panelsM >= panelsN ? SplitMode.Rows : SplitMode.Cols;
            if (GemmTuning.SharedB && threads > 1 && action.Mode == SplitMode.Rows && p.K > 0 && p.Alpha != T.Zero)
            {
                RunTeam<TEp>(in p, in g, Unsafe.AsPointer(ref ep), hasEpilogue, Math.Min(threads, panelsM));
                epilogue = ep;
                return;
            }
            int unit = action.Mode == SplitMode.Rows ? g.MR : g.NR;
            int extent = action.Mode == SplitMode.Rows ? p.M : p.N;
            int panels = action.Mode == SplitMode.Rows ? panelsM : panelsN;
            int tasks = threads == 1 ? 1 : Math.Min(panels, GemmTuning.TasksPerThread * threads);
            int chunk = ((extent + tasks - 1) / tasks + unit - 1) / unit * unit;
            action.Chunk = chunk;
            action.Tasks = (extent + chunk - 1) / chunk;
        }

        if (action.Tasks == 1) action.Invoke(0);
        else NtkParallel.For(action.Tasks, ref action);
        epilogue = ep;
    }

    private enum SplitMode { Rows, Cols, Triangle }

    /// <summary>Shared-B scheme (<see cref="GemmTuning.SharedB"/>): one team, each B block packed once, rows split.</summary>
    private static void RunTeam<TEp>(in Problem p, in Geometry g, void* ep, bool hasEp, int threads) where TEp : struct, IGemmEpilogue<T>
    {
        TeamBarrier barrier = default; // on this frame: members get its address, and the team ends before we return
        var action = new TeamAction<TEp>
        {
            P = p, G = g, Ep = ep, HasEp = hasEp, Barrier = &barrier,
            // Two B blocks, alternating: a member packs block t+1 while others may still multiply block t; block t+2
            // reuses t's buffer only after the barrier behind t+1, which nobody passes before everyone finished t.
            SharedB = PackBuffers<T>.GetShared(2 * g.NC * KC),
        };
        NtkParallel.Team(threads, ref action);
    }

    /// <summary>
    /// A spinning barrier for the members of one <see cref="NtkParallel.Team{TAction}(int, ref TAction)"/> (no
    /// allocation, no kernel wait: phases last ~0.1–2 ms). <see cref="Abort"/> releases waiters with an exception.
    /// </summary>
    private struct TeamBarrier
    {
        private int _arrived;
        private int _generation;
        private int _aborted;

        public void Wait(int size)
        {
            int gen = Volatile.Read(ref _generation);
            if (Interlocked.Increment(ref _arrived) == size)
            {
                _arrived = 0;
                Volatile.Write(ref _generation, gen + 1); // publishes the reset and every member's packing
                return;
            }
            var spin = new SpinWait();
            while (Volatile.Read(ref _generation) == gen)
            {
                if (Volatile.Read(ref _aborted) != 0) throw new OperationCanceledException("Another GEMM team member failed.");
                spin.SpinOnce(sleep1Threshold: -1);
            }
        }

        public void Abort() => Volatile.Write(ref _aborted, 1);
    }

    [SkipLocalsInit]
    private struct TeamAction<TEp> : ITeamAction where TEp : struct, IGemmEpilogue<T>
    {
        public Problem P;
        public Geometry G;
        public void* Ep;
        public bool HasEp;
        public TeamBarrier* Barrier;
        public T* SharedB;

        public readonly void Invoke(int member, int size)
        {
            if (size == 1)
            {
                // The pool was busy (nested or concurrent call): the old single-band path, same bits.
                Action<TEp>.Compute(in P, in G, 0, P.M, 0, P.N, Ep, HasEp);
                return;
            }
            try
            {
                Run(member, size);
            }
            catch
            {
                Barrier->Abort();
                throw;
            }
        }

        /// <summary>
        /// Loop nest per member: global row block (≤ size·MC rows) → K block pc → pack own rows of A → column block jc →
        /// pack own share of the shared B block's NR panels → barrier → own rows × the whole B block. Every c_ij sees
        /// the K blocks in order, each with the same kernel chain as the band path (bitwise identical).
        /// </summary>
        private readonly void Run(int member, int size)
        {
            ref readonly Problem p = ref P;
            int MR = G.MR, NR = G.NR, NC = G.NC, kcMax = KC;
            ref TEp ep = ref Unsafe.AsRef<TEp>(Ep);
            T* pa = PackBuffers<T>.Get((MCMax + 8) * kcMax, NC * kcMax, out _);
            int nIc = (p.M + size * MCMax - 1) / (size * MCMax);
            int icStep = ((p.M + nIc - 1) / nIc + MR - 1) / MR * MR;
            int block = 0;
            for (int ic = 0; ic < p.M; ic += icStep)
            {
                int mcAll = Math.Min(icStep, p.M - ic);
                int panels = (mcAll + MR - 1) / MR;
                int r0 = ic + member * panels / size * MR;
                int r1 = Math.Min(ic + mcAll, ic + (member + 1) * panels / size * MR);
                int mc = r1 - r0;
                for (int pc = 0; pc < p.K; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, p.K - pc);
                    int mode = pc == 0 && p.Beta == T.Zero ? 0 : 1;
                    T beta = pc == 0 ? p.Beta : T.One;
                    bool last = pc + kc == p.K;
                    if (mc > 0) GemmPacking<T>.PackA(in p, r0, mc, pc, kc, pa, MR);
                    for (int jc = 0; jc < p.N; jc += NC)
                    {
                        int nc = Math.Min(NC, p.N - jc);
                        T* pb = SharedB + (block++ & 1) * (nint)NC * kcMax;
                        int nPanels = (nc + NR - 1) / NR;
                        int q0 = member * nPanels / size, q1 = (member + 1) * nPanels / size;
                        if (q1 > q0)
                            GemmPacking<T>.PackB(in p, pc, kc, jc + q0 * NR, Math.Min(nc, q1 * NR) - q0 * NR, pb + (nint)q0 * NR * kc, NR);
                        Barrier->Wait(size);
                        if (mc > 0)
                            Action<TEp>.Macro(in p, in G, r0, mc, jc, nc, kc, pa, pb, beta, mode, last && HasEp, false, ref ep);
                    }
                }
            }
        }
    }

    [SkipLocalsInit]
    private struct Action<TEp> : IParallelAction where TEp : struct, IGemmEpilogue<T>
    {
        public Problem P;
        public Geometry G;
        public void* Ep;
        public bool HasEp;
        public SplitMode Mode;
        public int Tasks, Chunk;

        public readonly void Invoke(int t)
        {
            switch (Mode)
            {
                case SplitMode.Rows:
                    Compute(in P, in G, t * Chunk, Math.Min(P.M, (t + 1) * Chunk), 0, P.N, Ep, HasEp);
                    break;
                case SplitMode.Cols:
                    Compute(in P, in G, 0, P.M, t * Chunk, Math.Min(P.N, (t + 1) * Chunk), Ep, HasEp);
                    break;
                default:
                    // Equal-area row bands of the triangle, handed out largest (last) first.
                    int band = Tasks - 1 - t;
                    Compute(in P, in G, TriangleBound(band), TriangleBound(band + 1), 0, P.N, Ep, HasEp);
                    break;
            }
        }

        private readonly int TriangleBound(int band)
        {
            if (band >= Tasks) return P.M;
            int r = (int)Math.Ceiling(P.M * Math.Sqrt((double)band / Tasks));
            r = (r + G.MR - 1) / G.MR * G.MR;
            return Math.Min(r, P.M);
        }

        internal static void Compute(in Problem p, in Geometry g, int r0, int r1, int c0, int c1, void* epPtr, bool hasEp)
        {
            if (r0 >= r1 || c0 >= c1) return;
            ref TEp ep = ref Unsafe.AsRef<TEp>(epPtr);
            if (p.K == 0 || p.Alpha == T.Zero)
            {
                ScaleOnly(in p, r0, r1, c0, c1, ref ep, hasEp);
                return;
            }
            int kcMax = KC;
            int rows = r1 - r0;
            int nIc = (rows + MCMax - 1) / MCMax;
            int mcStep = ((rows + nIc - 1) / nIc + g.MR - 1) / g.MR * g.MR;
            T* pa = PackBuffers<T>.Get((MCMax + 8) * kcMax, g.NC * kcMax, out T* pb);
            for (int ic = r0; ic < r1; ic += mcStep)
            {
                int mc = Math.Min(mcStep, r1 - ic);
                int jEnd = p.Lower ? Math.Min(c1, ic + mc) : c1;
                for (int pc = 0; pc < p.K; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, p.K - pc);
                    int mode = pc == 0 && p.Beta == T.Zero ? 0 : 1;
                    T beta = pc == 0 ? p.Beta : T.One;
                    bool last = pc + kc == p.K;
                    GemmPacking<T>.PackA(in p, ic, mc, pc, kc, pa, g.MR);
                    for (int jc = c0; jc < jEnd; jc += g.NC)
                    {
                        int nc = Math.Min(g.NC, jEnd - jc);
                        GemmPacking<T>.PackB(in p, pc, kc, jc, nc, pb, g.NR);
                        Macro(in p, in g, ic, mc, jc, nc, kc, pa, pb, beta, mode, last && hasEp, last && p.Lower, ref ep);
                    }
                }
            }
        }

        internal static void Macro(in Problem p, in Geometry g, int ic, int mc, int jc, int nc, int kc,
            T* pa, T* pb, T beta, int mode, bool epilogue, bool mirror, ref TEp ep)
        {
            int MR = g.MR, NR = g.NR;
            T* tile = stackalloc T[8 * 48];
            T alpha = p.Alpha;
            nint ldc = p.Ldc;
            bool lower = p.Lower;
            for (int ir = 0; ir < mc; ir += MR)
            {
                int mr = Math.Min(MR, mc - ir);
                int i = ic + ir;
                T* ap = pa + (nint)ir * kc;
                for (int jr = 0; jr < nc; jr += NR)
                {
                    int j = jc + jr;
                    if (lower && j > i + mr - 1) break; // tile strictly above the diagonal
                    int nr = Math.Min(NR, nc - jr);
                    T* bp = pb + (nint)jr * kc;
                    T* cp = p.C + i * ldc + j;
                    if (mr == MR && nr == NR && (!lower || j + nr - 1 <= i))
                    {
                        Kernel(g.Path, kc, ap, bp, cp, ldc, alpha, beta, mode);
                    }
                    else
                    {
                        // Partial tile, or (SYRK) a tile crossing the diagonal: only c_ij with j ≤ i is
                        // written, so the strict upper triangle belongs to the mirror alone.
                        Kernel(g.Path, kc, ap, bp, tile, NR, T.One, T.Zero, 0);
                        for (int r = 0; r < mr; r++)
                        {
                            T* crow = cp + r * ldc;
                            T* trow = tile + r * NR;
                            int cols = lower ? Math.Min(nr, i + r - j + 1) : nr;
                            if (mode == 0)
                                for (int c = 0; c < cols; c++) crow[c] = alpha * trow[c];
                            else
                                for (int c = 0; c < cols; c++) crow[c] = VectorMath.Fma(alpha, trow[c], beta * crow[c]);
                        }
                    }
                }
                if (epilogue)
                    for (int r = 0; r < mr; r++)
                        ep.Apply(i + r, jc, new Span<T>(p.C + (i + r) * ldc + jc, nc));
                if (mirror)
                    MirrorPanel(p.C, ldc, i, mr, jc, Math.Min(jc + nc, i + mr));
            }
        }

        /// <summary>
        /// SYRK: copies the finished lower part of rows [i, i+mr) × cols [j0, j1) to the upper triangle
        /// (C[j, row] = C[row, j] for j &lt; row) while it is hot; each destination row segment is MR
        /// consecutive values (one cache line for doubles).
        /// </summary>
        private static void MirrorPanel(T* c, nint ldc, int i, int mr, int j0, int j1)
        {
            // Tried: 4×4 register transposes (BlockTranspose) for the rows below the diagonal: Syrk 4096×784
            // took 83–86 ms against 76–81 ms with this loop (Zen 5, alternating runs); one destination line
            // per column, written whole, beats two half-line writes.
            for (int j = j0; j < j1; j++)
            {
                T* dst = c + j * ldc;
                T* src = c + j;
                for (int r = Math.Max(0, j - i + 1); r < mr; r++) dst[i + r] = src[(i + r) * ldc];
            }
        }

        private static void ScaleOnly(in Problem p, int r0, int r1, int c0, int c1, ref TEp ep, bool hasEp)
        {
            for (int i = r0; i < r1; i++)
            {
                int end = p.Lower ? Math.Min(c1, i + 1) : c1;
                T* row = p.C + i * p.Ldc;
                if (p.Beta == T.Zero) for (int j = c0; j < end; j++) row[j] = T.Zero;
                else for (int j = c0; j < end; j++) row[j] = p.Beta * row[j];
                if (hasEp && end > c0) ep.Apply(i, c0, new Span<T>(row + c0, end - c0));
                if (p.Lower) for (int j = c0; j < Math.Min(end, i); j++) p.C[j * p.Ldc + i] = row[j];
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(IsaPath path, int kc, T* ap, T* bp, T* c, nint ldc, T alpha, T beta, int mode)
    {
        if (path == IsaPath.Vector512) GemmKernels<T>.Kernel512(kc, ap, bp, c, ldc, alpha, beta, mode);
        else if (path == IsaPath.Vector256) GemmKernels<T>.Kernel256(kc, ap, bp, c, ldc, alpha, beta, mode);
        else if (path == IsaPath.Vector128) GemmKernels<T>.Kernel128(kc, ap, bp, c, ldc, alpha, beta, mode);
        else GemmKernels<T>.KernelScalar(kc, ap, bp, c, ldc, alpha, beta, mode);
    }
}

/// <summary>
/// Per-thread packing buffers, allocated once per thread on the pinned heap and reused, so after the
/// first call on a thread a GEMM allocates nothing. Both blocks start on 64-byte boundaries.
/// </summary>
internal static unsafe class PackBuffers<T> where T : unmanaged
{
    [ThreadStatic] private static T[]? t_buffer;
    [ThreadStatic] private static int t_aLength;

    [ThreadStatic] private static T[]? t_shared;

    /// <summary>
    /// A second per-thread buffer (64-byte aligned, ≥ <paramref name="length"/>) that the calling thread lends to a GEMM
    /// team for the shared packed B blocks; allocated once, reused.
    /// </summary>
    public static T* GetShared(int length)
    {
        int align = 64 / sizeof(T);
        T[]? buf = t_shared;
        if (buf is null || buf.Length < length + align)
            t_shared = buf = GC.AllocateUninitializedArray<T>(length + align, pinned: true);
        T* p = (T*)Unsafe.AsPointer(ref buf[0]);
        return (T*)(((nint)p + 63) & ~(nint)63);
    }

    public static T* Get(int aLength, int bLength, out T* b)
    {
        int align = 64 / sizeof(T);
        aLength = (aLength + align - 1) / align * align;
        T[]? buf = t_buffer;
        if (buf is null || t_aLength < aLength || buf.Length < t_aLength + bLength + align) // B starts at t_aLength
        {
            int aCap = Math.Max(aLength, t_aLength);
            int bCap = Math.Max(bLength, buf is null ? 0 : buf.Length - align - t_aLength);
            buf = GC.AllocateUninitializedArray<T>(aCap + bCap + align, pinned: true);
            t_buffer = buf;
            t_aLength = aCap;
        }
        T* p = (T*)Unsafe.AsPointer(ref buf[0]);
        p = (T*)(((nint)p + 63) & ~(nint)63);
        b = p + t_aLength;
        return p;
    }
}
