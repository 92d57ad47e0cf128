using NtkFast.Cli;
using NtkFast.IO;
using NtkFast.Networks;
using NtkFast.Numerics;
using Xunit;

using NtkFast.Tests.IO;
using NtkFast.Tests.Networks;

namespace NtkFast.Tests.Cli.Commands;

[CollectionDefinition("NetworksCli", DisableParallelization = true)]
public sealed class NetworksCliCollection;

/// <summary>
/// `ntk init` and `ntk train` run in-process through Program.Main with stderr captured
/// (a non-parallel collection, because the console is process-wide).
/// </summary>
[Collection("NetworksCli")]
public sealed class NetworkCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ntk-net-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string P(string name) => Path.Combine(_dir, name);

    private static (int Code, string Err) Run(params string[] args)
    {
        TextWriter savedErr = Console.Error, savedOut = Console.Out;
        var err = new StringWriter();
        try
        {
            Console.SetError(err);
            Console.SetOut(TextWriter.Null);
            int code = Program.Main(args);
            return (code, err.ToString());
        }
        finally
        {
            Console.SetError(savedErr);
            Console.SetOut(savedOut);
        }
    }

    private void WriteMatrix(string name, double[] data, int rows, int cols) =>
        File.WriteAllBytes(P(name), NpyBytes.Float64(data, [rows, cols]));

    private void MakeData(int n = 12, int n0 = 3, int nL = 2)
    {
        WriteMatrix("X.npy", NetTestUtil.RandomArray(n * n0, 1), n, n0);
        WriteMatrix("Y.npy", NetTestUtil.RandomArray(n * nL, 2), n, nL);
    }

    [Fact]
    public void Init_writes_the_seeded_network_and_is_reproducible()
    {
        var (code, err) = Run("init", "--widths", "3,8,2", "--activation", "identity", "--seed", "42", "--beta", "0.2", "--out", P("a.npz"));
        Assert.True(code == 0, err);
        Assert.Equal(0, Run("init", "--widths", "3,8,2", "--activation", "identity", "--seed", "42", "--beta", "0.2", "--out", P("b.npz")).Code);
        Assert.Equal(File.ReadAllBytes(P("a.npz")), File.ReadAllBytes(P("b.npz")));
        MlpFileContents c = MlpFile.Read(P("a.npz"));
        Assert.False(c.IsFloat32);
        Assert.Equal([3, 8, 2], c.Architecture.Widths);
        Assert.Equal(0.2, c.Architecture.Beta);
        Assert.Equal(Mlp<double>.Initialize(c.Architecture, 42).Parameters, c.ToNetwork<double>().Parameters);

        Assert.Equal(0, Run("init", "--widths", "3,8,2", "--activation", "identity", "--seed", "42", "--float32", "--out", P("c.npz")).Code);
        MlpFileContents c32 = MlpFile.Read(P("c.npz"));
        Assert.True(c32.IsFloat32);
        Assert.Equal(Mlp<float>.Initialize(c32.Architecture, 42).Parameters, c32.ToNetwork<float>().Parameters);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Train_matches_the_library_bit_for_bit_and_logs_every_cost(bool single)
    {
        MakeData();
        var init = new List<string> { "init", "--widths", "3,10,2", "--activation", "identity", "--seed", "7", "--out", P("net.npz") };
        Assert.Equal(0, Run([.. init]).Code);
        var (code, err) = Run("train", "--params", P("net.npz"), "--x", P("X.npy"), "--y", P("Y.npy"), "--lr", "0.5",
            "--steps", "6", "--out", P("t.npz"), "--log", P("loss.csv"), "--float32=" + (single ? "true" : "false"));
        Assert.True(code == 0, err);
        Assert.Equal("", err);

        Matrix x = MatrixFile.Read(P("X.npy")), y = MatrixFile.Read(P("Y.npy"));
        string[] log = File.ReadAllLines(P("loss.csv"));
        Assert.Equal("step,cost", log[0]);
        Assert.Equal(8, log.Length);
        if (single)
        {
            var net = MlpFile.Read<float>(P("net.npz"));
            var ws = net.CreateWorkspace(12);
            float[] xf = NetTestUtil.ToFloat(x.Data), yf = NetTestUtil.ToFloat(y.Data);
            for (int s = 0; s < 6; s++) Assert.Equal($"{s},{net.TrainStep(xf, yf, 0.5, ws):R}", log[s + 1]);
            MlpFileContents t = MlpFile.Read(P("t.npz"));
            Assert.True(t.IsFloat32);
            Assert.Equal(net.Parameters, t.ToNetwork<float>().Parameters);
        }
        else
        {
            var net = MlpFile.Read<double>(P("net.npz"));
            var ws = net.CreateWorkspace(12);
            for (int s = 0; s < 6; s++) Assert.Equal($"{s},{net.TrainStep(x.Data, y.Data, 0.5, ws):R}", log[s + 1]);
            net.Forward(x.Data, ws);
            Assert.Equal($"6,{net.MseCost(y.Data, ws):R}", log[7]);
            Assert.Equal(net.Parameters, MlpFile.Read<double>(P("t.npz")).Parameters);
        }
        double first = double.Parse(log[1].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        double last = double.Parse(log[^1].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(last < first);
    }

    [Fact]
    public void Trainable_from_keeps_the_first_layers_fixed()
    {
        MakeData();
        Assert.Equal(0, Run("init", "--widths", "3,6,5,2", "--activation", "identity", "--seed", "3", "--out", P("net.npz")).Code);
        Assert.Equal(0, Run("train", "--params", P("net.npz"), "--x", P("X.npy"), "--y", P("Y.npy"), "--lr", "0.3",
            "--steps", "3", "--trainable-from", "2", "--out", P("t.npz")).Code);
        var a = MlpFile.Read<double>(P("net.npz"));
        var b = MlpFile.Read<double>(P("t.npz"));
        int frozen = a.Architecture.LayerOffset(2);
        Assert.Equal(a.Parameters[..frozen], b.Parameters[..frozen]);
        Assert.NotEqual(a.Parameters[frozen..], b.Parameters[frozen..]);
    }

    public static IEnumerable<object[]> BadRuns()
    {
        string[] Train(params string[] extra)
        {
            var d = new Dictionary<string, string>
            {
                ["--params"] = "net.npz", ["--x"] = "X.npy", ["--y"] = "Y.npy", ["--lr"] = "0.5", ["--steps"] = "3", ["--out"] = "out.npz", ["--log"] = "log.csv",
            };
            for (int i = 0; i < extra.Length; i += 2)
            {
                if (extra[i + 1] == "") d.Remove(extra[i]);
                else d[extra[i]] = extra[i + 1];
            }
            return ["train", .. d.SelectMany(kv => new[] { kv.Key, kv.Value })];
        }
        string[] Init(string widths) => ["init", "--widths", widths, "--activation", "identity", "--seed", "1", "--out", "out.npz"];
        yield return ["zero width", Init("3,0,2")];
        yield return ["negative width", Init("3,-4,2")];
        yield return ["one width", Init("3")];
        yield return ["bad seed", new[] { "init", "--widths", "3,2", "--activation", "identity", "--seed", "-1", "--out", "out.npz" }];
        yield return ["unknown activation", new[] { "init", "--widths", "3,2", "--activation", "nope", "--seed", "1", "--out", "out.npz" }];
        yield return ["lr zero", Train("--lr", "0")];
        yield return ["lr negative", Train("--lr", "-0.1")];
        yield return ["lr NaN", Train("--lr", "NaN")];
        yield return ["negative steps", Train("--steps", "-2")];
        yield return ["X/Y rows", Train("--y", "Y_short.npy")];
        yield return ["X columns", Train("--x", "X_wide.npy")];
        yield return ["Y columns", Train("--y", "Y_wide.npy")];
        yield return ["NaN in X", Train("--x", "X_nan.npy")];
        yield return ["NaN in Y", Train("--y", "Y_nan.npy")];
        yield return ["missing layer", Train("--params", "missing_layer.npz")];
        yield return ["inconsistent shapes", Train("--params", "inconsistent.npz")];
        yield return ["missing params", Train("--params", "nothere.npz")];
        yield return ["frozen everything", Train("--trainable-from", "2")];
        yield return ["unknown option", Train("--momentum", "0.9")];
        yield return ["no steps", Train("--steps", "")];
        yield return ["output folder missing", Train("--out", "nofolder/out.npz")];
    }

    [Theory]
    [MemberData(nameof(BadRuns))]
    public void Bad_input_gives_one_line_a_nonzero_exit_and_no_output(string why, string[] args)
    {
        MakeData();
        WriteMatrix("Y_short.npy", new double[11 * 2], 11, 2);
        WriteMatrix("X_wide.npy", new double[12 * 4], 12, 4);
        WriteMatrix("Y_wide.npy", new double[12 * 3], 12, 3);
        double[] xn = NetTestUtil.RandomArray(36, 5); xn[17] = double.NaN;
        WriteMatrix("X_nan.npy", xn, 12, 3);
        double[] yn = NetTestUtil.RandomArray(24, 5); yn[3] = double.PositiveInfinity;
        WriteMatrix("Y_nan.npy", yn, 12, 2);
        Assert.Equal(0, Run("init", "--widths", "3,4,2", "--activation", "identity", "--seed", "1", "--out", P("net.npz")).Code);
        byte[] Arr(int r, int c) => NpyBytes.Float64(new double[r * c], [r, c]);
        byte[] Vec(int r) => NpyBytes.Float64(new double[r], [r]);
        (string, byte[])[] tail = [("beta", NpyBytes.Scalar(0.1)), ("weight_std", NpyBytes.Scalar(1)), ("activation", NpyBytes.Text("identity"))];
        File.WriteAllBytes(P("missing_layer.npz"), NpyBytes.Zip([("W0", Arr(4, 3)), ("b0", Vec(4)), ("W2", Arr(2, 4)), ("b2", Vec(2)), .. tail]));
        File.WriteAllBytes(P("inconsistent.npz"), NpyBytes.Zip([("W0", Arr(4, 3)), ("b0", Vec(4)), ("W1", Arr(2, 5)), ("b1", Vec(2)), .. tail]));
        string[] before = Directory.GetFileSystemEntries(_dir).Order().ToArray();

        string[] full = args.Select(a => a.EndsWith(".npy", StringComparison.Ordinal) || a.EndsWith(".npz", StringComparison.Ordinal) || a.EndsWith(".csv", StringComparison.Ordinal) ? P(a) : a).ToArray();
        var (code, err) = Run(full);
        Assert.True(code != 0, $"{why}: exit 0");
        Assert.Equal(ExitCodes.BadInput, code);
        string[] lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{why}: stderr was:\n{err}");
        Assert.StartsWith($"ntk {args[0]}: ", lines[0]);
        Assert.Equal(before, Directory.GetFileSystemEntries(_dir).Order().ToArray());
    }

    [Fact]
    public void Divergence_fails_without_writing_anything()
    {
        MakeData();
        Assert.Equal(0, Run("init", "--widths", "3,4,2", "--activation", "identity", "--seed", "1", "--out", P("net.npz")).Code);
        string[] before = Directory.GetFileSystemEntries(_dir).Order().ToArray();
        var (code, err) = Run("train", "--params", P("net.npz"), "--x", P("X.npy"), "--y", P("Y.npy"), "--lr", "1e8", "--steps", "50", "--out", P("t.npz"), "--log", P("l.csv"));
        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("diverged", err);
        // No network; the cost log (the evidence) is kept, up to the step that failed.
        Assert.Equal(before.Append(P("l.csv")).Order().ToArray(), Directory.GetFileSystemEntries(_dir).Order().ToArray());
        string[] log = File.ReadAllLines(P("l.csv"));
        Assert.Equal("step,cost", log[0]);
        Assert.InRange(log.Length, 3, 52);
    }

    /// <summary>
    /// Issue 18: a finite but exploding cost (tanh at lr 1000 went from 0.149 to 1e265 and was saved) is a
    /// divergence: exit 1, no network, the log kept; --allow-divergence writes it; --divergence-factor sets the bound.
    /// </summary>
    [Fact]
    public void A_finite_exploding_cost_is_divergence_unless_allowed()
    {
        MakeData();
        Assert.Equal(0, Run("init", "--widths", "3,16,2", "--activation", "tanh", "--seed", "3", "--out", P("net.npz")).Code);
        string[] common = ["train", "--params", P("net.npz"), "--x", P("X.npy"), "--y", P("Y.npy"), "--lr", "1000", "--steps", "50"];
        var (code, err) = Run([.. common, "--out", P("t.npz"), "--log", P("l.csv")]);
        Assert.Equal(ExitCodes.Failure, code);
        Assert.Contains("training diverged: the cost rose from", err);
        Assert.False(File.Exists(P("t.npz")));
        string[] log = File.ReadAllLines(P("l.csv"))[1..];
        double first = double.Parse(log[0].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        double last = double.Parse(log[^1].Split(',')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(double.IsFinite(last) && last > 1e4 * first, $"log ends at {last} from {first}");

        Assert.Equal(0, Run([.. common, "--out", P("a.npz"), "--allow-divergence"]).Code);
        Assert.True(File.Exists(P("a.npz")));
        // A bound so loose that the same run passes.
        var (code2, err2) = Run([.. common, "--out", P("b.npz"), "--divergence-factor", "1e300"]);
        Assert.True(code2 == 0 || err2.Contains("grew for", StringComparison.Ordinal), err2);
        Assert.Equal(ExitCodes.BadInput, Run([.. common, "--out", P("c.npz"), "--divergence-factor", "1"]).Code);
        Assert.Equal(ExitCodes.BadInput, Run([.. common, "--out", P("c.npz"), "--allow-divergence", "--divergence-factor", "10"]).Code);
        Assert.Equal(ExitCodes.BadInput, Run("train", "--params", P("net.npz"), "--x", P("X.npy"), "--y", P("Y.npy"), "--lr", "0.1", "--steps", "10000000000", "--out", P("c.npz")).Code);
    }
}
