using System.Globalization;
using System.Text;

namespace NtkFast.IO;

/// <summary>
/// Makes file content safe to quote in a one-line error message: control characters (newlines,
/// terminal escapes, NUL) become \xNN or \uNNNN escapes and long text is cut with '…'.
/// </summary>
internal static class Printable
{
    /// <summary>Length names read from files (array, member, activation names, dtype strings) are cut to.</summary>
    internal const int NameLength = 80;

    internal static string Quote(ReadOnlySpan<char> s, int max = NameLength)
    {
        var sb = new StringBuilder(Math.Min(s.Length, max) + 8);
        int n = Math.Min(s.Length, max);
        for (int i = 0; i < n; i++)
        {
            char c = s[i];
            if (char.IsControl(c) || char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) && !(char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(s[i - 1]))
                || c is '\u2028' or '\u2029' or '\u0085')
                sb.Append(c <= 0xFF ? string.Create(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}") : string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"));
            else sb.Append(c);
        }
        if (s.Length > max) sb.Append('…');
        return sb.ToString();
    }
}
