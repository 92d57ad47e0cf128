using System.Runtime.InteropServices;
using NtkFast.Dynamics;

namespace NtkFast.Native;

/// <summary>Status codes of the C ABI (NTK_OK, NTK_ERR_COMPUTE, NTK_ERR_ARGUMENT in include/ntkfast.h).</summary>
internal static class Status
{
    public const int Ok = 0;
    public const int ComputeFailed = 1;
    public const int BadArgument = 2;
}

/// <summary>A bad argument found by the C ABI's own checks (status 2; the message is shown as is).</summary>
internal sealed class NativeArgumentException : Exception
{
    public NativeArgumentException(string message) : base(message) { }
    public NativeArgumentException() : this("bad argument") { }
    public NativeArgumentException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// The thread-local message of the last failed call (ntk_last_error). Every export wraps its body in
/// try { …; return Ok(); } catch (Exception e) { return Fail(e); }: success clears the message, an
/// exception becomes a status code and a message, and nothing crosses the boundary.
/// </summary>
internal static unsafe class LastError
{
    [ThreadStatic] private static string? t_message;
    [ThreadStatic] private static byte* t_native;      // NUL-terminated UTF-8 copy of t_message (NativeMemory)

    public static string Message => t_message ?? "";

    /// <summary>A successful call: clears the message and returns <see cref="Status.Ok"/>.</summary>
    public static int Ok()
    {
        Clear();
        return Status.Ok;
    }

    /// <summary>A failed call: records the exception's message and returns its status code.</summary>
    public static int Fail(Exception e)
    {
        try
        {
            (int status, string message) = Describe(e);
            Set(message);
            return status;
        }
        catch
        {
            return Status.ComputeFailed;   // not even the message could be stored (out of memory)
        }
    }

    /// <summary>Status and one-line message for an exception (no stack trace, no "(Parameter 'x')").</summary>
    internal static (int Status, string Message) Describe(Exception e) => e switch
    {
        NativeArgumentException => (Status.BadArgument, e.Message),
        ArgumentException a => (Status.BadArgument, Clean(a)),
        InvalidDataException or FileNotFoundException or DirectoryNotFoundException => (Status.BadArgument, FirstLine(e.Message)),
        SingularKernelException => (Status.ComputeFailed, FirstLine(e.Message)),
        OutOfMemoryException => (Status.ComputeFailed, "out of memory"),
        _ => (Status.ComputeFailed, $"{e.GetType().Name}: {FirstLine(e.Message)}"),
    };

    private static string Clean(ArgumentException a)
    {
        string m = FirstLine(a.Message);
        if (a.ParamName is { } p)
        {
            string suffix = $" (Parameter '{p}')";
            if (m.EndsWith(suffix, StringComparison.Ordinal)) m = m[..^suffix.Length];
        }
        return m;
    }

    private static string FirstLine(string s)
    {
        int nl = s.IndexOfAny(['\r', '\n']);
        return nl >= 0 ? s[..nl] : s;
    }

    public static void Set(string message)
    {
        t_message = message;
        FreeNative();
    }

    public static void Clear()
    {
        if (t_message is null) return;
        t_message = null;
        FreeNative();
    }

    private static void FreeNative()
    {
        if (t_native is null) return;
        NativeMemory.Free(t_native);
        t_native = null;
    }

    /// <summary>The message as a NUL-terminated UTF-8 string owned by this thread ("" when none).</summary>
    public static byte* NativeMessage()
    {
        if (t_native is null) t_native = NativeArgs.ToNative(Message);
        return t_native;
    }

    /// <summary>Copies the message into buf (see <see cref="NativeArgs.CopyUtf8"/>) and returns its full length in bytes.</summary>
    public static nuint CopyTo(byte* buf, nuint len) => NativeArgs.CopyUtf8(Message, buf, len);
}
