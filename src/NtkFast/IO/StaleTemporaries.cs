using System.Runtime.InteropServices;

namespace NtkFast.IO;

/// <summary>
/// Cleans up the temporaries (".&lt;name&gt;.&lt;8 hex&gt;.ntk-tmp") that killed runs (SIGKILL, power loss) left beside an
/// output, safely when the folder is shared by concurrent runs, containers and MPI ranks on other machines:
/// a temporary is deleted only when no live process holds it.
/// <para>
/// The proof is an advisory lock. Every run holds a shared flock(2) on each temporary it creates, from creation
/// until the temporary is renamed into place or deleted (<see cref="Hold"/>/<see cref="Release"/>, called by
/// <see cref="AtomicFile"/>), on a read-only descriptor of its own: the write stream alone is not enough, because
/// outputs close it before the rename (tiles wait for the other ranks, side files are written first), .NET takes
/// no lock for FileShare.Read/ReadWrite writers on NFS, SMB and CIFS, and none at all under
/// DOTNET_SYSTEM_IO_DISABLEFILELOCKING. A cleaner (<see cref="Clean"/>, run by <see cref="AtomicFile.CreateTemp"/>
/// before each new temporary) opens each candidate itself and deletes it only when its own non-blocking exclusive
/// flock succeeds — so no process holds it — and it is older than <see cref="MinimumAge"/> (mtime), which closes
/// the gap between a creator's open and its lock. Any error (including a file system without locks, where
/// flock fails) keeps the file.
/// </para>
/// <para>
/// Only names made for the same destination are candidates; symbolic links are never followed (lstat, then
/// O_NOFOLLOW and the same inode again on the open descriptor), and only regular files are deleted. On NFS the
/// Linux client turns flock into whole-file locks on the server, so the proof holds across machines; it does not
/// on mounts whose locks are local to one client (NFS <c>nolock</c>/<c>local_lock=flock|all</c>, Lustre
/// <c>localflock</c>): set <see cref="KeepVariable"/>=1 there. Linux only (statx); elsewhere nothing is cleaned.
/// </para>
/// </summary>
internal static unsafe partial class StaleTemporaries
{
    /// <summary>Set to 1 to never delete other runs' temporaries (file systems whose locks are not shared between machines).</summary>
    internal const string KeepVariable = "NTKFAST_KEEP_TEMPORARIES";

    /// <summary>Default for <see cref="MinimumAge"/>.</summary>
    internal static readonly TimeSpan DefaultMinimumAge = TimeSpan.FromSeconds(60);

    private static readonly AsyncLocal<TimeSpan?> s_minimumAge = new();

    /// <summary>A temporary younger than this (by its mtime) is never deleted.</summary>
    internal static TimeSpan MinimumAge => s_minimumAge.Value ?? DefaultMinimumAge;

    /// <summary>Sets <see cref="MinimumAge"/> for the current async flow (tests: 0) until the result is disposed.</summary>
    internal static IDisposable WithMinimumAge(TimeSpan age)
    {
        TimeSpan? old = s_minimumAge.Value;
        s_minimumAge.Value = age;
        return new Restore(old);
    }

    private sealed class Restore(TimeSpan? old) : IDisposable
    {
        public void Dispose() => s_minimumAge.Value = old;
    }

    private static readonly object s_gate = new();
    private static readonly Dictionary<string, int> s_held = new(StringComparer.Ordinal);
    private static bool s_noLibc;

    /// <summary>
    /// Takes the shared lock that tells cleaners this temporary is alive: on a read-only descriptor kept until
    /// <see cref="Release"/>. Best effort (never throws): without it the file is protected by its write stream's lock only.
    /// </summary>
    internal static void Hold(string tempPath)
    {
        // Linux only: the open(2) flags below are Linux's, and only Linux runs the cleaner
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref s_noLibc)) return;
        try
        {
            int fd = Open(tempPath, ORdOnly | OCloExec | ONonBlock | ONoCtty);
            if (fd < 0) return;
            // LOCK_NB: a cleaner may hold LOCK_EX on a fresh file for a moment (it then leaves it: too young)
            int rc = -1;
            for (int attempt = 0; attempt < 200 && (rc = Flock(fd, LockSh | LockNb)) != 0; attempt++) Thread.Sleep(1);
            if (rc != 0)
            {
                _ = Close(fd);
                return;
            }
            lock (s_gate)
            {
                if (s_held.Remove(tempPath, out int old)) _ = Close(old);
                s_held[tempPath] = fd;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { Volatile.Write(ref s_noLibc, true); }
    }

    /// <summary>Drops the lock of <see cref="Hold"/> (after the temporary was renamed into place or deleted).</summary>
    internal static void Release(string tempPath)
    {
        int fd;
        lock (s_gate)
            if (!s_held.Remove(tempPath, out fd)) return;
        _ = Close(fd);
    }

    /// <summary>Temporaries held now (tests).</summary>
    internal static int HeldCount
    {
        get { lock (s_gate) return s_held.Count; }
    }

    /// <summary>
    /// Deletes the stale temporaries of <paramref name="destinationFull"/> (full path): regular files named
    /// ".&lt;name&gt;.&lt;8 hex&gt;.ntk-tmp" in its folder that no process holds and that are at least <see cref="MinimumAge"/>
    /// old. Returns how many were deleted. Never throws; never touches anything else.
    /// </summary>
    internal static int Clean(string destinationFull)
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref s_noLibc) || NoFollow == 0) return 0;
        if (Environment.GetEnvironmentVariable(KeepVariable) is "1") return 0;
        string? dir = Path.GetDirectoryName(destinationFull);
        if (string.IsNullOrEmpty(dir)) return 0;
        string sample = Path.GetFileName(AtomicFile.TempPathFor(destinationFull));
        string prefix = sample[..^(TokenLength + AtomicFile.TemporarySuffix.Length)]; // ".<name>."
        int deleted = 0;
        try
        {
            var options = new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true, RecurseSubdirectories = false, ReturnSpecialDirectories = false };
            foreach (string path in Directory.EnumerateFileSystemEntries(dir, "*", options))
            {
                string name = Path.GetFileName(path);
                if (IsCandidate(name, prefix) && TryDelete(path, MinimumAge)) deleted++;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { Volatile.Write(ref s_noLibc, true); }
        return deleted;
    }

    private const int TokenLength = 8;

    /// <summary>True for exactly <paramref name="prefix"/> + 8 lowercase hex digits + ".ntk-tmp".</summary>
    internal static bool IsCandidate(string name, string prefix)
    {
        if (name.Length != prefix.Length + TokenLength + AtomicFile.TemporarySuffix.Length) return false;
        if (!name.StartsWith(prefix, StringComparison.Ordinal) || !name.EndsWith(AtomicFile.TemporarySuffix, StringComparison.Ordinal)) return false;
        foreach (char c in name.AsSpan(prefix.Length, TokenLength))
            if (c is not (>= '0' and <= '9' or >= 'a' and <= 'f')) return false;
        return AtomicFile.IsTemporaryName(name);
    }

    /// <summary>Deletes <paramref name="path"/> if it is a regular file (not a link), unlocked, at least <paramref name="minimumAge"/> old.</summary>
    private static bool TryDelete(string path, TimeSpan minimumAge)
    {
        byte* st = stackalloc byte[StatxSize];
        // lstat first: links and special files are never opened; young files are not even locked (a creator's
        // own non-blocking lock might meet ours)
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxWanted, st) != 0 || !IsRegular(st) || !OldEnough(st, minimumAge)) return false;
        ulong ino = *(ulong*)(st + 32);
        uint devMajor = *(uint*)(st + 136), devMinor = *(uint*)(st + 140);
        int fd = Open(path, ORdWr | ONoFollow | ONonBlock | ONoCtty | OCloExec); // write access: NFS maps LOCK_EX to a write lock
        if (fd < 0) return false;
        try
        {
            if (Flock(fd, LockEx | LockNb) != 0) return false; // held by a live process (or no locks here): keep
            // the same regular file as the name showed, and still old now that nobody can be writing it
            if (Statx(fd, "", AtEmptyPath, StatxWanted, st) != 0 || !IsRegular(st) || !OldEnough(st, minimumAge)) return false;
            if (*(ulong*)(st + 32) != ino || *(uint*)(st + 136) != devMajor || *(uint*)(st + 140) != devMinor) return false;
            return Unlink(path) == 0;
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private static bool IsRegular(byte* st) =>
        (*(uint*)st & StatxWanted) == StatxWanted && (*(ushort*)(st + 28) & SIfMt) == SIfReg;

    private static bool OldEnough(byte* st, TimeSpan minimumAge)
    {
        long seconds = *(long*)(st + 112);
        uint nanos = *(uint*)(st + 120);
        DateTimeOffset mtime = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
        return DateTimeOffset.UtcNow - mtime >= minimumAge;
    }

    // struct statx (linux/stat.h; the same layout on every architecture): stx_mask u32 @0, stx_mode u16 @28,
    // stx_ino u64 @32, stx_mtime {i64 sec, u32 nsec} @112, stx_dev_major/minor u32 @136/@140; 256 bytes.
    private const int StatxSize = 256;
    private const uint StatxType = 0x1, StatxIno = 0x100, StatxMtime = 0x40;
    private const uint StatxWanted = StatxType | StatxIno | StatxMtime;
    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100, AtEmptyPath = 0x1000;
    private const int SIfMt = 0xF000, SIfReg = 0x8000;
    private const int ORdOnly = 0, ORdWr = 2, ONoCtty = 0x100, ONonBlock = 0x800, OCloExec = 0x80000;
    private const int LockSh = 1, LockEx = 2, LockNb = 4;

    /// <summary>O_NOFOLLOW differs between architectures; 0 (unknown) disables the cleaner.</summary>
    private static int NoFollow => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 or Architecture.X86 => 0x20000,
        Architecture.Arm64 or Architecture.Arm => 0x8000,
        _ => 0,
    };

    private static int ONoFollow => NoFollow;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, byte* statxbuf);

    [LibraryImport("libc", EntryPoint = "unlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Unlink(string path);
}
