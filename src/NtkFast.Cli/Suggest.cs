namespace NtkFast.Cli;

/// <summary>
/// "Did you mean" for unknown commands and options: the closest known name by edit distance
/// (insertions, deletions, substitutions and swaps of neighbours each cost 1), accepted when the
/// distance is small against the name's length, or when the given text is a prefix of exactly one name.
/// </summary>
internal static class Suggest
{
    /// <summary>The closest of <paramref name="candidates"/> to <paramref name="given"/>, or null when none is close.</summary>
    public static string? Closest(string given, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(given);
        ArgumentNullException.ThrowIfNull(candidates);
        if (given.Length == 0 || given.Length > 64) return null;
        string? best = null;
        int bestDistance = int.MaxValue;
        var prefixed = new List<string>();
        foreach (string c in candidates)
        {
            if (c.StartsWith(given, StringComparison.Ordinal)) prefixed.Add(c);
            int d = Distance(given, c);
            if (d < bestDistance || (d == bestDistance && string.CompareOrdinal(c, best) < 0)) { best = c; bestDistance = d; }
        }
        // One typo per three characters (at most 3), at least one: "dept" → "depth", "kernle" → "kernel".
        int allowed = Math.Clamp(given.Length / 3, 1, 3);
        if (best is not null && bestDistance <= allowed) return best;
        return prefixed.Count == 1 ? prefixed[0] : null;
    }

    /// <summary>Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).</summary>
    public static int Distance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        int n = a.Length, m = b.Length;
        var d = new int[n + 1, m + 1];
        for (int i = 0; i <= n; i++) d[i, 0] = i;
        for (int j = 0; j <= m; j++) d[0, j] = j;
        for (int i = 1; i <= n; i++)
            for (int j = 1; j <= m; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                int v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, d[i - 2, j - 2] + 1);
                d[i, j] = v;
            }
        return d[n, m];
    }
}
