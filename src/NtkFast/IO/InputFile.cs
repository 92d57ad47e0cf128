namespace NtkFast.IO;

/// <summary>
/// Opens input files so that nothing but a non-empty regular file is read: a directory, a missing
/// file, a FIFO, a character or block device (/dev/zero, /dev/stdin …) gives one clear line instead
/// of a hang or an endless read. .NET exposes no file type on Unix and opening a FIFO blocks until a
/// writer appears, so the type is judged before opening from the size the file system reports
/// (of the final target, for a symbolic link): FIFOs, devices and /proc files all report 0 bytes and
/// are refused with empty files; after opening, a stream that cannot seek is refused too.
/// </summary>
internal static class InputFile
{
    internal static FileStream Open(string path, string label)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (Directory.Exists(path)) throw new InvalidDataException($"{label}: is a directory, expected a file");
        var info = new FileInfo(path);
        if (!info.Exists) throw new FileNotFoundException($"{label}: file not found", path);
        // a symbolic link reports its own size: judge what it finally points to
        if (info.LinkTarget is not null)
        {
            FileSystemInfo? target;
            try { target = info.ResolveLinkTarget(returnFinalTarget: true); }
            catch (IOException) { target = null; }
            if (target is not FileInfo { Exists: true } t) throw new FileNotFoundException($"{label}: file not found (a broken or looping symbolic link)", path);
            info = t;
        }
        if (info.Length == 0) throw Empty(label);
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            if (!fs.CanSeek) throw new InvalidDataException($"{label}: is not a regular file (a pipe, socket or device cannot be read as input)");
            if (fs.Length == 0) throw Empty(label);
            return fs;
        }
        catch
        {
            fs.Dispose();
            throw;
        }
    }

    private static InvalidDataException Empty(string label) =>
        new($"{label}: is empty (0 bytes) or not a regular file (FIFOs and devices cannot be read as input)");
}
