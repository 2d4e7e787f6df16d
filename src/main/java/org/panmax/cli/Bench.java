package org.panmax.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs JMH cases of the suite in bench/ (bench/target/benchmarks.jar) as child processes, shows one
 * progress line while they run (which case, how many left, time remaining: read from JMH's output as it
 * streams), keeps JMH's own output in a log file next to the results, then prints one summary table
 * (native vs Java Vector API vs Java scalar) from JMH's JSON results and, for a suite, has
 * {@code org.panmax.bench.Report} write the full report and chart.
 *
 * <p>The suites: {@code demo} (the headline cases, about 2 minutes on 2 cores), {@code short} and
 * {@code full} (bench/run.sh). An ad-hoc plan races the backends on one operation and size.
 */
final class Bench {
    private Bench() {}

    /** OpsBenchmark's operations (its {@code op} parameter). */
    static final List<String> OPS = List.of("softmax", "logsoftmax", "backward", "crossentropy", "exact", "jacobian",
            "jacmatmul");
    static final String OPS_TEXT = String.join(", ", OPS);

    /** JMH iteration options, and what one case costs with them (for the time remaining). */
    record Iterations(List<String> args, double secondsPerCase) {
        /** Parses JMH's -wi/-i/-w/-r/-f options; a fork's start and the case's setup add about 1.5 s. */
        static Iterations of(String args) {
            List<String> a = List.of(args.trim().split("\\s+"));
            double wi = opt(a, "-wi", 3), i = opt(a, "-i", 5), w = time(a, "-w", 1), r = time(a, "-r", 1);
            double f = opt(a, "-f", 1);
            return new Iterations(a, Math.max(1, f) * (wi * w + i * r + 1.5));
        }

        private static double opt(List<String> a, String name, double dflt) {
            int k = a.indexOf(name);
            try {
                return k >= 0 && k + 1 < a.size() ? Double.parseDouble(a.get(k + 1)) : dflt;
            } catch (NumberFormatException e) {
                return dflt;
            }
        }

        private static double time(List<String> a, String name, double dflt) {
            int k = a.indexOf(name);
            if (k < 0 || k + 1 >= a.size()) {
                return dflt;
            }
            Matcher m = Pattern.compile("([0-9.]+)\\s*(ms|s|us|ns|m)?").matcher(a.get(k + 1));
            if (!m.matches()) {
                return dflt;
            }
            double v = Double.parseDouble(m.group(1));
            String u = m.group(2) == null ? "s" : m.group(2);
            return switch (u) {
                case "ms" -> v / 1e3;
                case "us" -> v / 1e6;
                case "ns" -> v / 1e9;
                case "m" -> v * 60;
                default -> v;
            };
        }
    }

    /** One JMH invocation: a benchmark class, its parameters, its number of @Benchmark methods. */
    record Step(String file, String benchmark, int methods, Map<String, List<String>> params) {
        int cases() {
            int c = methods;
            for (List<String> v : params.values()) {
                c *= v.size();
            }
            return c;
        }
    }

    /** What to run: {@code report} asks for REPORT.md and the chart afterwards. */
    record Plan(String name, List<Step> steps, Iterations iterations, boolean report) {
        int cases() {
            int c = 0;
            for (Step s : steps) {
                c += s.cases();
            }
            return c;
        }
    }

    private static Map<String, List<String>> params(String... kv) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], List.of(kv[i + 1].split(",")));
        }
        return m;
    }

    /** Default contenders: the best native backend, every java-vector one, java-scalar (those present). */
    static String contenders(List<String> present) {
        List<String> c = new ArrayList<>();
        present.stream().filter(b -> b.startsWith("native")).findFirst().ifPresent(c::add);
        present.stream().filter(b -> b.startsWith("java-vector")).forEach(c::add);
        if (present.contains("java-scalar")) {
            c.add("java-scalar");
        }
        return String.join(",", c);
    }

    private static Iterations iterations(String suite) {
        String env = System.getenv("PANMAX_BENCH_IT");
        if (env != null && !env.isBlank()) {
            return Iterations.of(env);
        }
        return Iterations.of(suite.equals("full") ? "-wi 3 -i 5 -w 1s -r 1s -f 2" : "-wi 2 -i 3 -w 400ms -r 400ms -f 1");
    }

    /** A named suite over the backends present. */
    static Plan suite(String name) {
        return suite(name, Ops.backends());
    }

    static Plan suite(String name, List<String> present) {
        String best = contenders(present);
        String nat = present.stream().filter(b -> b.startsWith("native")).findFirst().orElse(null);
        String natScalar = (nat == null ? "" : nat + ",") + "java-scalar";
        List<Step> steps = new ArrayList<>();
        switch (name) {
            case "demo" -> {
                steps.add(new Step("demo-softmax", "SoftmaxBenchmark", 1, params("contender", best,
                        "shape", "1x16,1x1024,256x1000,1x4194304", "dtype", "f32", "memory", "heap")));
                steps.add(new Step("demo-ops", "OpsBenchmark", 1, params("contender", best,
                        "op", "logsoftmax,backward,crossentropy", "n", "1024", "dtype", "f32")));
                steps.add(new Step("demo-ops-f64", "OpsBenchmark", 1, params("contender", natScalar,
                        "op", "softmax", "n", "1024", "dtype", "f64")));
            }
            case "short", "full" -> {
                boolean full = name.equals("full");
                steps.add(new Step(name + "-softmax", "SoftmaxBenchmark", 1, params(
                        "contender", String.join(",", present) + (present.contains("java-vector") ? ",java-vector-libexp" : "")
                                + ",raw-critical,raw-jextract" // libexp: the benchmark variant, reached by name
                                + (full ? "" : ",onnxruntime"), // issue 13's outside contender (off-heap tensors)
                        "shape", full ? "1x16,1x128,1x1024,1x16384,1x262144,1x4194304,256x1000,64x32000"
                                : "1x16,1x128,1x1024,1x16384,1x262144,1x4194304,256x1000,4096x10,4096x16,64x32000",
                        "dtype", full ? "f32,f64" : "f32", "memory", full ? "heap,offheap" : "heap")));
                if (!full) {
                    steps.add(new Step(name + "-softmax-f64", "SoftmaxBenchmark", 1, params("contender",
                            (nat == null ? "" : nat + ",") + "onnxruntime", "shape", "1x1024", "dtype", "f64", "memory", "heap")));
                    if (present.contains("native-avx2") || present.contains("native-avx512")) { // floor.c is AVX2 code
                        steps.add(new Step(name + "-softmax-floor", "SoftmaxBenchmark", 1, params("contender", "floor-c2pass",
                                "shape", "1x16,1x128", "dtype", "f32", "memory", "heap")));
                    }
                }
                steps.add(new Step(name + "-ops", "OpsBenchmark", 1, params("contender", best,
                        "op", OPS_TEXT.replace(", ", ","), "n", full ? "128,1024" : "1024", "dtype", "f32")));
                steps.add(new Step(name + "-ops-f64", "OpsBenchmark", 1, params("contender", natScalar,
                        "op", "softmax", "n", "1024", "dtype", "f64")));
                steps.add(new Step(name + "-floors", "FloorBenchmark", 2, params("bytes", full
                        ? "64,512,4096,65536,128000,1048576,4194304,8192000,16777216,33554432" : "64,4096,4194304,16777216")));
            }
            default -> throw new UsageException("--suite must be demo, short or full, was '" + name + "'");
        }
        return new Plan(name, steps, iterations(name), true);
    }

    /** The cases of one operation: every backend asked for (or the default contenders), each dtype. */
    static Plan adhoc(String op, int n, int rows, List<Dtype> dtypes, List<String> backends) {
        return adhoc(op, n, rows, dtypes, backends, Ops.backends());
    }

    static Plan adhoc(String op, int n, int rows, List<Dtype> dtypes, List<String> backends, List<String> present) {
        if (!OPS.contains(op)) {
            throw new UsageException("--op must be one of " + OPS_TEXT + ", was '" + op + "'");
        }
        if (n < 1) {
            throw new UsageException("--n must be >= 1, was " + n);
        }
        if (rows < 1) {
            throw new UsageException("--rows must be >= 1, was " + rows);
        }
        if (rows != 1 && !op.equals("softmax")) {
            throw new UsageException("--rows applies to --op softmax only (OpsBenchmark runs one row)");
        }
        long elems = (long) rows * n;
        long jac = op.equals("jacobian") ? (long) n * n : op.equals("jacmatmul") ? 64L * n : 0;
        if (elems > 1L << 27 || jac > 1L << 26) {
            throw new UsageException("--n " + n + (rows > 1 ? " --rows " + rows : "") + " is too large for a benchmark"
                    + " case (the benchmark JVMs have a 1 GB heap): at most 134217728 elements, 67108864 Jacobian entries");
        }
        List<String> chosen = backends == null ? List.of(contenders(present).split(",")) : backends;
        for (String b : chosen) {
            if (!present.contains(b)) {
                throw new UsageException("--backends: no backend named '" + b + "'; present: " + present);
            }
        }
        StringBuilder dt = new StringBuilder();
        for (Dtype t : dtypes) {
            dt.append(dt.isEmpty() ? "" : ",").append(t.name());
        }
        String contenders = String.join(",", chosen);
        Step s = op.equals("softmax")
                ? new Step("adhoc-softmax", "SoftmaxBenchmark", 1, params("contender", contenders, "shape", rows + "x" + n,
                        "dtype", dt.toString(), "memory", "heap"))
                : new Step("adhoc-" + op, "OpsBenchmark", 1, params("contender", contenders, "op", op, "n",
                        Integer.toString(n), "dtype", dt.toString()));
        return new Plan("adhoc", List.of(s), iterations("adhoc"), false);
    }

    // ------------------------------------------------------------------------------------------------
    // running

    /** Runs the plan; returns the exit status (0, or 1 when JMH failed). */
    static int run(Plan plan, Path jmhJar, Path results, PrintStream out, boolean terminal)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(jmhJar)) {
            throw new UsageException("the JMH suite " + jmhJar + " is not there: build it with ./panmax bench"
                    + " (or mvn -f bench/pom.xml package after mvn install), or give --jmh-jar");
        }
        Path benchDir = jmhJar.toAbsolutePath().getParent().getParent();
        Path dir = results != null ? results : switch (plan.name()) {
            case "demo" -> benchDir.resolve("results").resolve("demo");
            case "adhoc" -> benchDir.resolve("results").resolve("adhoc");
            default -> benchDir.resolve("results");
        };
        Files.createDirectories(dir);
        Path log = dir.resolve(plan.name() + "-jmh.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Progress progress = new Progress(plan, out, terminal, System::nanoTime);
        out.printf(Locale.ROOT, "JMH: %d cases (%s), about %s; JMH's log: %s%n", plan.cases(), plan.name(),
                Progress.duration(plan.cases() * plan.iterations().secondsPerCase()), log);
        out.flush();
        List<Path> jsons = new ArrayList<>();
        try (Writer logw = Files.newBufferedWriter(log, StandardCharsets.UTF_8)) {
            for (Step step : plan.steps()) {
                Path json = dir.resolve(step.file() + ".json");
                jsons.add(json);
                List<String> cmd = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector",
                        "--enable-native-access=ALL-UNNAMED", "-jar", jmhJar.toString(), "\\." + step.benchmark() + "\\."));
                cmd.addAll(plan.iterations().args());
                step.params().forEach((k, v) -> {
                    cmd.add("-p");
                    cmd.add(k + "=" + String.join(",", v));
                });
                cmd.addAll(List.of("-prof", "gc", "-foe", "true", "-rf", "json", "-rff", json.toString()));
                logw.write("$ " + String.join(" ", cmd) + "\n");
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
                p.getOutputStream().close();
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        logw.write(line);
                        logw.write('\n');
                        progress.line(line);
                    }
                }
                int rc = p.waitFor();
                logw.flush();
                if (rc != 0) {
                    progress.clear();
                    out.println("panmax bench: JMH failed (exit " + rc + ")" + progress.failure() + "; its log: " + log);
                    return 1;
                }
            }
        }
        progress.finish();
        List<Result> rows = new ArrayList<>();
        for (Path j : jsons) {
            rows.addAll(readResults(j));
        }
        summary(rows, out);
        if (plan.report()) {
            report(plan, jsons, jmhJar, benchDir, dir, java, out);
        }
        return 0;
    }

    private static void report(Plan plan, List<Path> jsons, Path jmhJar, Path benchDir, Path dir, String java,
                               PrintStream out) throws IOException, InterruptedException {
        boolean demo = plan.name().equals("demo");
        Path md = demo ? dir.resolve("REPORT.md") : benchDir.resolve("REPORT.md");
        Path png = demo ? dir.resolve("chart.png") : benchDir.resolve("chart.png");
        List<String> cmd = new ArrayList<>(List.of(java, "-Djava.awt.headless=true"));
        if (demo) {
            Path notes = dir.resolve("notes.md");
            Files.writeString(notes, "## Notes\n\nA `./panmax demo` run: the headline cases only, short iterations."
                    + " `./panmax bench` runs the whole short suite; bench/REPORT.md has the analysis of the missed targets.\n");
            cmd.add("-Dpanmax.report.notes=" + notes);
        }
        StringBuilder files = new StringBuilder();
        for (Path j : jsons) {
            files.append(files.isEmpty() ? "" : ",").append(j);
        }
        String nat = Ops.backends().stream().filter(b -> b.startsWith("native")).findFirst().orElse("none");
        cmd.addAll(List.of("-cp", jmhJar.toString(), "org.panmax.bench.Report", files.toString(), md.toString(), png.toString(),
                "Run: `" + (demo ? "./panmax demo" : "bench/run.sh --" + plan.name()) + "` on " + LocalDate.now(ZoneOffset.UTC)
                        + ", commit " + commit(benchDir),
                "CPU: " + cpu() + ", " + Runtime.getRuntime().availableProcessors() + " cores; native ISA: " + nat + "; JDK: "
                        + Runtime.version()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            out.println("panmax bench: the report generator failed: " + text.lines().findFirst().orElse(""));
            return;
        }
        out.println("Full report: " + md + (Files.exists(png) ? "; chart: " + png : ""));
    }

    private static String commit(Path dir) {
        try {
            Process p = new ProcessBuilder("git", "-C", dir.toString(), "rev-parse", "--short", "HEAD")
                    .redirectErrorStream(true).start();
            String s = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 && !s.isEmpty() ? s : "unknown";
        } catch (IOException | InterruptedException e) {
            return "unknown";
        }
    }

    private static String cpu() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) {
                    return l.substring(l.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }

    // ------------------------------------------------------------------------------------------------
    // progress

    /**
     * Follows JMH's human-readable output ("# Benchmark:", "# Parameters:", "Result ...", "<failure>")
     * and keeps one line up to date: the case running, how many are left, the time remaining. The time
     * remaining is the plan's estimate, scaled by how long the finished cases took against their estimate.
     * On a terminal the line is rewritten in place; elsewhere a line is printed at each tenth of the plan.
     */
    static final class Progress {
        private final Plan plan;
        private final PrintStream out;
        private final boolean terminal;
        private final LongSupplier clock;
        private final long start;
        private int started;
        private int done;
        private String benchmark = "";
        private String current = "";
        private boolean inFailure;
        private String failure = "";
        private int lastDecile = -1;
        private boolean lineShown;

        Progress(Plan plan, PrintStream out, boolean terminal, LongSupplier clock) {
            this.plan = plan;
            this.out = out;
            this.terminal = terminal;
            this.clock = clock;
            this.start = clock.getAsLong();
        }

        private static final Pattern BENCH = Pattern.compile("# Benchmark: (?:.*\\.)?(\\w+Benchmark)\\.(\\w+)");
        private static final Pattern PARAMS = Pattern.compile("# Parameters: \\((.*)\\)");

        void line(String l) {
            Matcher m;
            if ((m = BENCH.matcher(l)).matches()) {
                benchmark = m.group(1).replace("Benchmark", "") + (m.group(1).equals("FloorBenchmark") ? "." + m.group(2) : "");
                current = benchmark;
            } else if ((m = PARAMS.matcher(l)).matches()) {
                StringBuilder sb = new StringBuilder(benchmark);
                for (String kv : m.group(1).split(",\\s*")) {
                    int eq = kv.indexOf('=');
                    String k = eq < 0 ? "" : kv.substring(0, eq).strip();
                    String v = kv.substring(eq + 1).strip();
                    sb.append(' ').append(k.equals("n") || k.equals("bytes") ? k + "=" + v : v);
                }
                current = sb.toString();
            } else if (l.startsWith("# Fork: 1 of")) {
                started++;
                show();
            } else if (l.startsWith("Result \"")) {
                done++;
            } else if (l.startsWith("<failure>")) {
                inFailure = true;
            } else if (inFailure && !l.isBlank() && failure.isEmpty()) {
                failure = l.strip();
            }
        }

        /** The progress line: the case, its number, how many are left, the time remaining. */
        String status() {
            int total = plan.cases();
            int left = Math.max(0, total - started);
            return String.format(Locale.ROOT, "  [%d/%d] %s · %d left · ~%s remaining", Math.min(started, total), total,
                    current, left, duration(remainingSeconds()));
        }

        double remainingSeconds() {
            double per = plan.iterations().secondsPerCase();
            double elapsed = (clock.getAsLong() - start) / 1e9;
            double scale = done > 0 ? elapsed / (done * per) : 1;
            return Math.max(0, (plan.cases() - done) * per * scale - (done > 0 ? 0 : elapsed));
        }

        private void show() {
            if (terminal) {
                out.print("\r" + status() + "\u001b[K");
                out.flush();
                lineShown = true;
                return;
            }
            int decile = (int) (10L * (started - 1) / Math.max(1, plan.cases()));
            if (decile > lastDecile) {
                lastDecile = decile;
                out.println(status());
                out.flush();
            }
        }

        void clear() {
            if (terminal && lineShown) {
                out.print("\r\u001b[K");
                out.flush();
            }
        }

        void finish() {
            clear();
            out.printf(Locale.ROOT, "JMH: %d cases in %s%n", done, duration((clock.getAsLong() - start) / 1e9));
        }

        String failure() {
            return (current.isEmpty() ? "" : " at " + current) + (failure.isEmpty() ? "" : ": " + failure);
        }

        int started() {
            return started;
        }

        int done() {
            return done;
        }

        static String duration(double s) {
            long t = Math.round(s);
            if (t < 60) {
                return t + " s";
            }
            return (t / 60) + " min " + (t % 60) + " s";
        }
    }

    // ------------------------------------------------------------------------------------------------
    // results and the summary table

    /** One JMH result: the benchmark class, its parameters, the median ns per call. */
    record Result(String benchmark, Map<String, String> params, double medianNs) {
        String p(String k) {
            return params.getOrDefault(k, "");
        }

        /** The case a row of the table stands for, e.g. "softmax f32 n=1024", "crossentropy f32 n=1024". */
        String label() {
            if (benchmark.startsWith("Softmax")) {
                String s = p("shape");
                String shape = s.startsWith("1x") ? "n=" + s.substring(2) : s.replace('x', '×');
                return "softmax " + p("dtype") + " " + shape + (p("memory").equals("offheap") ? " off-heap" : "");
            }
            return p("op") + " " + p("dtype") + " n=" + p("n");
        }
    }

    private static final JsonFactory JSON = JsonFactory.builder().build();

    /** JMH's -rf json file: an array of {benchmark, params, primaryMetric: {scorePercentiles: {"50.0"}, scoreUnit}}. */
    static List<Result> readResults(Path file) throws IOException {
        List<Result> out = new ArrayList<>();
        if (!Files.exists(file)) {
            return out;
        }
        try (JsonParser p = JSON.createParser(file.toFile())) {
            Object root = tree(p, p.nextToken());
            if (!(root instanceof List<?> list)) {
                return out;
            }
            for (Object o : list) {
                if (!(o instanceof Map<?, ?> m) || !(m.get("benchmark") instanceof String name)) {
                    continue;
                }
                String bench = name.replaceAll(".*\\.(\\w+Benchmark)\\.\\w+$", "$1");
                if (bench.startsWith("Floor")) {
                    continue;
                }
                Map<String, String> params = new LinkedHashMap<>();
                if (m.get("params") instanceof Map<?, ?> pm) {
                    pm.forEach((k, v) -> params.put(String.valueOf(k), String.valueOf(v)));
                }
                if (m.get("primaryMetric") instanceof Map<?, ?> pm && pm.get("scorePercentiles") instanceof Map<?, ?> pc
                        && pc.get("50.0") instanceof Number med) {
                    double scale = switch (String.valueOf(pm.get("scoreUnit"))) {
                        case "us/op" -> 1e3;
                        case "ms/op" -> 1e6;
                        case "s/op" -> 1e9;
                        default -> 1;
                    };
                    out.add(new Result(bench, params, med.doubleValue() * scale));
                }
            }
        }
        return out;
    }

    /** A JSON text as Map, List, String, Double, Boolean or null (tests read the CLI's output with it). */
    static Object parseJson(String text) throws IOException {
        try (JsonParser p = JSON.createParser(text)) {
            return tree(p, p.nextToken());
        }
    }

    /** A JSON value as Map, List, String, Double, Boolean or null. */
    private static Object tree(JsonParser p, JsonToken t) throws IOException {
        if (t == null) {
            return null;
        }
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k == JsonToken.FIELD_NAME; k = p.nextToken()) {
                    String name = p.currentName();
                    m.put(name, tree(p, p.nextToken()));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    l.add(tree(p, e));
                }
                return l;
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return p.getDoubleValue();
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_TRUE, VALUE_FALSE -> {
                return t == JsonToken.VALUE_TRUE;
            }
            default -> {
                return null;
            }
        }
    }

    /**
     * One row per case, one column per facade backend (fastest first), then the best native backend's
     * speed-up over the best Java Vector API backend and over Java scalar; then the headline.
     */
    static void summary(List<Result> results, PrintStream out) {
        List<String> columns = new ArrayList<>();
        Map<String, Map<String, Double>> table = new LinkedHashMap<>();
        for (Result r : results) {
            String c = r.p("contender");
            if (c.startsWith("raw") || c.equals("onnxruntime") || c.startsWith("floor")) { // not backends: see the report
                continue;
            }
            if (!columns.contains(c)) {
                columns.add(c);
            }
            table.computeIfAbsent(r.label(), k -> new LinkedHashMap<>()).put(c, r.medianNs());
        }
        if (table.isEmpty()) {
            out.println("(no results to summarise)");
            return;
        }
        columns.sort((a, b) -> Integer.compare(rank(a), rank(b)));
        int w0 = "median per call".length();
        for (String k : table.keySet()) {
            w0 = Math.max(w0, k.length());
        }
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "  %-" + w0 + "s", "median per call"));
        int[] width = new int[columns.size()];
        for (int i = 0; i < width.length; i++) {
            width[i] = Math.max(10, columns.get(i).length());
            h.append(' ').append(pad(columns.get(i), width[i]));
        }
        h.append(String.format(Locale.ROOT, " %10s %10s", "nat/vec", "nat/scalar"));
        out.println(h);
        List<Double> vsVec = new ArrayList<>();
        List<Double> vsScalar = new ArrayList<>();
        String headline = null;
        for (var e : table.entrySet()) {
            Map<String, Double> m = e.getValue();
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "  %-" + w0 + "s", e.getKey()));
            for (int i = 0; i < width.length; i++) {
                Double v = m.get(columns.get(i));
                sb.append(' ').append(pad(v == null ? "—" : time(v), width[i]));
            }
            Double nat = best(m, "native");
            Double vec = best(m, "java-vector");
            Double sca = m.get("java-scalar");
            sb.append(String.format(Locale.ROOT, " %10s %10s", ratio(vec, nat), ratio(sca, nat)));
            out.println(sb);
            if (nat != null && vec != null) {
                vsVec.add(vec / nat);
            }
            if (nat != null && sca != null) {
                vsScalar.add(sca / nat);
                if (e.getKey().equals("softmax f32 n=1024")) {
                    headline = String.format(Locale.ROOT, "float32 softmax at n = 1024: %s is %.1f× java-scalar%s", bestName(m,
                            "native"), sca / nat, vec == null ? "" : String.format(Locale.ROOT, " and %.1f× %s", vec / nat,
                            bestName(m, "java-vector")));
                }
            }
        }
        if (headline != null) {
            out.println("Headline: " + headline + ".");
        }
        if (!vsScalar.isEmpty()) {
            out.println(String.format(Locale.ROOT, "Across these cases, native is %s× java-scalar%s.", range(vsScalar),
                    vsVec.isEmpty() ? "" : " and " + range(vsVec) + "× the best java-vector"));
        }
    }

    private static String pad(String s, int width) {
        return " ".repeat(Math.max(0, width - s.length())) + s;
    }

    private static int rank(String c) {
        for (String[] r : new String[][] {{"native-avx512", "0"}, {"native-avx2", "1"}, {"native-scalar", "2"},
                {"java-vector", "3"}, {"java-scalar", "5"}}) {
            if (c.startsWith(r[0])) {
                return Integer.parseInt(r[1]);
            }
        }
        return 4;
    }

    private static Double best(Map<String, Double> m, String prefix) {
        Double best = null;
        for (var e : m.entrySet()) {
            if (e.getKey().startsWith(prefix) && (best == null || e.getValue() < best)) {
                best = e.getValue();
            }
        }
        return best;
    }

    private static String bestName(Map<String, Double> m, String prefix) {
        String name = prefix;
        Double best = null;
        for (var e : m.entrySet()) {
            if (e.getKey().startsWith(prefix) && (best == null || e.getValue() < best)) {
                best = e.getValue();
                name = e.getKey();
            }
        }
        return name;
    }

    private static String ratio(Double slow, Double fast) {
        return slow == null || fast == null ? "—" : String.format(Locale.ROOT, "%.1f×", slow / fast);
    }

    private static String range(List<Double> v) {
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (double d : v) {
            lo = Math.min(lo, d);
            hi = Math.max(hi, d);
        }
        return lo == hi || v.size() == 1 ? String.format(Locale.ROOT, "%.1f", lo)
                : String.format(Locale.ROOT, "%.1f–%.1f", lo, hi);
    }

    static String time(double ns) {
        if (ns < 1e3) {
            return String.format(Locale.ROOT, "%.0f ns", ns);
        }
        if (ns < 1e6) {
            return String.format(Locale.ROOT, "%.1f µs", ns / 1e3);
        }
        if (ns < 1e9) {
            return String.format(Locale.ROOT, "%.2f ms", ns / 1e6);
        }
        return String.format(Locale.ROOT, "%.2f s", ns / 1e9);
    }
}
