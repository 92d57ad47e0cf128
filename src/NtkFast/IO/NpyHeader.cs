using System.Globalization;

namespace NtkFast.IO;

/// <summary>
/// Parses the Python-literal dict of a .npy header strictly: exactly the keys 'descr',
/// 'fortran_order' and 'shape', with a string, a bool and a tuple of non-negative ints.
/// A tiny recursive-descent parser for the subset of Python literals numpy writes
/// (strings, True/False/None, integers, tuples, lists, dicts); anything else is an error.
/// </summary>
internal ref struct NpyHeaderParser
{
    private readonly ReadOnlySpan<char> _s;
    private int _pos;

    private NpyHeaderParser(ReadOnlySpan<char> s)
    {
        _s = s;
        _pos = 0;
    }

    /// <summary>Parsed header fields; <see cref="DescrIsList"/> marks a structured dtype (a list of fields).</summary>
    internal readonly record struct Header(string Descr, bool DescrIsList, bool FortranOrder, int[] Shape);

    internal static Header Parse(ReadOnlySpan<char> text)
    {
        var p = new NpyHeaderParser(text);
        p.SkipSpace();
        p.Expect('{');
        string? descr = null;
        bool descrIsList = false;
        bool? fortran = null;
        int[]? shape = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            p.SkipSpace();
            if (p.TryConsume('}')) break;
            string key = p.ParseString();
            if (!seen.Add(key)) throw Bad($"key '{Printable.Quote(key)}' appears twice");
            p.SkipSpace();
            p.Expect(':');
            p.SkipSpace();
            switch (key)
            {
                case "descr":
                    if (p.Peek() == '[') { p.SkipValue(0); descrIsList = true; descr = "structured"; }
                    else if (p.Peek() is '\'' or '"') descr = p.ParseString();
                    else throw Bad("'descr' is not a string");
                    break;
                case "fortran_order":
                    fortran = p.ParseBool();
                    break;
                case "shape":
                    shape = p.ParseShape();
                    break;
                default:
                    throw Bad($"unexpected key '{Printable.Quote(key)}' (expected 'descr', 'fortran_order', 'shape')");
            }
            p.SkipSpace();
            if (p.TryConsume(',')) continue;
            p.SkipSpace();
            p.Expect('}');
            break;
        }
        p.SkipSpace();
        if (p._pos != p._s.Length) throw Bad("unexpected text after the header dict");
        if (descr is null) throw Bad("missing key 'descr'");
        if (fortran is null) throw Bad("missing key 'fortran_order'");
        if (shape is null) throw Bad("missing key 'shape'");
        return new Header(descr, descrIsList, fortran.Value, shape);
    }

    private static InvalidDataException Bad(string why) => new($"malformed .npy header: {why}");

    private char Peek() => _pos < _s.Length ? _s[_pos] : '\0';

    private void SkipSpace()
    {
        while (_pos < _s.Length && _s[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
    }

    private bool TryConsume(char c)
    {
        if (_pos < _s.Length && _s[_pos] == c) { _pos++; return true; }
        return false;
    }

    private void Expect(char c)
    {
        if (!TryConsume(c))
            throw Bad(_pos < _s.Length ? $"expected '{c}' at offset {_pos}, found '{Printable.Quote(_s.Slice(_pos, 1))}'" : $"expected '{c}' at offset {_pos}, found the end");
    }

    private string ParseString()
    {
        char q = Peek();
        if (q is not ('\'' or '"')) throw Bad($"expected a quoted string at offset {_pos}");
        _pos++;
        int start = _pos;
        while (_pos < _s.Length && _s[_pos] != q)
        {
            if (_s[_pos] == '\\') throw Bad("escape sequences in header strings are not supported");
            _pos++;
        }
        if (_pos >= _s.Length) throw Bad("unterminated string");
        string r = _s[start.._pos].ToString();
        _pos++;
        return r;
    }

    private bool ParseBool()
    {
        if (_s[_pos..].StartsWith("True", StringComparison.Ordinal)) { _pos += 4; return true; }
        if (_s[_pos..].StartsWith("False", StringComparison.Ordinal)) { _pos += 5; return false; }
        throw Bad("'fortran_order' is not True or False");
    }

    private int[] ParseShape()
    {
        Expect('(');
        var dims = new List<int>();
        while (true)
        {
            SkipSpace();
            if (TryConsume(')')) break;
            dims.Add(ParseDim());
            if (dims.Count > Npy.MaxRank) throw Bad($"'shape' has more than {Npy.MaxRank} dimensions");
            SkipSpace();
            if (TryConsume(',')) continue;
            SkipSpace();
            Expect(')');
            break;
        }
        // Python needs the trailing comma for a 1-tuple: "(3)" is the int 3, not a shape.
        return dims.ToArray();
    }

    private int ParseDim()
    {
        int start = _pos;
        if (Peek() == '-') throw Bad("'shape' has a negative dimension");
        while (_pos < _s.Length && char.IsAsciiDigit(_s[_pos])) _pos++;
        if (_pos == start) throw Bad($"'shape' must be a tuple of integers (offset {start})");
        // numpy may write Python longs with an 'L' suffix in very old files.
        ReadOnlySpan<char> digits = _s[start.._pos];
        if (Peek() == 'L') _pos++;
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long v) || v > int.MaxValue)
            throw Bad($"dimension {Printable.Quote(digits)} is too large");
        return (int)v;
    }

    /// <summary>Skips any literal (used for a structured 'descr', which is rejected afterwards).</summary>
    private void SkipValue(int depth)
    {
        if (depth > 32) throw Bad("nesting too deep");
        SkipSpace();
        char c = Peek();
        if (c is '\'' or '"') { ParseString(); return; }
        if (c is '[' or '(' or '{')
        {
            char close = c == '[' ? ']' : c == '(' ? ')' : '}';
            _pos++;
            while (true)
            {
                SkipSpace();
                if (TryConsume(close)) return;
                SkipValue(depth + 1);
                SkipSpace();
                if (TryConsume(':')) { SkipValue(depth + 1); SkipSpace(); }
                if (TryConsume(',')) continue;
                SkipSpace();
                Expect(close);
                return;
            }
        }
        int start = _pos;
        while (_pos < _s.Length && (char.IsAsciiLetterOrDigit(_s[_pos]) || _s[_pos] is '-' or '+' or '.' or '_')) _pos++;
        if (_pos == start) throw Bad($"unexpected character at offset {_pos}");
    }
}
