package org.panmax.cli;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * The {@code panmax} command line. Results go to stdout as JSON (or {@code --output FILE},
 * {@code --format json|csv|npy}); a usage error or rejected input prints one line on stderr and exits
 * with status 2, having written nothing. {@code panmax --help} and {@code panmax COMMAND --help} say the rest.
 *
 * <p>Tests call {@link #run(String[], InputStream, PrintStream, PrintStream)} in-process.
 */
@Command(name = "panmax", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "The softmax family on the CPU: native AVX2/AVX-512 kernels, pure-Java fallbacks.",
        footer = {"", "Logits come as arguments, or --input FILE|- (JSON, rows of text, or .npy).",
                "Usage errors print one line on stderr and exit with status 2."},
        subcommands = {Main.Info.class, Main.Softmax.class, Main.LogSoftmax.class, Main.LogSumExp.class,
                Main.Jacobian.class, Main.CrossEntropy.class, Main.Sample.class, Main.TopK.class, Main.DemoCommand.class, Main.BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Status of a usage error or rejected input. */
    static final int USAGE = 2;

    /**
     * The most Jacobian entries (rows * n * n) the CLI computes and prints: 64 MiB as f32, 128 MiB as f64,
     * a few hundred MB of JSON. n = 4096 for one row.
     */
    static final long MAX_JACOBIAN_ELEMENTS = 1L << 24;

    final InputStream in;
    final PrintStream out;
    final PrintStream err;
    /** True when {@link #out} is the process's terminal (binary .npy is then refused). */
    final boolean outIsTerminal;

    private Main(InputStream in, PrintStream out, PrintStream err, boolean outIsTerminal) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.outIsTerminal = outIsTerminal;
    }

    @Override
    public void run() {
        throw new UsageException("a command is needed: info, softmax, logsoftmax, logsumexp, jacobian, crossentropy,"
                + " demo, bench (panmax --help)");
    }

    public static void main(String[] args) {
        boolean terminal = System.console() != null && System.console().isTerminal();
        int status = run(args, System.in, System.out, System.err, terminal);
        System.out.flush();
        System.exit(status);
    }

    /** Runs one command line; returns the exit status (0 ok, 2 usage error or rejected input). */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        return run(args, in, out, err, false);
    }

    static int run(String[] args, InputStream in, PrintStream out, PrintStream err, boolean outIsTerminal) {
        CommandLine cl = new CommandLine(new Main(in, out, err, outIsTerminal));
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("panmax" + commandName(e.getCommandLine()) + ": " + Errors.describe(e));
            return USAGE;
        });
        cl.setExecutionExceptionHandler((e, c, p) -> {
            String where = "panmax" + commandName(c) + ": ";
            if (e instanceof UsageException || e instanceof IllegalArgumentException
                    || e instanceof IllegalStateException || e instanceof IndexOutOfBoundsException) {
                err.println(where + e.getMessage());
                return USAGE;
            }
            if (e instanceof IOException) {
                err.println(where + "I/O error: " + e.getMessage());
                return 1;
            }
            err.println(where + "internal error: " + e);
            return 1;
        });
        try {
            return cl.execute(Errors.protectNegativeWords(args));
        } catch (OutOfMemoryError e) {
            err.println("panmax: out of memory (" + e.getMessage() + "); give the JVM more with -Xmx or pass less input");
            return 1;
        }
    }

    private static String commandName(CommandLine c) {
        if (c == null || c.getParent() == null) {
            return "";
        }
        return " " + c.getCommandName();
    }

    /** {@code --version}: the project version (from the build) and the JVM. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"panmax " + version() + " (Java " + Runtime.version() + ")"};
        }

        static String version() {
            try (InputStream s = Main.class.getResourceAsStream("version.properties")) {
                if (s != null) {
                    Properties p = new Properties();
                    p.load(s);
                    String v = p.getProperty("version", "");
                    if (!v.isEmpty() && !v.startsWith("$")) {
                        return v;
                    }
                }
            } catch (IOException e) {
                // fall through
            }
            return "(unknown version)";
        }
    }

    // ------------------------------------------------------------------------------------------------
    // shared options

    /** Where the logits come from, what to compute in, on which backend, and where the result goes. */
    static final class Io {
        @Parameters(paramLabel = "LOGIT", description = "the logits of one row (or use --input); inf, -inf and nan "
                + "must be written as such", arity = "0..*")
        List<String> logits = new ArrayList<>();

        @Option(names = "--input", paramLabel = "FILE|-", description = "read the logits from FILE, or from standard "
                + "input with -: a JSON array (one row) or array of rows, one row per line (comma- or space-separated), "
                + "or a .npy file (float32/float64, 1-D or 2-D)")
        String input;

        @Option(names = "--dtype", paramLabel = "f32|f64", description = "compute in float32 or float64 (default: a "
                + ".npy input's own dtype, else f32)")
        Dtype dtype;

        @Option(names = "--backend", paramLabel = "NAME", description = "native-avx512, native-avx2, native-scalar, "
                + "java-vector or java-scalar (default: the fastest present; see panmax info)")
        String backend;

        @Option(names = "--output", paramLabel = "FILE", description = "write the result to FILE instead of standard output")
        Path output;

        @Option(names = "--format", paramLabel = "json|csv|npy", description = "json (default), csv (one row per "
                + "line) or npy (float32/float64 array)")
        Output.Format format = Output.Format.json;

        @Option(names = {"-v", "--verbose"}, description = "say on stderr which backend ran, what was read and how long each step took")
        boolean verbose;

        long t0 = System.nanoTime();

        Input.Rows read(Main m) {
            if (input != null && !logits.isEmpty()) {
                throw new UsageException("give the logits as arguments or with --input, not both (got " + logits.size()
                        + " argument" + (logits.size() == 1 ? "" : "s") + " and --input " + input + ")");
            }
            if (input == null && logits.isEmpty()) {
                throw new UsageException("needs logits: as arguments (e.g. 1 2 3), --input FILE, or --input - for standard input");
            }
            if (format == Output.Format.npy && output == null && m.outIsTerminal) {
                throw new UsageException("--format npy writes binary: give --output FILE or redirect standard output");
            }
            Input.Rows r = input != null ? Input.read(input, m.in, dtype) : Input.fromArgs(logits, dtype);
            verbose(m, "read " + r.source() + " in " + ms(System.nanoTime() - t0) + ", computing in " + r.dtype());
            return r;
        }

        String backendName(Main m) {
            String name = Ops.resolve(backend);
            verbose(m, "backend " + name + (backend == null ? " (the default: the fastest present; " + Ops.backends()
                    + ")" : " (as asked)") + "; native: " + Ops.nativeStatus());
            return name;
        }

        void write(Main m, Output.Result r, long computeStart) throws IOException {
            long t1 = System.nanoTime();
            if (output == null) {
                Output.write(r, format, m.out);
                m.out.flush();
            } else {
                try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(output), 1 << 16)) {
                    Output.write(r, format, o);
                } catch (java.nio.file.NoSuchFileException e) {
                    throw new UsageException("--output " + output + ": no such directory");
                } catch (java.nio.file.AccessDeniedException e) {
                    throw new UsageException("--output " + output + ": permission denied");
                }
            }
            verbose(m, "computed in " + ms(t1 - computeStart) + ", wrote " + format + " to "
                    + (output == null ? "standard output" : output) + " in " + ms(System.nanoTime() - t1)
                    + "; total " + ms(System.nanoTime() - t0));
        }

        void verbose(Main m, String s) {
            if (verbose) {
                m.err.println("panmax: " + s);
            }
        }
    }

    static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }

    /** The JSON members every compute command starts with. */
    static List<String> head(String backend, Dtype t) {
        List<String> h = new ArrayList<>();
        h.add(Output.member("backend", Output.str(backend)));
        h.add(Output.member("dtype", Output.str(t.name())));
        return h;
    }

    /** {@code --temperature} as typed, checked for the dtype before any work. */
    static double temperature(String s, Dtype t) {
        if (s == null) {
            return 1;
        }
        double v = Input.number(s, Dtype.f64, "--temperature");
        double min = t == Dtype.f32 ? Float.MIN_NORMAL : Double.MIN_NORMAL;
        if (!(v >= min && v <= t.maxFinite)) {
            throw new UsageException("--temperature must be finite and at least " + (t == Dtype.f32
                    ? Float.MIN_NORMAL + " (the smallest normal f32)" : Double.MIN_NORMAL + " (the smallest normal f64)")
                    + (v > t.maxFinite && Double.isFinite(v) ? " and at most " + (float) t.maxFinite : "") + ", was " + s);
        }
        return v;
    }

    // ------------------------------------------------------------------------------------------------
    // commands

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "The JVM, the native library, the backends present and the default one, as JSON.")
    static final class Info implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Override
        public Integer call() {
            PrintStream out = main.out;
            out.println("{");
            out.println("  \"panmax\": " + Output.str(Version.version()) + ",");
            out.println("  \"java\": " + Output.str(System.getProperty("java.vm.name") + " " + Runtime.version()) + ",");
            out.println("  \"cpu_cores\": " + Runtime.getRuntime().availableProcessors() + ",");
            out.println("  \"native\": " + Output.str(Ops.nativeStatus()) + ",");
            out.println("  \"backends\": " + Output.strs(Ops.backends()) + ",");
            out.println("  \"default_backend\": " + Output.str(Ops.defaultBackend()));
            out.println("}");
            out.flush();
            return 0;
        }
    }

    @Command(name = "softmax", mixinStandardHelpOptions = true, description = {
        "softmax(x / T) of each row: probabilities.",
        "Examples: panmax softmax 1 2 3;  panmax softmax --input logits.npy --format npy --output p.npy;",
        "          printf '1 2 3\\n4 5 6\\n' | panmax softmax --input - --format csv"})
    static class Softmax implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Mixin
        Io io;

        @Option(names = "--temperature", paramLabel = "T", description = "divide the logits by T (finite, > 0; default 1)")
        String temperature;

        boolean log() {
            return false;
        }

        @Override
        public Integer call() throws IOException {
            Input.Rows r = io.read(main);
            double t = temperature(temperature, r.dtype());
            String backend = io.backendName(main);
            long c0 = System.nanoTime();
            Ops.Matrix y = Ops.softmax(backend, r.dtype(), r.rows(), t, log());
            List<String> head = head(backend, r.dtype());
            if (temperature != null) {
                head.add(Output.member("temperature", Output.num(t)));
            }
            int[] shape = r.vector() ? new int[] {r.n()} : new int[] {r.rows().length, r.n()};
            io.write(main, new Output.Result(head, List.of(new Output.Field(log() ? "log_probabilities" : "probabilities", y,
                    shape)), y, toLong(shape)), c0);
            return 0;
        }
    }

    @Command(name = "logsoftmax", mixinStandardHelpOptions = true, description = {
        "log_softmax(x / T) of each row: log-probabilities (no log of a rounded probability: -inf only where exact).",
        "Example: panmax logsoftmax 1 2 3"})
    static final class LogSoftmax extends Softmax {
        @Override
        boolean log() {
            return true;
        }
    }

    @Command(name = "logsumexp", mixinStandardHelpOptions = true, description = {
        "log(sum(exp(x))) of each row, without overflow.", "Example: panmax logsumexp 1000 1000"})
    static final class LogSumExp implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Mixin
        Io io;

        @Override
        public Integer call() throws IOException {
            Input.Rows r = io.read(main);
            String backend = io.backendName(main);
            long c0 = System.nanoTime();
            Ops.Matrix l = Ops.logSumExp(backend, r.dtype(), r.rows());
            int[] shape = r.vector() ? new int[0] : new int[] {r.rows().length};
            io.write(main, new Output.Result(head(backend, r.dtype()), List.of(new Output.Field("logsumexp", l, shape)), l,
                    r.rows().length), c0);
            return 0;
        }
    }

    @Command(name = "jacobian", mixinStandardHelpOptions = true, description = {
        "The n x n Jacobian of softmax, or of log-softmax with --log, for each row.",
        "diag(p) - p p^T, or I - 1 p^T with --log, with respect to the logits. At most " + MAX_JACOBIAN_ELEMENTS + " entries in all (n = 4096 for one row).",
        "csv: the n rows of each Jacobian, one after the other; npy: (n, n), or (rows, n, n) for a batch.",
        "Example: panmax jacobian 2 1"})
    static final class Jacobian implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Mixin
        Io io;

        @Option(names = "--log", arity = "0..1", paramLabel = "true|false", fallbackValue = "true",
                description = "the Jacobian of log-softmax instead of softmax (--log, --log=true, --log=false)")
        boolean log;

        @Override
        public Integer call() throws IOException {
            Input.Rows r = io.read(main);
            long rows = r.rows().length;
            long n = r.n();
            long entries = rows * n * n; // n <= 2^31, rows * n <= 2^31: no overflow
            if (entries > MAX_JACOBIAN_ELEMENTS) {
                throw new UsageException(String.format(Locale.ROOT, "jacobian of %s has %d entries (%s as %s in memory,"
                        + " several times that as text): over the CLI's limit of %d (n <= 4096 for one row). For large n,"
                        + " use the library's jacobianMatmul (J V without forming J) or softmaxBackward",
                        rows == 1 ? "n = " + n : rows + " rows of n = " + n, entries, bytes(entries * r.dtype().bytes),
                        r.dtype(), MAX_JACOBIAN_ELEMENTS));
            }
            String backend = io.backendName(main);
            long c0 = System.nanoTime();
            Ops.Matrix j = Ops.jacobian(backend, r.dtype(), r.rows(), log);
            List<String> head = head(backend, r.dtype());
            head.add(Output.member("of", Output.str(log ? "log_softmax" : "softmax")));
            int[] shape = r.vector() ? new int[] {(int) n, (int) n} : new int[] {(int) rows, (int) n, (int) n};
            io.write(main, new Output.Result(head, List.of(new Output.Field("jacobian", j, shape)), j, toLong(shape)), c0);
            return 0;
        }
    }

    static String bytes(long b) {
        if (b >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.1f GB", b / 1e9);
        }
        return String.format(Locale.ROOT, "%.0f MB", b / 1e6);
    }

    @Command(name = "crossentropy", mixinStandardHelpOptions = true, description = {
        "Cross-entropy of softmax(x) against class K (0-based), per row, and its gradient p - t with respect to x.",
        "csv and npy write one row per input row: the loss, then the gradient.",
        "Examples: panmax crossentropy --target 0 2 0.5 -1;  panmax crossentropy --input batch.csv --target 2,0,1"})
    static final class CrossEntropy implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Mixin
        Io io;

        @Option(names = "--target", required = true, split = ",", paramLabel = "K",
                description = "the class index of each row, 0-based (comma-separated, one per row)")
        List<String> target;

        @Option(names = "--smoothing", paramLabel = "S", description = "label smoothing in [0, 1] (default 0)")
        String smoothing;

        @Override
        public Integer call() throws IOException {
            Input.Rows r = io.read(main);
            int rows = r.rows().length;
            int n = r.n();
            if (target.size() != rows) {
                throw new UsageException("--target gives " + target.size() + " class ind" + (target.size() == 1 ? "ex" : "ices")
                        + " but the input has " + rows + " row" + (rows == 1 ? "" : "s") + ": give one per row, comma-separated");
            }
            long[] labels = new long[rows];
            for (int i = 0; i < rows; i++) {
                String s = target.get(i).strip();
                try {
                    labels[i] = Long.parseLong(s);
                } catch (NumberFormatException e) {
                    throw new UsageException("--target must be an integer class index, was '" + s + "'");
                }
                if (labels[i] < 0 || labels[i] >= n) {
                    throw new UsageException("--target " + s + (rows > 1 ? " (row " + (i + 1) + ")" : "") + " is outside [0, "
                            + n + ") for " + n + " logits");
                }
            }
            double sm = 0;
            if (smoothing != null) {
                sm = Input.number(smoothing, Dtype.f64, "--smoothing");
                if (!(sm >= 0 && sm <= 1)) {
                    throw new UsageException("--smoothing must be in [0, 1], was " + smoothing);
                }
            }
            String backend = io.backendName(main);
            long c0 = System.nanoTime();
            Ops.CrossEntropy ce = Ops.crossEntropy(backend, r.dtype(), r.rows(), labels, sm);
            List<String> head = head(backend, r.dtype());
            StringBuilder t = new StringBuilder();
            if (r.vector()) {
                t.append(labels[0]);
            } else {
                t.append('[');
                for (int i = 0; i < rows; i++) {
                    t.append(i == 0 ? "" : ", ").append(labels[i]);
                }
                t.append(']');
            }
            head.add(Output.member("target", t.toString()));
            if (smoothing != null) {
                head.add(Output.member("smoothing", Output.num(sm)));
            }
            int[] lossShape = r.vector() ? new int[0] : new int[] {rows};
            int[] gradShape = r.vector() ? new int[] {n} : new int[] {rows, n};
            Ops.Matrix table = lossAndGradient(ce);
            io.write(main, new Output.Result(head, List.of(new Output.Field("loss", ce.loss(), lossShape),
                    new Output.Field("gradient", ce.gradient(), gradShape)), table, rows, n + 1L), c0);
            return 0;
        }

        private static Ops.Matrix lossAndGradient(Ops.CrossEntropy ce) {
            Ops.Matrix g = ce.gradient();
            int rows = g.rows();
            int w = g.cols() + 1;
            if (g.f() != null) {
                float[] t = new float[rows * w];
                for (int i = 0; i < rows; i++) {
                    t[i * w] = ce.loss().f()[i];
                    System.arraycopy(g.f(), i * g.cols(), t, i * w + 1, g.cols());
                }
                return new Ops.Matrix(g.dtype(), rows, w, t, null);
            }
            double[] t = new double[rows * w];
            for (int i = 0; i < rows; i++) {
                t[i * w] = ce.loss().d()[i];
                System.arraycopy(g.d(), i * g.cols(), t, i * w + 1, g.cols());
            }
            return new Ops.Matrix(g.dtype(), rows, w, null, t);
        }
    }


    /** JSON of rows x m values: a flat array for a one-row (vector) input, else an array of rows. */
    static String nested(Input.Rows r, int m, java.util.function.BiFunction<Integer, Integer, String> cell) {
        StringBuilder b = new StringBuilder();
        int rows = r.rows().length;
        if (!r.vector()) {
            b.append('[');
        }
        for (int i = 0; i < rows; i++) {
            b.append(i > 0 ? ", [" : "[");
            for (int j = 0; j < m; j++) {
                b.append(j > 0 ? ", " : "").append(cell.apply(i, j));
            }
            b.append(']');
        }
        if (!r.vector()) {
            b.append(']');
        }
        return b.toString();
    }

    static void json(Main m, Io io, List<String> members) throws IOException {
        if (io.format != Output.Format.json) {
            throw new UsageException("--format: this command writes JSON only");
        }
        String text = "{" + String.join(", ", members) + "}";
        if (io.output == null) {
            m.out.println(text);
            m.out.flush();
        } else {
            Files.writeString(io.output, text + "\n");
        }
    }

    @Command(name = "sample", mixinStandardHelpOptions = true, description = {
        "One token per row drawn from softmax(x / T) after top-k, top-p and min-p (each optional), with a",
        "counter-based generator: the same logits, options, seed and step give the same token on every backend.",
        "--draws N gives N tokens from steps 0 .. N-1 of the seed (to check a distribution in one process).",
        "Example: panmax sample --top-p 0.9 --seed 7 --draws 5 1 2 3 4"})
    static final class Sample implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Mixin
        Io io;

        @Option(names = "--temperature", paramLabel = "T", description = "0 (greedy: the best token) or finite > 0; default 1")
        String temperature;

        @Option(names = "--top-k", paramLabel = "K", description = "keep the K best tokens (>= 1; default: off)")
        Long topK;

        @Option(names = "--top-p", paramLabel = "P", description = "keep the smallest set of best tokens with mass >= P, in (0, 1]; default 1 (off)")
        Double topP;

        @Option(names = "--min-p", paramLabel = "M", description = "keep tokens with p >= M * p_max, M in [0, 1]; default 0 (off)")
        Double minP;

        @Option(names = "--seed", paramLabel = "S", description = "the generator's key (default 0)")
        long seed;

        @Option(names = "--draws", paramLabel = "N", description = "tokens per row, from steps 0 .. N-1 (default 1, at most 1000000)")
        int draws = 1;

        @Override
        public Integer call() throws IOException {
            Input.Rows r = io.read(main);
            double t = temperature == null ? 1 : Input.number(temperature, Dtype.f64, "--temperature");
            if (!(t == 0 || (t >= (r.dtype() == Dtype.f32 ? Float.MIN_NORMAL : Double.MIN_NORMAL) && t <= r.dtype().maxFinite))) {
                throw new UsageException("--temperature must be 0 (greedy) or a normal " + r.dtype() + " > 0, was " + temperature);
            }
            if (topK != null && topK < 1) {
                throw new UsageException("--top-k must be >= 1, was " + topK);
            }
            if (topP != null && !(topP > 0 && topP <= 1)) {
                throw new UsageException("--top-p must be in (0, 1], was " + topP);
            }
            if (minP != null && !(minP >= 0 && minP <= 1)) {
                throw new UsageException("--min-p must be in [0, 1], was " + minP);
            }
            if (draws < 1 || draws > 1_000_000) {
                throw new UsageException("--draws must be in [1, 1000000], was " + draws);
            }
            String backend = io.backendName(main);
            Ops.Samples s;
            try {
                s = Ops.sample(backend, r.dtype(), r.rows(), t, topK == null ? 0 : topK, topP == null ? 1 : topP,
                        minP == null ? 0 : minP, seed, draws);
            } catch (IllegalArgumentException e) {
                throw new UsageException(e.getMessage());
            }
            List<String> out = head(backend, r.dtype());
            out.add(Output.member("tokens", nested(r, draws, (i, j) -> Long.toString(s.tokens()[i][j]))));
            out.add(Output.member("probabilities", nested(r, draws, (i, j) -> Output.num(s.probabilities()[i][j]))));
            out.add(Output.member("logprobs", nested(r, draws, (i, j) -> Output.num(s.logprobs()[i][j]))));
            json(main, io, out);
            return 0;
        }
    }

    @Command(name = "topk", mixinStandardHelpOptions = true, description = {
        "The K best entries of each row, best first (ties to the lowest index), by selection: indices and",
        "their softmax probabilities.", "Example: panmax topk --k 2 1 3 2"})
    static final class TopK implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Mixin
        Io io;

        @Option(names = "--k", paramLabel = "K", required = true, description = "how many (>= 1, at most the row's length)")
        int k;

        @Override
        public Integer call() throws IOException {
            Input.Rows r = io.read(main);
            if (k < 1 || k > r.n()) {
                throw new UsageException("--k must be in [1, " + r.n() + "] (the row's length), was " + k);
            }
            String backend = io.backendName(main);
            Ops.Samples s = Ops.topK(backend, r.dtype(), r.rows(), k);
            List<String> out = head(backend, r.dtype());
            out.add(Output.member("indices", nested(r, k, (i, j) -> Long.toString(s.tokens()[i][j]))));
            out.add(Output.member("probabilities", nested(r, k, (i, j) -> Output.num(s.probabilities()[i][j]))));
            json(main, io, out);
            return 0;
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true, description = {
        "A short tour of the library, then native vs JVM timings.",
        "The timings come from the demo's JMH suite when --jmh-jar is given (./panmax demo gives it), else from",
        "a quick System.nanoTime loop."})
    static final class DemoCommand implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Option(names = "--jmh-jar", paramLabel = "JAR", description = "bench/target/benchmarks.jar: run the demo's JMH suite")
        Path jmhJar;

        @Option(names = "--results", paramLabel = "DIR", description = "where JMH's results, log and the report go "
                + "(default: bench/results/demo next to the JMH jar)")
        Path results;

        @Override
        public Integer call() throws IOException, InterruptedException {
            Demo.run(main.out, main.outIsTerminal, jmhJar, results);
            return 0;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true, description = {
        "Runs JMH cases and prints a native vs Java Vector API vs Java scalar table.",
        "A suite (--suite demo|short|full, as ./panmax demo and ./panmax bench do), or the cases of one operation",
        "(--op OP --n N [--rows R] [--dtype f32,f64] [--backends A,B]). JMH's own log goes to the results folder.",
        "Example: ./panmax bench --op softmax --n 50257 --backends native-avx2,java-scalar"})
    static final class BenchCommand implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Option(names = "--suite", paramLabel = "demo|short|full", description = "a whole suite (with the report)")
        String suite;

        @Option(names = "--op", paramLabel = "OP", description = "softmax, logsoftmax, backward, crossentropy, exact, jacobian or jacmatmul")
        String op;

        @Option(names = "--n", paramLabel = "N", description = "the row length (with --op)")
        Integer n;

        @Option(names = "--rows", paramLabel = "R", description = "rows per call (softmax only; default 1)")
        Integer rows;

        @Option(names = "--dtype", split = ",", paramLabel = "f32,f64", description = "element types (default f32)")
        List<Dtype> dtypes;

        @Option(names = "--backends", split = ",", paramLabel = "NAME", description = "backends to race (default: the best"
                + " native, every java-vector, java-scalar)")
        List<String> backends;

        @Option(names = "--jmh-jar", paramLabel = "JAR", description = "the JMH suite (default: bench/target/benchmarks.jar)")
        Path jmhJar = Path.of("bench", "target", "benchmarks.jar");

        @Option(names = "--results", paramLabel = "DIR", description = "where JMH's JSON and log go (default: bench/results"
                + " for a suite, bench/results/adhoc for --op)")
        Path results;

        @Override
        public Integer call() throws IOException, InterruptedException {
            Bench.Plan plan;
            if (suite != null) {
                if (op != null || n != null || rows != null || dtypes != null || backends != null) {
                    throw new UsageException("--suite runs a fixed set of cases: give it alone, or --op with --n instead");
                }
                plan = Bench.suite(suite);
            } else if (op != null) {
                if (n == null) {
                    throw new UsageException("--op " + op + " needs --n N, the row length");
                }
                plan = Bench.adhoc(op, n, rows == null ? 1 : rows, dtypes == null ? List.of(Dtype.f32) : dtypes, backends);
            } else {
                throw new UsageException("bench needs --suite demo|short|full, or --op OP --n N");
            }
            return Bench.run(plan, jmhJar, results, main.out, main.outIsTerminal);
        }
    }

    private static long[] toLong(int[] a) {
        long[] l = new long[a.length];
        for (int i = 0; i < a.length; i++) {
            l[i] = a[i];
        }
        return l;
    }
}
