using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using NtkFast.IO;

namespace NtkFast.Tests.IO;

/// <summary>
/// One file of the robustness corpus (tests/NtkFast.Tests/BadInputs) and what every reader must do with it.
/// <para><see cref="Kind"/> says which input it is meant for: <c>matrix</c> (a data matrix such as --x/--y:
/// <see cref="MatrixFile.Read"/>), <c>npz</c> (a parameter file: <see cref="Npz.Read(string)"/>),
/// <c>idx-images</c> / <c>idx-labels</c> (<see cref="Idx"/>).</para>
/// <para><see cref="Outcome"/>: <c>error</c> — the reader throws one line containing <see cref="Detail"/>
/// (alternatives separated by '|'; empty = any message); <c>ok</c> — it loads, with <see cref="Detail"/> the
/// shape "RxC" (matrix; values (i·C + j)/8; "RxC int": values i·C + j; "RxC bool": values (i·C + j) mod 2),
/// "N" (labels: values i mod 10), "NxRxC" (images: pixel k of the file = k mod 251) or the list of array
/// names (npz); <c>params-error</c> — an .npz that reads but is not a network (missing arrays), Detail =
/// the missing name. A <c>matrix</c> file may be an .npz (a data file: <see cref="MatrixFile.Read"/> reads
/// its only array).</para>
/// </summary>
public sealed record CorpusEntry(string File, string Kind, string Outcome, string Detail, byte[]? Bytes);

/// <summary>
/// Deterministic generator of the corpus. The committed files are what tests and the CLI pass read;
/// <c>BadInputCorpusTests</c> checks they match this generator, and with NTKFAST_WRITE_CORPUS=&lt;folder&gt;
/// it rewrites them there (run once after editing this class). Files in BadInputs/numpy were written by
/// numpy 1.24 itself and are listed here with <c>Bytes = null</c>.
/// </summary>
public static class BadInputCorpus
{
    public const string ManifestName = "manifest.tsv";

    public static IReadOnlyList<CorpusEntry> Entries()
    {
        var list = new List<CorpusEntry>();
        void Add(string file, string kind, string outcome, string detail, byte[]? bytes) => list.Add(new CorpusEntry(file, kind, outcome, detail, bytes));

        byte[] good34 = F8Data(Arange8(12));
        // ---- .npy: the container
        Add("npy_empty.npy", "matrix", "error", "is empty (0 bytes)", []);
        Add("npy_wrong_magic.npy", "matrix", "error", "bad magic", Replace(NpyBytes("<f8", "(3, 4)", good34), 0, "\x93NUMPZ"u8));
        Add("npy_text_file.npy", "matrix", "error", "bad magic", "1,2,3\n4,5,6\n"u8.ToArray());
        Add("npy_tiny.npy", "matrix", "error", "truncated .npy header", [0x93, (byte)'N', (byte)'U']);
        Add("npy_truncated_header.npy", "matrix", "error", "truncated .npy header", NpyBytes("<f8", "(3, 4)", good34)[..40]);
        Add("npy_oversized_header_length.npy", "matrix", "error", "truncated .npy header (header length 65535", SetU16(NpyBytes("<f8", "(3, 4)", good34), 8, 0xFFFF));
        Add("npy_v2_huge_header_length.npy", "matrix", "error", "truncated .npy header (header length 4294967280", V2(NpyBytes("<f8", "(3, 4)", good34), 0xFFFFFFF0));
        Add("npy_bad_version.npy", "matrix", "error", "unsupported .npy format version 9.0", Replace(NpyBytes("<f8", "(3, 4)", good34), 6, [9, 0]));
        Add("npy_header_garbage.npy", "matrix", "error", "malformed .npy header", RawNpy("hello, world", good34));
        Add("npy_header_missing_shape.npy", "matrix", "error", "missing key 'shape'", RawNpy("{'descr': '<f8', 'fortran_order': False, }", good34));
        Add("npy_header_extra_key.npy", "matrix", "error", "unexpected key 'order'", RawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), 'order': 1, }", good34));
        Add("npy_header_control_chars.npy", "matrix", "error", "unexpected key 'fort\\x0Aran\\x1B[2J'", RawNpy("{'descr': '<f8', 'fort\nran\u001b[2J': False, 'shape': (3, 4), }", good34)); // found by fuzzing: file text quoted in messages must stay one line
        Add("npy_header_bad_fortran.npy", "matrix", "error", "'fortran_order' is not True or False", RawNpy("{'descr': '<f8', 'fortran_order': 'no', 'shape': (3, 4), }", good34));
        Add("npy_header_shape_not_tuple.npy", "matrix", "error", "expected '('", RawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': [3, 4], }", good34));
        Add("npy_header_unterminated.npy", "matrix", "error", "malformed .npy header", RawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4", good34));
        // ---- .npy: dtypes (integers, bool and float16 are read as float64, exactly)
        Add("ok_int64.npy", "matrix", "ok", "3x4 int", NpyBytes("<i8", "(3, 4)", IntData(Ints(12), 8, false)));
        Add("ok_int32_bigendian.npy", "matrix", "ok", "3x4 int", NpyBytes(">i4", "(3, 4)", IntData(Ints(12), 4, true)));
        Add("ok_int16.npy", "matrix", "ok", "3x4 int", NpyBytes("<i2", "(3, 4)", IntData(Ints(12), 2, false)));
        Add("ok_int8.npy", "matrix", "ok", "3x4 int", NpyBytes("|i1", "(3, 4)", IntData(Ints(12), 1, false)));
        Add("ok_uint8.npy", "matrix", "ok", "3x4 int", NpyBytes("|u1", "(3, 4)", IntData(Ints(12), 1, false)));
        Add("ok_uint16_bigendian.npy", "matrix", "ok", "3x4 int", NpyBytes(">u2", "(3, 4)", IntData(Ints(12), 2, true)));
        Add("ok_uint32.npy", "matrix", "ok", "3x4 int", NpyBytes("<u4", "(3, 4)", IntData(Ints(12), 4, false)));
        Add("ok_uint64_bigendian.npy", "matrix", "ok", "3x4 int", NpyBytes(">u8", "(3, 4)", IntData(Ints(12), 8, true)));
        Add("ok_int64_fortran.npy", "matrix", "ok", "3x4 int", NpyBytes("<i8", "(3, 4)", IntData(Transpose(Ints(12), 3, 4), 8, false), fortran: true));
        Add("ok_bool.npy", "matrix", "ok", "3x4 bool", NpyBytes("|b1", "(3, 4)", Enumerable.Range(0, 12).Select(k => (byte)(k % 2)).ToArray()));
        Add("ok_float16.npy", "matrix", "ok", "3x4", NpyBytes("<f2", "(3, 4)", F2Data(Arange8(12), false)));
        Add("ok_float16_bigendian.npy", "matrix", "ok", "3x4", NpyBytes(">f2", "(3, 4)", F2Data(Arange8(12), true)));
        Add("npy_int64_inexact.npy", "matrix", "error", "'<i8' value 9007199254740993 at index (1, 2) cannot be converted exactly to float64", NpyBytes("<i8", "(3, 4)", IntData(Ints(12), 8, false, at: 6, value: 9007199254740993)));
        Add("npy_int64_inexact_fortran.npy", "matrix", "error", "'<i8' value -9007199254740993 at index (2, 1) cannot be converted exactly", NpyBytes("<i8", "(3, 4)", IntData(Ints(12), 8, false, at: 5, value: -9007199254740993), fortran: true));
        Add("npy_uint64_max.npy", "matrix", "error", "'>u8' value 18446744073709551615 at index (0,) cannot be converted exactly", NpyBytes(">u8", "(2,)", IntData(Ints(2), 8, true, at: 0, value: -1)));
        Add("npy_int128.npy", "matrix", "error", "unsupported dtype '<i16' (signed integer)", NpyBytes("<i16", "(3, 4)", new byte[192]));
        Add("npy_bool_wide.npy", "matrix", "error", "unsupported dtype '|b2' (boolean)", NpyBytes("|b2", "(3, 4)", new byte[24]));
        Add("npy_descr_long.npy", "matrix", "error", "unsupported dtype '<" + new string('x', Printable.NameLength - 1) + "…' (unknown)", NpyBytes("<" + new string('x', 300), "(1,)", new byte[8]));
        Add("npy_descr_control_chars.npy", "matrix", "error", "unsupported dtype '<\\x1B[2Jf8\\x0A' (unknown)", NpyBytes("<\u001b[2Jf8\n", "(1,)", new byte[8]));
        Add("npy_complex128.npy", "matrix", "error", "unsupported dtype '<c16' (complex)", NpyBytes("<c16", "(3, 4)", new byte[192]));
        Add("npy_object.npy", "matrix", "error", "unsupported dtype '|O' (Python object)", NpyBytes("|O", "(3, 4)", new byte[96]));
        Add("npy_float128.npy", "matrix", "error", "unsupported dtype '<f16' (float128)", NpyBytes("<f16", "(3, 4)", new byte[192]));
        Add("npy_bytes.npy", "matrix", "error", "unsupported dtype '|S4' (byte string)", NpyBytes("|S4", "(3, 4)", new byte[48]));
        Add("npy_structured.npy", "matrix", "error", "structured (record) dtypes are not supported",
            RawNpy("{'descr': [('a', '<f8'), ('b', '<f8')], 'fortran_order': False, 'shape': (3, 2), }", new byte[96]));
        Add("npy_unicode_matrix.npy", "matrix", "error", "unicode arrays of shape (2,) are not supported", NpyBytes("<U3", "(2,)", new byte[24]));
        Add("npy_text_scalar.npy", "matrix", "error", "holds text", TextNpy("relu"));
        // ---- .npy: shape versus data
        Add("npy_truncated_data.npy", "matrix", "error", "truncated .npy data: shape (3, 4) of <f8 needs 96 bytes, the file has 50", NpyBytes("<f8", "(3, 4)", good34[..50]));
        Add("npy_extra_data.npy", "matrix", "error", "size mismatch: shape (3, 4) of <f8 needs 96 bytes, the file has 104", NpyBytes("<f8", "(3, 4)", F8Data(Arange8(13))));
        Add("npy_lying_shape.npy", "matrix", "error", "truncated .npy data: shape (46340, 46340) of <f8 needs 17179164800 bytes, the file has 96", NpyBytes("<f8", "(46340, 46340)", good34));
        Add("npy_shape_overflow.npy", "matrix", "error", "more elements than an array can hold", NpyBytes("<f8", "(100000, 100000)", good34));
        Add("npy_1e12_elements.npy", "matrix", "error", "shape (1000000, 1000000) has more elements than an array can hold", NpyBytes("<f8", "(1000000, 1000000)", good34));
        Add("npy_shape_product_overflows_long.npy", "matrix", "error", "has more elements than an array can hold", NpyBytes("<i8", "(2147483647, 2147483647, 2147483647, 2147483647)", good34));
        Add("npy_shape_dim_too_large.npy", "matrix", "error", "dimension 4294967296 is too large", NpyBytes("<f8", "(4294967296, 1)", good34));
        Add("npy_shape_negative.npy", "matrix", "error", "negative dimension", NpyBytes("<f8", "(-3, 4)", good34));
        Add("npy_zip_archive.npy", "matrix", "error", "it is a zip archive", Zip(("W0.npy", NpyBytes("<f8", "(3, 4)", good34))));
        // ---- valid .npy, invalid as a data matrix
        Add("npy_0_rows.npy", "matrix", "error", "has 0 rows (shape (0, 4))", NpyBytes("<f8", "(0, 4)", []));
        Add("npy_0_cols.npy", "matrix", "error", "has 0 columns (shape (4, 0))", NpyBytes("<f8", "(4, 0)", []));
        Add("npy_0_rows_1d.npy", "matrix", "error", "has 0 rows (shape (0,))", NpyBytes("<f4", "(0,)", []));
        Add("npy_0d.npy", "matrix", "error", "0-d scalar", NpyBytes("<f8", "()", F8Data([1.5])));
        Add("npy_3d.npy", "matrix", "error", "is 3-D with shape (2, 3, 2)", NpyBytes("<f8", "(2, 3, 2)", good34));
        Add("npy_nan.npy", "matrix", "error", "contains NaN at row 1, column 2 (0-based)", NpyBytes("<f8", "(3, 4)", F8Data(With(Arange8(12), 6, double.NaN))));
        Add("npy_inf.npy", "matrix", "error", "contains +Inf at row 2, column 3 (0-based)", NpyBytes("<f8", "(3, 4)", F8Data(With(Arange8(12), 11, double.PositiveInfinity))));
        Add("npy_neginf_f4.npy", "matrix", "error", "contains -Inf at row 0, column 0 (0-based)", NpyBytes("<f4", "(3, 4)", F4Data(With(Arange8(12), 0, double.NegativeInfinity))));
        Add("npy_nan_bigendian.npy", "matrix", "error", "contains NaN at row 0, column 1 (0-based)", NpyBytes(">f8", "(3, 4)", Swap8(F8Data(With(Arange8(12), 1, double.NaN)))));
        // ---- good but unusual .npy (must load, values (i·C + j)/8)
        Add("ok_1d_is_column.npy", "matrix", "ok", "5x1", NpyBytes("<f8", "(5,)", F8Data(Arange8(5))));
        Add("ok_float32.npy", "matrix", "ok", "3x4", NpyBytes("<f4", "(3, 4)", F4Data(Arange8(12))));
        Add("ok_bigendian_f4.npy", "matrix", "ok", "3x4", NpyBytes(">f4", "(3, 4)", Swap4(F4Data(Arange8(12)))));
        Add("ok_fortran_f8.npy", "matrix", "ok", "3x4", NpyBytes("<f8", "(3, 4)", F8Data(Transpose(Arange8(12), 3, 4)), fortran: true));
        Add("ok_fortran_bigendian_f8.npy", "matrix", "ok", "3x4", NpyBytes(">f8", "(3, 4)", Swap8(F8Data(Transpose(Arange8(12), 3, 4))), fortran: true));
        Add("ok_version2.npy", "matrix", "ok", "3x4", V2(NpyBytes("<f8", "(3, 4)", good34), null));
        Add("ok_version3.npy", "matrix", "ok", "3x4", V2(NpyBytes("<f8", "(3, 4)", good34), null, major: 3));
        Add("ok_unaligned_header.npy", "matrix", "ok", "2x2", RawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2)}", F8Data(Arange8(4)), pad: false));
        Add("ok_native_descr.npy", "matrix", "ok", "1x3", NpyBytes("f8", "(1, 3)", F8Data(Arange8(3))));
        Add("numpy/c_f8_3x4.npy", "matrix", "ok", "3x4", null);
        Add("numpy/c_f4_3x4.npy", "matrix", "ok", "3x4", null);
        Add("numpy/bigendian_f8_3x4.npy", "matrix", "ok", "3x4", null);
        Add("numpy/bigendian_f4_3x4.npy", "matrix", "ok", "3x4", null);
        Add("numpy/fortran_f8_3x4.npy", "matrix", "ok", "3x4", null);
        Add("numpy/fortran_f4_2x3x4.npy", "matrix", "error", "is 3-D", null);
        Add("numpy/int64_3.npy", "matrix", "ok", "3x1 int", null);
        Add("numpy/int64_labels_5.npy", "matrix", "ok", "5x1 int", null);
        Add("numpy/int8_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/bigendian_int16_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/int32_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/fortran_int64_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/uint8_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/uint16_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/bigendian_uint32_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/uint64_3x4.npy", "matrix", "ok", "3x4 int", null);
        Add("numpy/bool_3x4.npy", "matrix", "ok", "3x4 bool", null);
        Add("numpy/float16_3x4.npy", "matrix", "ok", "3x4", null);
        Add("numpy/bigendian_float16_3x4.npy", "matrix", "ok", "3x4", null);
        Add("numpy/int64_2pow53plus1.npy", "matrix", "error", "'<i8' value 9007199254740993 at index (1, 2) cannot be converted exactly to float64", null);
        Add("numpy/data_one_member.npz", "matrix", "ok", "3x4", null);
        Add("numpy/data_two_members_compressed.npz", "matrix", "error", "holds 2 arrays ('images', 'labels'); name the one to read as", null);
        Add("numpy/scalar_2.5.npy", "matrix", "error", "0-d scalar", null);
        Add("numpy/text_leaky_relu.npy", "matrix", "error", "holds text", null);
        Add("numpy/text_nonascii.npy", "matrix", "error", "holds text", null);
        // ---- .csv
        Add("csv_ragged.csv", "matrix", "error", "line 3 has 2 values, expected 3 (as on line 1)", "0,0.125,0.25\n0.375,0.5,0.625\n1,2\n"u8.ToArray());
        Add("csv_ragged_long.csv", "matrix", "error", "line 2 has 4 values, expected 3 (as on line 1)", "0,0.125,0.25\n0.375,0.5,0.625,9\n"u8.ToArray());
        Add("csv_stray_text.csv", "matrix", "error", "line 2, column 3: 'abc' is not a number", "0,0.125,0.25\n0.375,0.5,abc\n"u8.ToArray());
        Add("csv_mixed_header.csv", "matrix", "error", "line 1, column 1: 'x' is not a number", "x,1,2\n0,0.125,0.25\n"u8.ToArray());
        Add("csv_nan.csv", "matrix", "error", "line 2, column 1: nan is not allowed", "0,1\nnan,2\n"u8.ToArray());
        Add("csv_inf.csv", "matrix", "error", "line 1, column 2: inf is not allowed", "0,inf\n1,2\n"u8.ToArray());
        Add("csv_overflow.csv", "matrix", "error", "line 1, column 1: 1e400 is not allowed", "1e400,1\n"u8.ToArray());
        Add("csv_empty_field.csv", "matrix", "error", "line 1, column 2: empty value", "1,,2\n"u8.ToArray());
        Add("csv_trailing_comma.csv", "matrix", "error", "line 1, column 3: empty value", "1,2,\n3,4,\n"u8.ToArray());
        Add("csv_empty.csv", "matrix", "error", "is empty (0 bytes)", []);
        Add("csv_header_only.csv", "matrix", "error", "has 0 rows", "x1,x2,x3\n"u8.ToArray());
        Add("csv_binary.csv", "matrix", "error", "", NpyBytes("<f8", "(3, 4)", good34));
        Add("ok_csv_header.csv", "matrix", "ok", "2x3", "# comment line\nx1,x2,x3\n0,0.125,0.25\n\n0.375, 0.5 ,\"0.625\"\r\n"u8.ToArray());
        Add("ok_csv_whitespace.csv", "matrix", "ok", "2x2", "0.000000000000000000e+00 1.250000000000000000e-01\n2.5e-01\t3.75e-01\n"u8.ToArray());
        Add("ok_csv_bom.csv", "matrix", "ok", "1x2", [0xEF, 0xBB, 0xBF, .. "0,0.125"u8]);
        // ---- .npz as a data matrix (its one array, or data.npz:NAME)
        byte[] goodW0 = NpyBytes("<f8", "(3, 4)", good34);
        Add("ok_npz_data_one_array.npz", "matrix", "ok", "3x4", Zip(("x.npy", goodW0)));
        Add("ok_npz_data_member_without_suffix.npz", "matrix", "ok", "3x4", Zip(("x", goodW0)));
        Add("ok_npz_data_int16_deflated.npz", "matrix", "ok", "3x4 int", ZipRaw(Deflated("labels.npy", NpyBytes("<i2", "(3, 4)", IntData(Ints(12), 2, false)))));
        Add("npz_data_two_arrays.npz", "matrix", "error", "holds 2 arrays ('x', 'y'); name the one to read as", Zip(("x.npy", goodW0), ("y.npy", goodW0)));
        Add("npz_data_names_control_chars.npz", "matrix", "error", "holds 2 arrays ('a\\x0A\\x1B[31m" + new string('A', Printable.NameLength - 7) + "…', 'y')", Zip(("a\n\u001b[31m" + new string('A', 200) + ".npy", goodW0), ("y.npy", goodW0)));
        Add("npz_data_bad_crc.npz", "matrix", "error", "npz_data_bad_crc.npz[x]: zip member is corrupt: CRC-32", Flip(Zip(("x.npy", goodW0)), 30 + 5 + 200));
        // ---- .npz

        Add("npz_not_zip.npz", "npz", "error", "not a .npz file (not a zip archive)", "W0,b0\n1,2\n"u8.ToArray());
        Add("npz_empty_file.npz", "npz", "error", "is empty (0 bytes)", []);
        Add("npz_is_npy.npz", "npz", "error", "is a single .npy array, not a .npz archive", goodW0);
        Add("npz_no_entries.npz", "npz", "error", "contains no arrays", Zip());
        Add("npz_truncated.npz", "npz", "error", "corrupt or truncated zip archive", Zip(("W0.npy", goodW0), ("b0.npy", goodW0))[..200]);
        Add("npz_bad_inner_dtype.npz", "npz", "error", "npz_bad_inner_dtype.npz[W0]: unsupported dtype '<i8'", Zip(("W0.npy", NpyBytes("<i8", "(3, 4)", good34))));
        Add("npz_inner_truncated.npz", "npz", "error", "npz_inner_truncated.npz[W0]: truncated .npy data", Zip(("W0.npy", goodW0[..150])));
        Add("npz_inner_not_npy.npz", "npz", "error", "npz_inner_not_npy.npz[W0]: not a .npy file (bad magic", Zip(("W0.npy", "hello"u8.ToArray())));
        Add("npz_non_npy_entry.npz", "npz", "error", "entry 'notes.txt' is not a .npy array", Zip(("W0.npy", goodW0), ("notes.txt", "hi"u8.ToArray())));
        Add("npz_lying_entry_sizes.npz", "npz", "error", "npz_lying_entry_sizes.npz[W0]: zip entry claims 2147483647 compressed bytes", LieInCentralDirectory(Zip(("W0.npy", goodW0))));
        Add("npz_stored_bad_crc.npz", "npz", "error", "npz_stored_bad_crc.npz[W0]: zip member is corrupt: CRC-32", Flip(Zip(("W0.npy", goodW0)), 30 + 6 + 200));
        Add("npz_deflated_bad_crc.npz", "npz", "error", "npz_deflated_bad_crc.npz[W0]: zip member is corrupt: CRC-32", Flip(ZipRaw(Deflated("W0.npy", goodW0)), 30 + 6 + 5 + 200));
        Add("npz_deflated_corrupt_stream.npz", "npz", "error", "npz_deflated_corrupt_stream.npz[W0]: corrupt zip entry", Flip(ZipRaw(Deflated("W0.npy", goodW0)), 30 + 6 + 3, 0xFF));
        Add("npz_inflates_more_than_declared.npz", "npz", "error", "npz_inflates_more_than_declared.npz[W0]: zip member inflates to more than the 224 bytes the archive declares",
            ZipRaw(Deflated("W0.npy", goodW0, extra: 3000)));
        Add("npz_inflates_less_than_declared.npz", "npz", "error", "npz_inflates_less_than_declared.npz[W0]: .npy size mismatch: shape (3, 4) of <f8 needs 96 bytes, the file has 296",
            ZipRaw(Deflated("W0.npy", goodW0, declared: 224 + 200)));
        Add("npz_bomb_declared_size.npz", "npz", "error", "npz_bomb_declared_size.npz[W0]: implausible uncompressed size 4294967294 for 229 compressed bytes",
            ZipRaw(Deflated("W0.npy", goodW0, declared: 0xFFFFFFFE)));
        Add("npz_stored_size_mismatch.npz", "npz", "error", "npz_stored_size_mismatch.npz[W0]: stored zip member declares 100 bytes but occupies 224",
            ZipRaw(("W0.npy", goodW0, 0, 100, Crc32(goodW0))));
        Add("npz_unsupported_method.npz", "npz", "error", "npz_unsupported_method.npz[W0]: zip compression method 14 is not supported", ZipRaw(("W0.npy", goodW0, 14, 224, Crc32(goodW0))));
        Add("npz_too_many_members.npz", "npz", "error", "has 1000000 zip members (limit 100000)", Zip64Claim(Zip(("W0.npy", goodW0)), 1_000_000));
        Add("npz_member_name_control_chars.npz", "npz", "error", "entry 'evil\\x0A\\x1B[31m" + new string('A', Printable.NameLength - 10) + "…' is not a .npy array",
            Zip(("evil\n\u001b[31m" + new string('A', 200), goodW0)));
        Add("npz_lacks_weights.npz", "npz", "params-error", "W0", Zip(("beta.npy", NpyBytes("<f8", "()", F8Data([0.1]))), ("activation.npy", TextNpy("relu"))));
        Add("ok_npz_two_arrays.npz", "npz", "ok", "W0,b0", Zip(("W0.npy", goodW0), ("b0.npy", NpyBytes("<f4", "(3,)", F4Data(Arange8(3))))));
        Add("numpy/params_stored.npz", "npz", "ok", "W0,beta,activation", null);
        Add("numpy/params_deflated.npz", "npz", "ok", "W0,beta,activation", null);
        // ---- IDX (pixel k of a file = k mod 251; label i = i mod 10)
        Add("idx_images_wrong_magic.idx", "idx-images", "error", "magic 0x00000801, expected 0x00000803 (that is an IDX label file)", Labels(5));
        Add("idx_images_bad_magic.idx", "idx-images", "error", "not an IDX image file: magic 0x12345678", Replace(Images(2, 3, 3), 0, [0x12, 0x34, 0x56, 0x78]));
        Add("idx_images_float_type.idx", "idx-images", "error", "element type 0x0D is not unsigned byte", Replace(Images(2, 3, 3), 2, [0x0D]));
        Add("idx_images_header_truncated.idx", "idx-images", "error", "truncated IDX header", Images(2, 3, 3)[..10]);
        Add("idx_images_truncated.idx", "idx-images", "error", "truncated IDX file: the header promises 18 bytes of images, the file has 10", Images(2, 3, 3)[..26]);
        Add("idx_images_extra.idx", "idx-images", "error", "IDX size mismatch", [.. Images(2, 3, 3), 0]);
        Add("idx_images_size_overflow.idx", "idx-images", "error", "too large", Replace(Images(2, 3, 3), 4, [0x08, 0x12, 0x9B, 0xF8, 0x01, 0x00, 0x00, 0x70, 0x00, 0x40, 0x00, 0x70])); // found by fuzzing
        Add("idx_images_zero.idx", "idx-images", "error", "holds no images", Images(0, 3, 3));
        Add("idx_images_zero_size.idx", "idx-images", "error", "IDX images of size 0×3", Images(2, 0, 3));
        Add("idx_images_truncated.gz", "idx-images", "error", "truncated IDX file: the header promises 18 bytes of images, the data ends after 10", Gzip(Images(2, 3, 3)[..26]));
        Add("idx_images_lying_header.gz", "idx-images", "error", "IDX header promises 2145024000 bytes of images, more than the 57 bytes of gzip data can inflate to", Gzip(Replace(Images(2, 3, 3), 4, [0x00, 0x02, 0x9B, 0xF8, 0x00, 0x00, 0x00, 0x70, 0x00, 0x00, 0x00, 0x70])));
        Add("idx_images_lying_header_within_ratio.gz", "idx-images", "error", "truncated IDX file: the header promises 20000 bytes of images, the data ends after 18",
            Gzip(Replace(Images(2, 3, 3), 4, [0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x19, 0x00, 0x00, 0x00, 0x19])));
        Add("idx_images_gzip_cut.gz", "idx-images", "error", "truncated IDX file: the header promises 100 bytes of images, the data ends after", Gzip(Images(4, 5, 5))[..60]);
        Add("idx_images_gzip_bad_crc.gz", "idx-images", "error", "corrupt gzip data", Replace(Gzip(Images(2, 3, 3)), Gzip(Images(2, 3, 3)).Length - 8, [0, 0, 0, 0]));
        Add("idx_labels_wrong_magic.idx", "idx-labels", "error", "magic 0x00000803, expected 0x00000801 (that is an IDX image file)", Images(2, 3, 3));
        Add("idx_labels_truncated.idx", "idx-labels", "error", "truncated IDX file: the header promises 5 bytes of labels, the file has 3", Labels(5)[..11]);
        Add("idx_labels_truncated.gz", "idx-labels", "error", "truncated IDX file", Gzip(Labels(5)[..11]));
        Add("ok_idx_images.idx", "idx-images", "ok", "3x4x5", Images(3, 4, 5));
        Add("ok_idx_images.gz", "idx-images", "ok", "3x4x5", Gzip(Images(3, 4, 5)));
        Add("ok_idx_labels.idx", "idx-labels", "ok", "7", Labels(7));
        Add("ok_idx_labels.gz", "idx-labels", "ok", "7", Gzip(Labels(7)));
        return list;
    }

    /// <summary>The manifest: one line per file, tab-separated: file, kind, outcome, detail.</summary>
    public static string Manifest()
    {
        var sb = new StringBuilder();
        sb.Append("# NtkFast robustness corpus; generated by tests/NtkFast.Tests/IO/BadInputCorpus.cs (see its summary for the columns)\n");
        sb.Append("# file\tkind\toutcome\tdetail\n");
        foreach (CorpusEntry e in Entries()) sb.Append(e.File).Append('\t').Append(e.Kind).Append('\t').Append(e.Outcome).Append('\t').Append(e.Detail).Append('\n');
        return sb.ToString();
    }

    /// <summary>Parses a manifest (so consumers such as the CLI pass need not know the generator).</summary>
    public static IReadOnlyList<CorpusEntry> ParseManifest(string text)
    {
        var r = new List<CorpusEntry>();
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            string[] f = line.Split('\t');
            if (f.Length != 4) throw new InvalidDataException($"manifest line has {f.Length} fields: {line}");
            r.Add(new CorpusEntry(f[0], f[1], f[2], f[3], null));
        }
        return r;
    }

    // ------------------------------------------------------------------ builders

    internal static double[] Arange8(int n) => Enumerable.Range(0, n).Select(i => i / 8.0).ToArray();

    private static double[] With(double[] a, int i, double v)
    {
        a[i] = v;
        return a;
    }

    private static T[] Transpose<T>(T[] a, int rows, int cols)
    {
        var t = new T[a.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                t[j * rows + i] = a[i * cols + j];
        return t;
    }

    private static long[] Ints(int n) => Enumerable.Range(0, n).Select(i => (long)i).ToArray();

    /// <summary>Integers as <paramref name="size"/>-byte two's complement (or unsigned) values; element <paramref name="at"/> set to <paramref name="value"/>.</summary>
    internal static byte[] IntData(long[] v, int size, bool bigEndian, int at = -1, long value = 0)
    {
        var b = new byte[v.Length * size];
        for (int i = 0; i < v.Length; i++)
        {
            ulong x = (ulong)(i == at ? value : v[i]);
            for (int k = 0; k < size; k++) b[i * size + (bigEndian ? size - 1 - k : k)] = (byte)(x >> (8 * k));
        }
        return b;
    }

    private static byte[] F2Data(double[] v, bool bigEndian)
    {
        var b = new byte[v.Length * 2];
        for (int i = 0; i < v.Length; i++)
        {
            if (bigEndian) BinaryPrimitives.WriteHalfBigEndian(b.AsSpan(i * 2), (Half)v[i]);
            else BinaryPrimitives.WriteHalfLittleEndian(b.AsSpan(i * 2), (Half)v[i]);
        }
        return b;
    }

    private static byte[] Flip(byte[] b, int at, byte xor = 0x01)
    {
        byte[] r = (byte[])b.Clone();
        r[at] ^= xor;
        return r;
    }

    internal static byte[] F8Data(double[] v)
    {
        var b = new byte[v.Length * 8];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteDoubleLittleEndian(b.AsSpan(i * 8), v[i]);
        return b;
    }

    private static byte[] F4Data(double[] v)
    {
        var b = new byte[v.Length * 4];
        for (int i = 0; i < v.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(i * 4), (float)v[i]);
        return b;
    }

    private static byte[] Swap8(byte[] b)
    {
        for (int i = 0; i < b.Length; i += 8) b.AsSpan(i, 8).Reverse();
        return b;
    }

    private static byte[] Swap4(byte[] b)
    {
        for (int i = 0; i < b.Length; i += 4) b.AsSpan(i, 4).Reverse();
        return b;
    }

    /// <summary>A version 1.0 file with numpy's header layout for any descr/shape text.</summary>
    internal static byte[] NpyBytes(string descr, string shape, byte[] data, bool fortran = false) =>
        RawNpy($"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}", data);

    /// <summary>A version 1.0 file with an arbitrary header text, padded like numpy unless <paramref name="pad"/> is false.</summary>
    private static byte[] RawNpy(string dict, byte[] data, bool pad = true)
    {
        int total = 10 + dict.Length + 1;
        int padding = pad ? (64 - total % 64) % 64 : 0;
        string header = dict + new string(' ', padding) + "\n";
        var b = new List<byte>([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        b.Add((byte)(header.Length & 0xFF));
        b.Add((byte)(header.Length >> 8));
        b.AddRange(Encoding.Latin1.GetBytes(header));
        b.AddRange(data);
        return b.ToArray();
    }

    private static byte[] TextNpy(string text)
    {
        var ms = new MemoryStream();
        Npy.WriteText(ms, text);
        return ms.ToArray();
    }

    /// <summary>Rewrites a version 1.0 file as version 2.0 (or 3.0): 4-byte header length, optionally a lying one.</summary>
    private static byte[] V2(byte[] v1, uint? lyingLength, int major = 2)
    {
        int len = BinaryPrimitives.ReadUInt16LittleEndian(v1.AsSpan(8));
        var b = new byte[v1.Length + 2];
        v1.AsSpan(0, 8).CopyTo(b);
        b[6] = (byte)major;
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(8), lyingLength ?? (uint)len);
        v1.AsSpan(10).CopyTo(b.AsSpan(12));
        return b;
    }

    private static byte[] Replace(byte[] b, int at, ReadOnlySpan<byte> with)
    {
        byte[] r = (byte[])b.Clone();
        with.CopyTo(r.AsSpan(at));
        return r;
    }

    private static byte[] SetU16(byte[] b, int at, ushort v)
    {
        byte[] r = (byte[])b.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(r.AsSpan(at), v);
        return r;
    }

    /// <summary>A zip of stored entries with fixed timestamps.</summary>
    internal static byte[] Zip(params (string Name, byte[] Data)[] entries)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] data) in entries)
            {
                ZipArchiveEntry e = zip.CreateEntry(name, CompressionLevel.NoCompression);
                e.LastWriteTime = new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using Stream s = e.Open();
                s.Write(data);
            }
        }
        return ms.ToArray();
    }

    /// <summary>A zip member as <see cref="ZipRaw"/> writes it: name, bytes as stored, method, declared inflated size, CRC-32.</summary>
    internal readonly record struct RawMember(string Name, byte[] Payload, int Method, long Declared, uint Crc)
    {
        public static implicit operator RawMember((string Name, byte[] Payload, int Method, long Declared, uint Crc) t) => new(t.Name, t.Payload, t.Method, t.Declared, t.Crc);
    }

    /// <summary>A deflated member (stored deflate blocks, so the bytes do not depend on the runtime's compressor), with <paramref name="extra"/> more zero bytes inflated than declared, or another declared size.</summary>
    internal static RawMember Deflated(string name, byte[] data, int extra = 0, long declared = -1) =>
        new(name, DeflateStored([.. data, .. new byte[extra]]), 8, declared < 0 ? data.Length : declared, Crc32(data));

    /// <summary>A zip archive written byte by byte (local headers, data, directory, end record), so sizes, methods and CRCs can lie.</summary>
    internal static byte[] ZipRaw(params RawMember[] members)
    {
        var b = new List<byte>();
        var dir = new List<byte>();
        void U16(List<byte> l, int v) { l.Add((byte)v); l.Add((byte)(v >> 8)); }
        void U32(List<byte> l, long v) { for (int k = 0; k < 4; k++) l.Add((byte)(v >> (8 * k))); }
        foreach (RawMember m in members)
        {
            byte[] name = Encoding.UTF8.GetBytes(m.Name);
            long offset = b.Count;
            U32(b, 0x04034b50); U16(b, 20); U16(b, 0); U16(b, m.Method); U16(b, 0); U16(b, 0x21);
            U32(b, m.Crc); U32(b, m.Payload.Length); U32(b, m.Declared); U16(b, name.Length); U16(b, 0);
            b.AddRange(name);
            b.AddRange(m.Payload);
            U32(dir, 0x02014b50); U16(dir, 20); U16(dir, 20); U16(dir, 0); U16(dir, m.Method); U16(dir, 0); U16(dir, 0x21);
            U32(dir, m.Crc); U32(dir, m.Payload.Length); U32(dir, m.Declared); U16(dir, name.Length); U16(dir, 0); U16(dir, 0);
            U16(dir, 0); U16(dir, 0); U32(dir, 0); U32(dir, offset);
            dir.AddRange(name);
        }
        long dirStart = b.Count;
        b.AddRange(dir);
        U32(b, 0x06054b50); U16(b, 0); U16(b, 0); U16(b, members.Length); U16(b, members.Length); U32(b, dir.Count); U32(b, dirStart); U16(b, 0);
        return b.ToArray();
    }

    /// <summary>Replaces the end record of a (comment-less) zip by zip64 records claiming <paramref name="count"/> members.</summary>
    internal static byte[] Zip64Claim(byte[] zip, long count)
    {
        int end = zip.Length - 22;
        uint dirSize = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 12));
        uint dirStart = BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(end + 16));
        var z = new byte[56 + 20 + 22];
        BinaryPrimitives.WriteUInt32LittleEndian(z, 0x06064b50);
        BinaryPrimitives.WriteUInt64LittleEndian(z.AsSpan(4), 44);
        BinaryPrimitives.WriteUInt16LittleEndian(z.AsSpan(12), 45);
        BinaryPrimitives.WriteUInt16LittleEndian(z.AsSpan(14), 45);
        BinaryPrimitives.WriteUInt64LittleEndian(z.AsSpan(24), (ulong)count);
        BinaryPrimitives.WriteUInt64LittleEndian(z.AsSpan(32), (ulong)count);
        BinaryPrimitives.WriteUInt64LittleEndian(z.AsSpan(40), dirSize);
        BinaryPrimitives.WriteUInt64LittleEndian(z.AsSpan(48), dirStart);
        BinaryPrimitives.WriteUInt32LittleEndian(z.AsSpan(56), 0x07064b50);
        BinaryPrimitives.WriteUInt64LittleEndian(z.AsSpan(64), (ulong)end);
        BinaryPrimitives.WriteUInt32LittleEndian(z.AsSpan(72), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(z.AsSpan(76), 0x06054b50);
        z.AsSpan(84, 4).Fill(0xFF);
        z.AsSpan(88, 8).Fill(0xFF);
        return [.. zip.AsSpan(0, end), .. z];
    }

    /// <summary>Sets the compressed and uncompressed sizes of every central-directory record to 2^31 - 1.</summary>
    private static byte[] LieInCentralDirectory(byte[] zip)
    {
        byte[] b = (byte[])zip.Clone();
        for (int i = 0; i + 46 <= b.Length; i++)
        {
            if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 1 && b[i + 3] == 2)
            {
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i + 20), int.MaxValue);
                BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(i + 24), int.MaxValue);
            }
        }
        return b;
    }

    internal static byte[] Images(int count, int rows, int cols)
    {
        var b = new byte[16 + count * rows * cols];
        BinaryPrimitives.WriteUInt32BigEndian(b, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(12), cols);
        for (int k = 16; k < b.Length; k++) b[k] = (byte)((k - 16) % 251);
        return b;
    }

    internal static byte[] Labels(int count)
    {
        var b = new byte[8 + count];
        BinaryPrimitives.WriteUInt32BigEndian(b, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(b.AsSpan(4), count);
        for (int i = 0; i < count; i++) b[8 + i] = (byte)(i % 10);
        return b;
    }

    /// <summary>
    /// gzip built by hand with stored deflate blocks, so the bytes never depend on the runtime's
    /// compressor (the compressed path is tested on the real MNIST files).
    /// </summary>
    internal static byte[] Gzip(byte[] data)
    {
        var b = new List<byte> { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff };
        b.AddRange(DeflateStored(data));
        uint crc = Crc32(data);
        for (int i = 0; i < 4; i++) b.Add((byte)(crc >> (8 * i)));
        for (int i = 0; i < 4; i++) b.Add((byte)(data.Length >> (8 * i)));
        return b.ToArray();
    }

    /// <summary>Raw deflate data of stored blocks (at most 65535 bytes each).</summary>
    internal static byte[] DeflateStored(byte[] data)
    {
        var b = new List<byte>();
        int pos = 0;
        do
        {
            int n = Math.Min(65535, data.Length - pos);
            bool last = pos + n == data.Length;
            b.Add((byte)(last ? 1 : 0));
            b.Add((byte)n); b.Add((byte)(n >> 8));
            b.Add((byte)~n); b.Add((byte)(~n >> 8));
            b.AddRange(data.AsSpan(pos, n));
            pos += n;
        } while (pos < data.Length);
        return b.ToArray();
    }

    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFF;
        foreach (byte x in data)
        {
            c ^= x;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        }
        return ~c;
    }
}
