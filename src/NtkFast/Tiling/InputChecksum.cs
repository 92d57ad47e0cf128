using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace NtkFast.Tiling;

/// <summary>
/// A 64-bit checksum of the inputs a rank read (points, network parameters, shapes), compared across the
/// ranks of a job before any output exists: ranks that read different files — a stale node-local copy,
/// a file with fewer rows, other content — are stopped with one clear error. Not cryptographic: it
/// catches accidents, in about one pass over the data at memory speed.
/// </summary>
public struct InputChecksum
{
    private ulong _h;
    private bool _started;

    /// <summary>Mixes <paramref name="data"/> (its length first, so different splits differ).</summary>
    public void Add(ReadOnlySpan<byte> data)
    {
        if (!_started) { _h = 0x9E3779B97F4A7C15; _started = true; }
        Mix((ulong)data.Length);
        ReadOnlySpan<ulong> words = MemoryMarshal.Cast<byte, ulong>(data);
        // Four independent lanes, folded at the end, so the loop is not one long multiply chain.
        ulong a = _h, b = _h ^ 0xC2B2AE3D27D4EB4F, c = _h ^ 0x165667B19E3779F9, d = _h ^ 0x85EBCA77C2B2AE63;
        int i = 0;
        for (; i + 4 <= words.Length; i += 4)
        {
            a = Round(a, words[i]);
            b = Round(b, words[i + 1]);
            c = Round(c, words[i + 2]);
            d = Round(d, words[i + 3]);
        }
        for (; i < words.Length; i++) a = Round(a, words[i]);
        ulong tail = 0;
        for (int k = words.Length * 8; k < data.Length; k++) tail = (tail << 8) | data[k];
        a = Round(a, tail);
        _h = BitOperations.RotateLeft(a, 1) + BitOperations.RotateLeft(b, 7) + BitOperations.RotateLeft(c, 12) + BitOperations.RotateLeft(d, 18);
    }

    /// <summary>Mixes the elements of <paramref name="values"/>.</summary>
    public void Add<T>(ReadOnlySpan<T> values) where T : unmanaged => Add(MemoryMarshal.AsBytes(values));

    /// <summary>Mixes one number (a shape, a count).</summary>
    public void Add(long value)
    {
        if (!_started) { _h = 0x9E3779B97F4A7C15; _started = true; }
        Mix((ulong)value);
    }

    /// <summary>The checksum (never 0, which means "not checked").</summary>
    public readonly ulong Value
    {
        get
        {
            ulong h = _h;
            h ^= h >> 33; h *= 0xFF51AFD7ED558CCD; h ^= h >> 33; h *= 0xC4CEB9FE1A85EC53; h ^= h >> 33;
            return h == 0 ? 1 : h;
        }
    }

    private void Mix(ulong v) => _h = Round(_h, v);

    private static ulong Round(ulong acc, ulong input)
    {
        acc += input * 0xC2B2AE3D27D4EB4F;
        acc = BitOperations.RotateLeft(acc, 31);
        return acc * 0x9E3779B97F4A7C15;
    }

    /// <summary>
    /// Collective: throws <see cref="InvalidDataException"/> on every rank (the same message everywhere)
    /// when the ranks' checksums differ.
    /// </summary>
    public static void EnsureSameOnAllRanks(Communicator comm, ulong checksum)
    {
        ArgumentNullException.ThrowIfNull(comm);
        if (comm.Size == 1) return;
        // All equal ⟺ max = min for both 32-bit halves; min x = ¬max ¬x, so one MAX reduction does it.
        const long M = 0xFFFFFFFF;
        long hi = (long)(checksum >> 32), lo = (long)(checksum & M);
        Span<long> v = [hi, lo, M - hi, M - lo];
        comm.AllreduceMax(v);
        if (v[0] == M - v[2] && v[1] == M - v[3]) return;
        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
            $"the {comm.Size} ranks read different inputs (their checksums of the points and parameters differ): every rank must see the same files (a stale node-local copy, or a file still being written?)"));
    }
}
