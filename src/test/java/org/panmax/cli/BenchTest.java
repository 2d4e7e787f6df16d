package org.panmax.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark runner without running JMH: the plans, the progress line fed a saved JMH log, the
 * summary table from JMH JSON results, and the command's rejections.
 */
class BenchTest {
    static final List<String> PRESENT = List.of("native-avx2", "native-scalar", "java-vector", "java-scalar");

    static List<String> log(String name) throws IOException {
        try (InputStream s = BenchTest.class.getResourceAsStream(name)) {
            return new String(s.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    @Test
    void plansCountTheirCases() {
        Bench.Plan demo = Bench.suite("demo", PRESENT);
        // softmax: 4 shapes x (best native, java-vector, java-scalar); ops: 3 x 3; f64: native + scalar
        assertEquals(4 * 3 + 3 * 3 + 2, demo.cases());
        assertEquals("native-avx2,java-vector,java-scalar", Bench.contenders(PRESENT));
        Bench.Plan sh = Bench.suite("short", PRESENT);
        // every backend + java-vector-libexp + 2 raw contenders + onnxruntime x 10 shapes; f64 softmax: native and
        // onnxruntime; floor-c2pass x 2 shapes; 7 ops x 3; ops f64 2; floors 2 methods x 4 sizes
        assertEquals(8 * 10 + 2 + 2 + 7 * 3 + 2 + 2 * 4, sh.cases());
        assertEquals(List.of("native-avx2", "onnxruntime"), sh.steps().get(1).params().get("contender"));
        assertEquals(List.of("f64"), sh.steps().get(1).params().get("dtype"));
        assertEquals(List.of("floor-c2pass"), sh.steps().get(2).params().get("contender"));
        // no AVX2 (floor.c's ISA): no floor step; no native backend: onnxruntime alone at f64
        assertTrue(contenders(Bench.suite("short", List.of("native-scalar", "java-scalar"))).stream()
                .noneMatch(c -> c.equals("floor-c2pass")));
        assertEquals(List.of("onnxruntime"), Bench.suite("short", List.of("java-scalar")).steps().get(1).params()
                .get("contender"));
        // the full suite is unchanged by issue 13: no outside contenders
        assertTrue(contenders(Bench.suite("full", PRESENT)).stream()
                .noneMatch(c -> c.equals("onnxruntime") || c.equals("floor-c2pass")));
        Bench.Plan a = Bench.adhoc("crossentropy", 1000, 1, List.of(Dtype.f32, Dtype.f64), List.of("java-scalar"), PRESENT);
        assertEquals(2, a.cases());
        assertEquals(List.of("crossentropy"), a.steps().get(0).params().get("op"));
        assertEquals(List.of("8x1000"), Bench.adhoc("softmax", 1000, 8, List.of(Dtype.f32), null, PRESENT).steps().get(0)
                .params().get("shape"));
    }

    /** Every contender named in a plan's steps. */
    static List<String> contenders(Bench.Plan plan) {
        return plan.steps().stream().flatMap(s -> s.params().getOrDefault("contender", List.of()).stream()).toList();
    }

    @Test
    void iterationsGiveTheTimePerCase() {
        Bench.Iterations it = Bench.Iterations.of("-wi 2 -i 3 -w 400ms -r 400ms -f 1");
        assertEquals(2 * 0.4 + 3 * 0.4 + 1.5, it.secondsPerCase(), 1e-9);
        assertEquals(2 * (3 + 5 + 1.5), Bench.Iterations.of("-wi 3 -i 5 -w 1s -r 1s -f 2").secondsPerCase(), 1e-9);
    }

    @Test
    void progressFollowsASavedJmhLog() throws IOException {
        Bench.Plan plan = new Bench.Plan("t", List.of(new Bench.Step("t", "SoftmaxBenchmark", 1,
                java.util.Map.of("contender", List.of("a", "b", "c")))), Bench.Iterations.of("-wi 2 -i 3 -w 400ms -r 400ms -f 1"),
                false);
        AtomicLong clock = new AtomicLong();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        Bench.Progress p = new Bench.Progress(plan, out, false, clock::get);
        List<String> lines = log("jmh-sample.log");
        String afterFirstStart = null;
        for (String l : lines) {
            p.line(l);
            clock.addAndGet(100_000_000L); // 0.1 s a line
            if (p.started() == 1 && afterFirstStart == null) {
                afterFirstStart = p.status();
            }
        }
        assertEquals("  [1/3] Softmax native-avx2 f32 heap 1x1024 · 2 left · ~9 s remaining", afterFirstStart);
        assertEquals(3, p.started());
        assertEquals(3, p.done());
        assertTrue(p.status().startsWith("  [3/3] Ops java-scalar f32 n=1024 crossentropy · 0 left · ~0 s"), p.status());
        // not a terminal: one line per tenth of the plan at most, here one per case
        String shown = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(3, shown.lines().count(), shown);
        assertTrue(shown.lines().allMatch(s -> s.startsWith("  [")), shown);
        // remaining time scales with how long finished cases took: 2 of 3 done in twice the estimate
        Bench.Progress q = new Bench.Progress(plan, out, false, clock::get);
        long t0 = clock.get();
        for (String l : lines.subList(0, lines.indexOf("# Benchmark: org.panmax.bench.OpsBenchmark.op"))) {
            q.line(l);
        }
        clock.set(t0 + (long) (2 * 2 * 3.5e9));
        assertEquals(2, q.done());
        assertEquals(7.0, q.remainingSeconds(), 1e-6);
    }

    @Test
    void progressOnATerminalRewritesOneLine() throws IOException {
        Bench.Plan plan = Bench.suite("demo", PRESENT);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Bench.Progress p = new Bench.Progress(plan, new PrintStream(bytes, true, StandardCharsets.UTF_8), true, System::nanoTime);
        for (String l : log("jmh-sample.log")) {
            p.line(l);
        }
        p.finish();
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(4, s.split("\r", -1).length - 1, "three updates and the clearing: " + s);
        assertTrue(s.endsWith("JMH: 3 cases in 0 s\n"), s);
        assertEquals(1, s.chars().filter(c -> c == '\n').count(), "one terminal line, rewritten");
    }

    @Test
    void failureIsReportedInOneLine() throws IOException {
        Bench.Progress p = new Bench.Progress(Bench.suite("demo", PRESENT), new PrintStream(new ByteArrayOutputStream()), false,
                System::nanoTime);
        for (String l : log("jmh-failure.log")) {
            p.line(l);
        }
        assertEquals(" at Softmax native-avx2 f32 heap 1x16: java.lang.IllegalArgumentException: no backend named"
                + " 'native-avx2'; present: [java-vector, java-scalar]", p.failure());
    }

    static String result(String bench, String params, double median, String unit) {
        return "{\"benchmark\": \"org.panmax.bench." + bench + "\", \"mode\": \"avgt\", \"params\": {" + params + "},"
                + " \"primaryMetric\": {\"score\": " + median + ", \"scorePercentiles\": {\"0.0\": 1, \"50.0\": " + median
                + ", \"100.0\": 1e9}, \"scoreUnit\": \"" + unit + "\"}, \"secondaryMetrics\": {}}";
    }

    @Test
    void summaryTableFromJmhJson(@TempDir Path dir) throws IOException {
        String soft = "\"contender\": \"%s\", \"dtype\": \"f32\", \"memory\": \"heap\", \"shape\": \"1x1024\"";
        Path f = Files.writeString(dir.resolve("r.json"), "[" + String.join(",\n",
                result("SoftmaxBenchmark.softmax", soft.formatted("java-scalar"), 6800, "ns/op"),
                result("SoftmaxBenchmark.softmax", soft.formatted("native-avx2"), 400, "ns/op"),
                result("SoftmaxBenchmark.softmax", soft.formatted("java-vector"), 0.6, "us/op"),
                result("SoftmaxBenchmark.softmax", soft.formatted("raw-critical"), 390, "ns/op"),
                result("SoftmaxBenchmark.softmax", soft.formatted("onnxruntime"), 2900, "ns/op"),
                result("SoftmaxBenchmark.softmax", soft.formatted("floor-c2pass"), 600, "ns/op"),
                result("OpsBenchmark.op", "\"contender\": \"native-avx2\", \"dtype\": \"f64\", \"n\": \"1024\", \"op\": \"softmax\"",
                        700, "ns/op"),
                result("OpsBenchmark.op", "\"contender\": \"java-scalar\", \"dtype\": \"f64\", \"n\": \"1024\", \"op\": \"softmax\"",
                        0.0049, "ms/op"),
                result("FloorBenchmark.copy", "\"bytes\": \"64\"", 5, "ns/op")) + "]");
        List<Bench.Result> rows = Bench.readResults(f);
        assertEquals(9 - 1, rows.size(), "floors are not in the table");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Bench.summary(rows, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(5, lines.size(), String.join("\n", lines));
        assertTrue(lines.get(0).matches(" +median per call +native-avx2 +java-vector +java-scalar +nat/vec +nat/scalar"),
                lines.get(0));
        assertTrue(lines.get(1).matches(" +softmax f32 n=1024 +400 ns +600 ns +6\\.8 µs +1\\.5× +17\\.0×"), lines.get(1));
        assertTrue(lines.get(2).matches(" +softmax f64 n=1024 +700 ns +— +4\\.9 µs +— +7\\.0×"), lines.get(2));
        assertEquals("Headline: float32 softmax at n = 1024: native-avx2 is 17.0× java-scalar and 1.5× java-vector.", lines.get(3));
        assertEquals("Across these cases, native is 7.0–17.0× java-scalar and 1.5× the best java-vector.", lines.get(4));
    }

    @Test
    void summaryOfTheCommittedShortRun() throws IOException {
        Path softmax = Path.of("bench", "results", "short-softmax.json");
        Assumptions.assumeTrue(Files.exists(softmax), "bench/results/short-softmax.json is not in this checkout");
        List<Bench.Result> rows = Bench.readResults(softmax);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Bench.summary(rows, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("softmax f32 n=1024"), s);
        assertTrue(s.contains("softmax f32 256×1000"), s);
        assertTrue(s.contains("Headline: float32 softmax at n = 1024: native-"), s);
        assertTrue(s.lines().count() <= 3 + 10, s); // header, the short suite's 10 softmax shapes, two closing lines
    }

    @Test
    void benchCommandRejections() {
        assertTrue(CliTest.rejected(CliTest.run("bench")).contains("needs --suite"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--op", "nope", "--n", "3")).contains("--op must be one of"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--op", "softmax")).contains("needs --n"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--op", "softmax", "--n", "0")).contains("--n must be >= 1"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--op", "softmax", "--n", "8", "--backends", "gpu"))
                .contains("no backend named 'gpu'"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--op", "backward", "--n", "8", "--rows", "4"))
                .contains("--rows applies to --op softmax only"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--suite", "huge")).contains("--suite must be demo, short or full"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--suite", "demo", "--n", "3")).contains("give it alone"));
        assertTrue(CliTest.rejected(CliTest.run("bench", "--op", "softmax", "--n", "8", "--jmh-jar", "/nonexistent/b.jar"))
                .contains("is not there"));
    }
}
