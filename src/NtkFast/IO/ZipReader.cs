using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace NtkFast.IO;

/// <summary>
/// A strict, bounded reader of zip archives as numpy writes them (stored or deflated members,
/// zip64 records when numpy forces them). Reads the end record and the central directory only;
/// members are inflated on request, one at a time, through a stream that yields exactly the
/// declared number of bytes and checks the CRC-32 at the end. Every size is checked before it is
/// trusted: the member count and the directory against the file's length and fixed limits, each
/// member's compressed size against the file, its declared inflated size against deflate's
/// maximal ratio and the memory budget (<see cref="ReadLimits"/>), and while inflating that the
/// data neither stops short of nor runs past the declared size (a zip bomb lying about its size
/// is caught after at most the declared bytes).
/// </summary>
internal sealed class ZipReader
{
    /// <summary>Most members accepted (a parameter file of a 10 000-layer network has ~20 000).</summary>
    internal const int MaxEntries = 100_000;

    /// <summary>Largest central directory read (100 000 members with names of ~600 bytes).</summary>
    internal const long MaxDirectoryBytes = 64L << 20;

    /// <summary>Deflate cannot expand data by more than ~1032:1; a larger declared size is a lie.</summary>
    internal const long MaxDeflateRatio = 1032;

    private const uint LocalSig = 0x04034b50, CentralSig = 0x02014b50, EndSig = 0x06054b50;
    private const uint Zip64EndSig = 0x06064b50, Zip64LocatorSig = 0x07064b50;

    internal sealed record Entry(string Name, int Method, int Flags, uint Crc, long CompressedSize, long Size, long LocalHeaderOffset);

    private readonly Stream _s;
    private readonly string _name;
    private readonly long _directoryStart;

    private ZipReader(Stream s, string name, long directoryStart, List<Entry> entries)
    {
        _s = s;
        _name = name;
        _directoryStart = directoryStart;
        Entries = entries;
    }

    /// <summary>Members in directory order.</summary>
    internal IReadOnlyList<Entry> Entries { get; }

    /// <summary>Reads the directory of the archive in <paramref name="s"/> (seekable, starting at position 0).</summary>
    internal static ZipReader Open(Stream s, string name)
    {
        long length = s.Length;
        if (length < 22) throw Corrupt(name, "truncated zip archive");
        // The end record is within the last 22 + 65535 bytes (its comment is at most 65535 bytes).
        int tailLen = (int)Math.Min(length, 22 + 0xFFFF);
        byte[] tail = new byte[tailLen];
        s.Position = length - tailLen;
        s.ReadExactly(tail);
        int end = -1;
        for (int i = tailLen - 22; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(i)) == EndSig && i + 22 + BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(i + 20)) <= tailLen)
            {
                end = i;
                break;
            }
        }
        if (end < 0) throw Corrupt(name, "corrupt or truncated zip archive: no end-of-directory record");
        ReadOnlySpan<byte> e = tail.AsSpan(end);
        long endPos = length - tailLen + end;
        long count = BinaryPrimitives.ReadUInt16LittleEndian(e[10..]);
        long countHere = BinaryPrimitives.ReadUInt16LittleEndian(e[8..]);
        long dirSize = BinaryPrimitives.ReadUInt32LittleEndian(e[12..]);
        long dirStart = BinaryPrimitives.ReadUInt32LittleEndian(e[16..]);
        int disk = BinaryPrimitives.ReadUInt16LittleEndian(e[4..]), dirDisk = BinaryPrimitives.ReadUInt16LittleEndian(e[6..]);
        long dirLimit = endPos;
        if (count == 0xFFFF || countHere == 0xFFFF || dirSize == 0xFFFFFFFF || dirStart == 0xFFFFFFFF || disk == 0xFFFF || dirDisk == 0xFFFF)
        {
            // zip64: a locator just before the end record points at the zip64 end record
            if (endPos < 20) throw Corrupt(name, "corrupt zip archive: zip64 locator missing");
            Span<byte> loc = stackalloc byte[20];
            s.Position = endPos - 20;
            s.ReadExactly(loc);
            if (BinaryPrimitives.ReadUInt32LittleEndian(loc) != Zip64LocatorSig) throw Corrupt(name, "corrupt zip archive: zip64 locator missing");
            long z64 = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(loc[8..]), long.MaxValue);
            if (z64 > endPos - 20 - 56) throw Corrupt(name, "corrupt zip archive: zip64 end record outside the file");
            Span<byte> z = stackalloc byte[56];
            s.Position = z64;
            s.ReadExactly(z);
            if (BinaryPrimitives.ReadUInt32LittleEndian(z) != Zip64EndSig) throw Corrupt(name, "corrupt zip archive: bad zip64 end record");
            disk = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(z[16..]), int.MaxValue);
            dirDisk = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(z[20..]), int.MaxValue);
            countHere = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(z[24..]), long.MaxValue);
            count = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(z[32..]), long.MaxValue);
            dirSize = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(z[40..]), long.MaxValue);
            dirStart = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(z[48..]), long.MaxValue);
            dirLimit = z64;
        }
        if (disk != 0 || dirDisk != 0 || countHere != count) throw new InvalidDataException($"{name}: multi-volume zip archives are not supported");
        if (count > MaxEntries) throw new InvalidDataException($"{name}: has {count} zip members (limit {MaxEntries})");
        if (dirStart > dirLimit || dirSize > dirLimit - dirStart)
            throw Corrupt(name, $"corrupt or truncated zip archive: the directory ({dirSize} bytes at offset {dirStart}) lies outside the file");
        if (dirSize > MaxDirectoryBytes) throw new InvalidDataException($"{name}: zip directory of {dirSize} bytes is implausibly large (limit {MaxDirectoryBytes})");
        if (dirSize < count * 46) throw Corrupt(name, $"corrupt zip archive: a directory of {dirSize} bytes cannot list {count} members");

        byte[] dir = new byte[dirSize];
        s.Position = dirStart;
        s.ReadExactly(dir);
        var entries = new List<Entry>((int)count);
        int p = 0;
        var utf8 = new UTF8Encoding(false, false);
        for (long k = 0; k < count; k++)
        {
            if (p + 46 > dir.Length || BinaryPrimitives.ReadUInt32LittleEndian(dir.AsSpan(p)) != CentralSig)
                throw Corrupt(name, $"corrupt zip archive: bad directory record {k}");
            ReadOnlySpan<byte> r = dir.AsSpan(p);
            int flags = BinaryPrimitives.ReadUInt16LittleEndian(r[8..]);
            int method = BinaryPrimitives.ReadUInt16LittleEndian(r[10..]);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(r[16..]);
            long csize = BinaryPrimitives.ReadUInt32LittleEndian(r[20..]);
            long usize = BinaryPrimitives.ReadUInt32LittleEndian(r[24..]);
            int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(r[28..]);
            int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(r[30..]);
            int commentLen = BinaryPrimitives.ReadUInt16LittleEndian(r[32..]);
            int startDisk = BinaryPrimitives.ReadUInt16LittleEndian(r[34..]);
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(r[42..]);
            if (p + 46L + nameLen + extraLen + commentLen > dir.Length) throw Corrupt(name, $"corrupt zip archive: directory record {k} runs past the directory");
            string entryName = utf8.GetString(r.Slice(46, nameLen));
            ReadOnlySpan<byte> extra = r.Slice(46 + nameLen, extraLen);
            if (usize == 0xFFFFFFFF || csize == 0xFFFFFFFF || offset == 0xFFFFFFFF || startDisk == 0xFFFF)
            {
                ReadOnlySpan<byte> z = FindExtra(extra, 0x0001);
                int q = 0;
                bool ok = true;
                if (usize == 0xFFFFFFFF) usize = Next64(z, ref q, ref ok);
                if (csize == 0xFFFFFFFF) csize = Next64(z, ref q, ref ok);
                if (offset == 0xFFFFFFFF) offset = Next64(z, ref q, ref ok);
                if (!ok) throw Corrupt(name, $"corrupt zip archive: member '{Printable.Quote(entryName, Printable.NameLength)}' lacks its zip64 sizes");
            }
            entries.Add(new Entry(entryName, method, flags, crc, csize, usize, offset));
            p += 46 + nameLen + extraLen + commentLen;
        }
        if (p != dir.Length)
            throw Corrupt(name, $"corrupt zip archive: the directory holds more than the {count} members its end record counts");
        return new ZipReader(s, name, dirStart, entries);
    }

    private static long Next64(ReadOnlySpan<byte> z, ref int q, ref bool ok)
    {
        if (q + 8 > z.Length) { ok = false; return 0; }
        long v = (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(z[q..]), long.MaxValue);
        q += 8;
        return v;
    }

    private static ReadOnlySpan<byte> FindExtra(ReadOnlySpan<byte> extra, ushort id)
    {
        int p = 0;
        while (p + 4 <= extra.Length)
        {
            ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(extra[p..]);
            int len = BinaryPrimitives.ReadUInt16LittleEndian(extra[(p + 2)..]);
            if (p + 4 + len > extra.Length) break;
            if (tag == id) return extra.Slice(p + 4, len);
            p += 4 + len;
        }
        return default;
    }

    private static InvalidDataException Corrupt(string name, string why) => new($"{name}: not a .npz file ({why})");

    /// <summary>
    /// Checks what the directory says about a member without reading it: supported method, sizes
    /// inside the file, a plausible inflated size within the budget. <paramref name="label"/> prefixes errors.
    /// </summary>
    internal void Check(Entry e, string label)
    {
        if ((e.Flags & 1) != 0) throw new InvalidDataException($"{label}: encrypted zip members are not supported");
        if (e.Method is not (0 or 8))
            throw new InvalidDataException($"{label}: zip compression method {e.Method} is not supported (stored or deflated only)");
        if (e.CompressedSize > _directoryStart || e.LocalHeaderOffset > _directoryStart - e.CompressedSize)
            throw new InvalidDataException($"{label}: zip entry claims {e.CompressedSize} compressed bytes at offset {e.LocalHeaderOffset}, beyond the {_directoryStart} bytes of member data in the file");
        if (e.Method == 0 && e.Size != e.CompressedSize)
            throw new InvalidDataException($"{label}: stored zip member declares {e.Size} bytes but occupies {e.CompressedSize}");
        if (e.Method == 8 && e.Size > e.CompressedSize * MaxDeflateRatio + 1024)
            throw new InvalidDataException($"{label}: implausible uncompressed size {e.Size} for {e.CompressedSize} compressed bytes (deflate expands at most {MaxDeflateRatio}:1; a zip bomb?)");
        if (e.Size > ReadLimits.MemoryBudget) throw ReadLimits.OverBudget(label, $"zip member of {e.Size} bytes", e.Size);
    }

    /// <summary>A stream of the member's <see cref="Entry.Size"/> inflated bytes, checked as described in the summary.</summary>
    internal Stream OpenEntry(Entry e, string label)
    {
        Check(e, label);
        Span<byte> h = stackalloc byte[30];
        _s.Position = e.LocalHeaderOffset;
        if (_s.ReadAtLeast(h, 30, throwOnEndOfStream: false) < 30 || BinaryPrimitives.ReadUInt32LittleEndian(h) != LocalSig)
            throw new InvalidDataException($"{label}: corrupt zip entry (no local header at offset {e.LocalHeaderOffset})");
        int nameLen = BinaryPrimitives.ReadUInt16LittleEndian(h[26..]);
        int extraLen = BinaryPrimitives.ReadUInt16LittleEndian(h[28..]);
        long dataStart = e.LocalHeaderOffset + 30 + nameLen + extraLen;
        if (dataStart > _directoryStart - e.CompressedSize)
            throw new InvalidDataException($"{label}: corrupt zip entry (its data runs into the zip directory)");
        _s.Position = dataStart;
        Stream raw = new BoundedStream(_s, e.CompressedSize);
        Stream inner = e.Method == 8 ? new DeflateStream(raw, CompressionMode.Decompress, leaveOpen: false) : raw;
        return new CheckedStream(inner, e.Size, e.Crc, label, e.Method == 8);
    }

    /// <summary>The next <c>length</c> bytes of a stream, then end of stream.</summary>
    private sealed class BoundedStream(Stream inner, long length) : ReadOnlyStream
    {
        private long _left = length;

        public override int Read(Span<byte> buffer)
        {
            if (_left <= 0 || buffer.IsEmpty) return 0;
            int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, _left)]);
            _left -= n;
            return n;
        }
    }

    /// <summary>
    /// Yields exactly <c>size</c> bytes of <c>inner</c>: fewer is a truncated member, more is a lie
    /// about the size; at the end the CRC-32 must match the directory's.
    /// </summary>
    private sealed class CheckedStream(Stream inner, long size, uint crc, string label, bool deflated) : ReadOnlyStream
    {
        private long _got;
        private uint _crc;
        private bool _done;

        public override int Read(Span<byte> buffer)
        {
            if (_done || buffer.IsEmpty) return 0;
            long left = size - _got;
            int n = left == 0 ? 0 : inner.Read(buffer[..(int)Math.Min(buffer.Length, left)]);
            if (n == 0 && left > 0)
                throw new InvalidDataException($"{label}: zip member ends after {_got} of the {size} bytes the archive declares (truncated or corrupt)");
            _crc = Crc32.Append(_crc, buffer[..n]);
            _got += n;
            if (_got == size)
            {
                _done = true;
                if (deflated)
                {
                    Span<byte> one = stackalloc byte[1];
                    if (inner.Read(one) != 0)
                        throw new InvalidDataException($"{label}: zip member inflates to more than the {size} bytes the archive declares (a zip bomb or a corrupt archive)");
                }
                if (_crc != crc)
                    throw new InvalidDataException($"{label}: zip member is corrupt: CRC-32 0x{_crc:X8}, the archive says 0x{crc:X8}");
            }
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    internal abstract class ReadOnlyStream : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public abstract override int Read(Span<byte> buffer);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
