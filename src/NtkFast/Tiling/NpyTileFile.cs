using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using NtkFast.IO;

namespace NtkFast.Tiling;

/// <summary>How tiles reach the file.</summary>
public enum TileWriteMode
{
    /// <summary>
    /// One positioned write (pwrite) per tile row, from the tile buffer. The default: pages go through
    /// the page cache, which the kernel writes back and evicts on its own, so the process's resident
    /// memory stays at its buffers whatever the file size (see docs/notes/mpi.md for the measurement).
    /// </summary>
    Positioned,

    /// <summary>
    /// A memory-mapped view over the tile's byte range, rows copied in, view flushed and unmapped.
    /// Mapped file pages count in the process's RSS while mapped (VmHWM), so peak RSS grows with
    /// tile rows × N.
    /// </summary>
    MemoryMapped,
}

/// <summary>
/// A float64, C-order .npy file of its final shape — 2-D (rows, cols), or (rows, cols, ...entry shape) when every
/// kernel entry is a small array (e.g. every output pair, (N, M, nL, nL)) — written block by block in place: the header
/// is written first, the file is extended to its final length (sparse where the file system allows),
/// then any number of writers — threads of this process or other processes (MPI ranks) that opened the
/// same file — write disjoint blocks at their offsets. Reading it back with numpy gives the matrix.
/// This type does not decide when the file is complete; <see cref="TiledOutputs"/> does the naming and
/// the final rename.
/// </summary>
public sealed class NpyTileFile : IDisposable
{
    private readonly FileStream _stream;
    private readonly SafeFileHandle _handle;
    private readonly MemoryMappedFile? _map;

    private NpyTileFile(FileStream stream, int rows, int cols, long dataOffset, TileWriteMode mode)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Out-of-core .npy writing assumes a little-endian host.");
        _stream = stream;
        _handle = stream.SafeFileHandle;
        Rows = rows;
        Cols = cols;
        DataOffset = dataOffset;
        Mode = mode;
        if (mode == TileWriteMode.MemoryMapped && Length > dataOffset)
            _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
    }

    /// <summary>Rows of the data as written: the first dimension.</summary>
    public int Rows { get; }

    /// <summary>Values per row as written: the product of every dimension after the first.</summary>
    public int Cols { get; }
    public TileWriteMode Mode { get; }

    /// <summary>Byte offset of element (0, 0) (the header length, a multiple of 64).</summary>
    public long DataOffset { get; }

    /// <summary>Total file length in bytes.</summary>
    public long Length => DataOffset + (long)Rows * Cols * sizeof(double);

    /// <summary>The header bytes numpy writes for a (rows, cols) float64 array, or (rows, cols, ...entryShape).</summary>
    public static byte[] Header(int rows, int cols, IReadOnlyList<int>? entryShape = null) =>
        Npy.BuildHeader("<f8", entryShape is null or { Count: 0 } ? [rows, cols] : [rows, cols, .. entryShape]);

    /// <summary>Values of one entry of <paramref name="entryShape"/> (1 for none).</summary>
    public static int EntrySize(IReadOnlyList<int>? entryShape)
    {
        long e = 1;
        foreach (int d in entryShape ?? [])
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(d, 1, nameof(entryShape));
            e *= d;
            if (e > Array.MaxLength) throw new ArgumentException($"an entry of shape ({string.Join(", ", entryShape!)}) is too large", nameof(entryShape));
        }
        return (int)e;
    }

    /// <summary>Size in bytes of the .npy file holding a rows×cols float64 matrix (of entries of <paramref name="entryShape"/>).</summary>
    public static long FileLength(int rows, int cols, IReadOnlyList<int>? entryShape = null) =>
        Header(rows, cols, entryShape).Length + (long)rows * cols * EntrySize(entryShape) * sizeof(double);

    /// <summary>
    /// Creates <paramref name="path"/>, which must not exist (O_EXCL: an existing file or a symbolic link at
    /// that name is never opened): header, then the data area reserved on disk (fallocate, so a full file
    /// system fails here, not in the middle of the run or with SIGBUS on a mapped page) and extended to
    /// its final length.
    /// </summary>
    public static NpyTileFile Create(string path, int rows, int cols, TileWriteMode mode = TileWriteMode.Positioned)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(cols);
        long length = FileLength(rows, cols);
        var fs = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.ReadWrite,
            BufferSize = 1,
            PreallocationSize = length,
        });
        return Initialize(fs, path, rows, cols, mode, deleteOnFailure: true);
    }

    /// <summary>
    /// Creates the temporary file that will become <paramref name="destinationFull"/>: as
    /// <see cref="Create"/>, under a fresh temporary name from <see cref="AtomicFile"/> (registered, so a
    /// signal deletes it).
    /// </summary>
    /// <para>With an <paramref name="entryShape"/> the file is (rows, cols, ...entryShape) and blocks are written
    /// in values: rows × (cols·entry size).</para>
    internal static NpyTileFile CreateTemporary(string destinationFull, int rows, int cols, TileWriteMode mode, out string tempPath, IReadOnlyList<int>? entryShape = null)
    {
        FileStream fs = AtomicFile.CreateTemp(destinationFull, out tempPath, FileLength(rows, cols, entryShape), FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        try
        {
            return Initialize(fs, tempPath, rows, cols, mode, deleteOnFailure: false, entryShape);
        }
        catch
        {
            AtomicFile.Delete(tempPath);
            throw;
        }
    }

    private static NpyTileFile Initialize(FileStream fs, string path, int rows, int cols, TileWriteMode mode, bool deleteOnFailure, IReadOnlyList<int>? entryShape = null)
    {
        byte[] header = Header(rows, cols, entryShape);
        int values = checked(cols * EntrySize(entryShape));
        try
        {
            fs.SetLength(header.Length + (long)rows * values * sizeof(double));
            RandomAccess.Write(fs.SafeFileHandle, header, 0);
            return new NpyTileFile(fs, rows, values, header.Length, mode);
        }
        catch
        {
            fs.Dispose();
            if (deleteOnFailure)
            {
                try { File.Delete(path); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            throw;
        }
    }

    /// <summary>Opens a file made by <see cref="Create"/> (e.g. by another rank) and checks its header and length.</summary>
    public static NpyTileFile Open(string path, int rows, int cols, TileWriteMode mode = TileWriteMode.Positioned, IReadOnlyList<int>? entryShape = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] header = Header(rows, cols, entryShape);
        int values = checked(cols * EntrySize(entryShape));
        string shape = entryShape is null or { Count: 0 } ? $"({rows}, {cols})" : $"({rows}, {cols}, {string.Join(", ", entryShape)})";
        var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1, FileOptions.None);
        try
        {
            long expected = header.Length + (long)rows * values * sizeof(double);
            if (fs.Length != expected)
                throw new IOException($"{path}: is {fs.Length} bytes, expected {expected} for a {shape} float64 .npy (is the folder shared between the ranks?)");
            byte[] got = new byte[header.Length];
            RandomAccess.Read(fs.SafeFileHandle, got, 0);
            if (!got.AsSpan().SequenceEqual(header))
                throw new IOException($"{path}: header is not that of a {shape} float64 .npy");
            return new NpyTileFile(fs, rows, values, header.Length, mode);
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    private void CheckBlock(int row0, int col0, int rows, int cols, int blockLength, int ld)
    {
        if (row0 < 0 || rows < 0 || row0 > Rows - rows) throw new ArgumentOutOfRangeException(nameof(row0), $"rows [{row0}, {row0 + rows}) outside [0, {Rows})");
        if (col0 < 0 || cols < 0 || col0 > Cols - cols) throw new ArgumentOutOfRangeException(nameof(col0), $"columns [{col0}, {col0 + cols}) outside [0, {Cols})");
        if (ld < cols) throw new ArgumentOutOfRangeException(nameof(ld), $"leading dimension {ld} < {cols} columns");
        if (rows > 0 && cols > 0 && (long)(rows - 1) * ld + cols > blockLength)
            throw new ArgumentException($"block of {blockLength} elements too short for {rows}×{cols} with leading dimension {ld}", "block");
    }

    /// <summary>
    /// Writes <paramref name="block"/> (rows×cols, row-major, leading dimension <paramref name="ld"/>)
    /// at rows [row0, row0+rows), columns [col0, col0+cols). Thread-safe for disjoint blocks.
    /// </summary>
    public void WriteBlock(int row0, int col0, int rows, int cols, ReadOnlySpan<double> block, int ld)
    {
        CheckBlock(row0, col0, rows, cols, block.Length, ld);
        if (rows == 0 || cols == 0) return;
        long rowBytes = (long)Cols * sizeof(double);
        long first = DataOffset + (row0 * rowBytes) + ((long)col0 * sizeof(double));
        if (Mode == TileWriteMode.Positioned)
        {
            if (cols == Cols && ld == cols)
            {
                // Whole rows: one contiguous write (in chunks below 2 GiB).
                ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(block[..(rows * cols)]);
                const int Chunk = 1 << 30;
                for (int o = 0; o < bytes.Length; o += Chunk)
                    RandomAccess.Write(_handle, bytes.Slice(o, Math.Min(Chunk, bytes.Length - o)), first + o);
                return;
            }
            for (int r = 0; r < rows; r++)
                RandomAccess.Write(_handle, MemoryMarshal.AsBytes(block.Slice(r * ld, cols)), first + (r * rowBytes));
            return;
        }
        long span = ((rows - 1) * rowBytes) + ((long)cols * sizeof(double));
        using MemoryMappedViewAccessor view = _map!.CreateViewAccessor(first, span, MemoryMappedFileAccess.Write);
        unsafe
        {
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            try
            {
                p += view.PointerOffset;
                for (int r = 0; r < rows; r++)
                    block.Slice(r * ld, cols).CopyTo(new Span<double>(p + (r * rowBytes), cols));
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
    }

    /// <summary>
    /// Writes the transpose of <paramref name="block"/> (rows×cols) at rows [col0, col0+cols), columns
    /// [row0, row0+rows): the mirror image of a block of a symmetric matrix. <paramref name="scratch"/>
    /// needs rows×cols elements.
    /// </summary>
    public void WriteBlockTransposed(int row0, int col0, int rows, int cols, ReadOnlySpan<double> block, int ld, Span<double> scratch)
    {
        CheckBlock(col0, row0, cols, rows, int.MaxValue, rows);
        if (ld < cols) throw new ArgumentOutOfRangeException(nameof(ld));
        if (rows == 0 || cols == 0) return;
        if ((long)(rows - 1) * ld + cols > block.Length) throw new ArgumentException("block too short", nameof(block));
        if (scratch.Length < rows * cols) throw new ArgumentException($"scratch needs {rows * cols} elements", nameof(scratch));
        Transpose(block, ld, rows, cols, scratch);
        WriteBlock(col0, row0, cols, rows, scratch, rows);
    }

    /// <summary>
    /// dst (cols×rows, ld = rows) = srcᵀ, in 32×32 cache blocks, each a <see cref="Numerics.BlockTranspose"/>
    /// (4×4 register blocks where AVX is available). Data movement only: the same bits on every path.
    /// </summary>
    internal static void Transpose(ReadOnlySpan<double> src, int ld, int rows, int cols, Span<double> dst)
    {
        if (rows == 0 || cols == 0) return;
        if ((long)(rows - 1) * ld + cols > src.Length) throw new ArgumentException("src too short", nameof(src));
        if ((long)rows * cols > dst.Length) throw new ArgumentException("dst too short", nameof(dst));
        TransposeCore(src, ld, rows, cols, dst, true);
    }

    internal static unsafe void TransposeCore(ReadOnlySpan<double> src, int ld, int rows, int cols, Span<double> dst, bool useAvx)
    {
        const int B = 32;
        fixed (double* ps = src, pd = dst)
        {
            for (int i0 = 0; i0 < rows; i0 += B)
                for (int j0 = 0; j0 < cols; j0 += B)
                    Numerics.BlockTranspose.Double(ps + (nint)i0 * ld + j0, ld, Math.Min(B, rows - i0), Math.Min(B, cols - j0), pd + (nint)j0 * rows + i0, rows, useAvx);
        }
    }

    /// <summary>Pushes written data to the file (and to the disk when <paramref name="toDisk"/>).</summary>
    public void Flush(bool toDisk)
    {
        // Positioned writes are already in the page cache; mapped views are flushed and unmapped per block.
        if (toDisk) _stream.Flush(flushToDisk: true);
    }

    public void Dispose()
    {
        _map?.Dispose();
        _stream.Dispose();
    }
}
