package org.panmax.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The command line in-process: every command from arguments, a file, a pipe and a .npy file, checked
 * against a double-precision reference; every rejected input is one line on stderr, status 2, nothing on
 * stdout; the regressions of the hardening issue.
 */
class CliTest {
    record Run(int status, byte[] outBytes, String err) {
        String out() {
            return new String(outBytes, StandardCharsets.UTF_8);
        }

        @SuppressWarnings("unchecked")
        Map<String, Object> json() throws IOException {
            assertEquals(0, status, () -> "exit status; stderr: " + err);
            return (Map<String, Object>) Bench.parseJson(out());
        }
    }

    static Run run(byte[] stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(args, new ByteArrayInputStream(stdin), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(status, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    static Run run(String... args) {
        return run(new byte[0], args);
    }

    /** A rejected call: status 2, exactly one line on stderr naming panmax, nothing on stdout. */
    static String rejected(Run r) {
        assertEquals(2, r.status(), () -> "status; stderr: " + r.err() + " stdout: " + r.out());
        assertEquals(0, r.outBytes().length, () -> "nothing on stdout, got: " + r.out());
        List<String> lines = r.err().lines().toList();
        assertEquals(1, lines.size(), () -> "one line on stderr, got: " + r.err());
        assertTrue(lines.get(0).startsWith("panmax"), lines.get(0));
        assertFalse(r.err().contains("\tat "), "no stack trace");
        return lines.get(0);
    }

    // ------------------------------------------------------------------------------------------------
    // reference (double, max-shifted)

    static double[] softmax(double[] x) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            m = Math.max(m, v);
        }
        double s = 0;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.exp(x[i] - m);
            s += y[i];
        }
        for (int i = 0; i < x.length; i++) {
            y[i] /= s;
        }
        return y;
    }

    static double logSumExp(double[] x) {
        double m = Double.NEGATIVE_INFINITY;
        for (double v : x) {
            m = Math.max(m, v);
        }
        double s = 0;
        for (double v : x) {
            s += Math.exp(v - m);
        }
        return m + Math.log(s);
    }

    static final double[][] BATCH = {{1, 2, 3, 0.5}, {-1, 4, 2.25, 7}, {0, 0, 0, 0}};
    /** f32 results against the double reference: a few float ulps of values <= 1 in magnitude (plus logits up to 7). */
    static final double TOL = 2e-6;

    static double[] doubles(Object o) {
        List<?> l = (List<?>) o;
        double[] d = new double[l.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = ((Number) l.get(i)).doubleValue();
        }
        return d;
    }

    static double[][] rows(Object o) {
        List<?> l = (List<?>) o;
        double[][] d = new double[l.size()][];
        for (int i = 0; i < d.length; i++) {
            d[i] = doubles(l.get(i));
        }
        return d;
    }

    static void near(double[] want, double[] got, double tol) {
        assertEquals(want.length, got.length, "length");
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol * Math.max(1, Math.abs(want[i])), "element " + i);
        }
    }

    static void checkBatch(String command, Map<String, Object> j) {
        switch (command) {
            case "softmax" -> {
                double[][] p = rows(j.get("probabilities"));
                for (int r = 0; r < BATCH.length; r++) {
                    near(softmax(BATCH[r]), p[r], TOL);
                }
            }
            case "logsoftmax" -> {
                double[][] p = rows(j.get("log_probabilities"));
                for (int r = 0; r < BATCH.length; r++) {
                    double l = logSumExp(BATCH[r]);
                    double[] want = new double[BATCH[r].length];
                    for (int i = 0; i < want.length; i++) {
                        want[i] = BATCH[r][i] - l;
                    }
                    near(want, p[r], TOL);
                }
            }
            case "logsumexp" -> {
                double[] l = doubles(j.get("logsumexp"));
                for (int r = 0; r < BATCH.length; r++) {
                    assertEquals(logSumExp(BATCH[r]), l[r], TOL * 8);
                }
            }
            case "jacobian" -> {
                List<?> js = (List<?>) j.get("jacobian");
                assertEquals(BATCH.length, js.size());
                for (int r = 0; r < BATCH.length; r++) {
                    double[] p = softmax(BATCH[r]);
                    double[][] jr = rows(js.get(r));
                    for (int a = 0; a < p.length; a++) {
                        for (int b = 0; b < p.length; b++) {
                            assertEquals((a == b ? p[a] : 0) - p[a] * p[b], jr[a][b], TOL, "J[" + a + "][" + b + "]");
                        }
                    }
                }
            }
            case "crossentropy" -> {
                double[] loss = doubles(j.get("loss"));
                double[][] g = rows(j.get("gradient"));
                int[] target = {2, 0, 3};
                for (int r = 0; r < BATCH.length; r++) {
                    assertEquals(logSumExp(BATCH[r]) - BATCH[r][target[r]], loss[r], TOL * 8);
                    double[] p = softmax(BATCH[r]);
                    p[target[r]] -= 1;
                    near(p, g[r], TOL);
                }
            }
            default -> throw new AssertionError(command);
        }
    }

    /** The extra arguments each command needs for BATCH. */
    static String[] extra(String command) {
        return command.equals("crossentropy") ? new String[] {"--target", "2,0,3"} : new String[0];
    }

    static String[] args(String command, String... more) {
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(List.of(extra(command)));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    static final List<String> COMPUTE = List.of("softmax", "logsoftmax", "logsumexp", "jacobian", "crossentropy");

    static Stream<String> computeCommands() {
        return COMPUTE.stream();
    }

    static String csv(double[][] rows, String sep) {
        StringBuilder sb = new StringBuilder();
        for (double[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                sb.append(i == 0 ? "" : sep).append(r[i]);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    static String jsonRows(double[][] rows) {
        StringBuilder sb = new StringBuilder("[");
        for (int r = 0; r < rows.length; r++) {
            sb.append(r == 0 ? "" : ",\n ").append('[');
            for (int i = 0; i < rows[r].length; i++) {
                sb.append(i == 0 ? "" : ", ").append(rows[r][i]);
            }
            sb.append(']');
        }
        return sb.append("]\n").toString();
    }

    /**
     * The test's own .npy writer (independent of Npy.write): version 1.0, the given descr, C order.
     * {@code shapeText} is the Python tuple, e.g. "(3, 4)".
     */
    static byte[] npy(String descr, String shapeText, boolean fortran, double[] values, int keepBytes) {
        String h = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shapeText + ", }";
        int pad = 64 - ((10 + h.length() + 1) % 64);
        h = h + " ".repeat(pad) + "\n";
        int size = descr.endsWith("8") ? 8 : 4;
        ByteBuffer b = ByteBuffer.allocate(10 + h.length() + values.length * size)
                .order(descr.startsWith(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        b.order(ByteOrder.LITTLE_ENDIAN).putShort((short) h.length());
        b.order(descr.startsWith(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        b.put(h.getBytes(StandardCharsets.ISO_8859_1));
        for (double v : values) {
            if (descr.equals("<i8")) {
                b.putLong((long) v);
            } else if (size == 8) {
                b.putDouble(v);
            } else {
                b.putFloat((float) v);
            }
        }
        byte[] all = b.array();
        return keepBytes < 0 ? all : java.util.Arrays.copyOf(all, keepBytes);
    }

    /** The float32 values after a version 1.0 header (whatever the shape). */
    static double[] npyData(byte[] b) {
        ByteBuffer buf = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int start = 10 + (buf.getShort(8) & 0xffff);
        double[] d = new double[(b.length - start) / 4];
        for (int i = 0; i < d.length; i++) {
            d[i] = buf.getFloat(start + 4 * i);
        }
        return d;
    }

    static double[] flat(double[][] rows) {
        return Stream.of(rows).flatMapToDouble(java.util.Arrays::stream).toArray();
    }

    // ------------------------------------------------------------------------------------------------
    // every command, every input route

    @ParameterizedTest
    @MethodSource("computeCommands")
    void fromArguments(String command) throws IOException {
        String[] a = command.equals("crossentropy") ? new String[] {command, "--target", "2", "1", "2", "3", "0.5"}
                : new String[] {command, "1", "2", "3", "0.5"};
        Map<String, Object> j = run(a).json();
        assertEquals("f32", j.get("dtype"));
        double[] x = {1, 2, 3, 0.5};
        switch (command) {
            case "softmax" -> near(softmax(x), doubles(j.get("probabilities")), TOL);
            case "logsumexp" -> assertEquals(logSumExp(x), ((Number) j.get("logsumexp")).doubleValue(), 1e-5);
            case "crossentropy" -> assertEquals(logSumExp(x) - 3, ((Number) j.get("loss")).doubleValue(), 1e-5);
            case "jacobian" -> assertEquals(4, rows(j.get("jacobian")).length);
            default -> assertEquals(4, doubles(j.get("log_probabilities")).length);
        }
    }

    @ParameterizedTest
    @MethodSource("computeCommands")
    void fromFiles(String command, @TempDir Path dir) throws IOException {
        Path c = Files.writeString(dir.resolve("x.csv"), "# a comment line, then a blank one\n\n" + csv(BATCH, ","));
        Path w = Files.writeString(dir.resolve("x.txt"), csv(BATCH, " \t "));
        Path j = Files.writeString(dir.resolve("x.json"), jsonRows(BATCH));
        for (Path p : List.of(c, w, j)) {
            checkBatch(command, run(args(command, "--input", p.toString())).json());
        }
    }

    @ParameterizedTest
    @MethodSource("computeCommands")
    void fromAPipe(String command) throws IOException {
        checkBatch(command, run(csv(BATCH, ",").getBytes(StandardCharsets.UTF_8), args(command, "--input", "-")).json());
        checkBatch(command, run(jsonRows(BATCH).getBytes(StandardCharsets.UTF_8), args(command, "--input", "-")).json());
    }

    @ParameterizedTest
    @MethodSource("computeCommands")
    void fromNpy(String command, @TempDir Path dir) throws IOException {
        for (String descr : List.of("<f4", "<f8", ">f8")) {
            Path p = dir.resolve("x" + descr.replaceAll("\\W", "") + ".npy");
            Files.write(p, npy(descr, "(3, 4)", false, flat(BATCH), -1));
            Map<String, Object> j = run(args(command, "--input", p.toString())).json();
            assertEquals(descr.endsWith("4") ? "f32" : "f64", j.get("dtype"), "a .npy computes in its own dtype");
            checkBatch(command, j);
            // and through a pipe, with the dtype asked for
            Map<String, Object> k = run(Files.readAllBytes(p), args(command, "--input", "-", "--dtype", "f32")).json();
            assertEquals("f32", k.get("dtype"));
            checkBatch(command, k);
        }
    }

    @Test
    void oneDimensionalNpyIsOneRow(@TempDir Path dir) throws IOException {
        Path p = Files.write(dir.resolve("v.npy"), npy("<f4", "(4,)", false, BATCH[0], -1));
        near(softmax(BATCH[0]), doubles(run("softmax", "--input", p.toString()).json().get("probabilities")), TOL);
    }

    @Test
    void f64IsComputedInDouble() throws IOException {
        Map<String, Object> j = run("softmax", "--dtype", "f64", "1", "2", "3").json();
        assertEquals("f64", j.get("dtype"));
        near(softmax(new double[] {1, 2, 3}), doubles(j.get("probabilities")), 1e-15);
    }

    @Test
    void infinitiesAndNanAsWritten() throws IOException {
        double[] p = doubles(run("softmax", "-inf", "0", "+inf", "Infinity").json().get("probabilities"));
        assertArrayEquals(new double[] {0, 0, 0.5, 0.5}, p);
        Map<String, Object> j = run("softmax", "nan", "1").json();
        assertEquals(List.of("NaN", "NaN"), j.get("probabilities"), "NaN poisons its row");
        // JSON strings for what JSON cannot write, as the CLI itself writes them
        double[] q = doubles(run("[\"-inf\", 0, \"-Infinity\"]".getBytes(StandardCharsets.UTF_8), "softmax", "--input", "-")
                .json().get("probabilities"));
        assertArrayEquals(new double[] {0, 1, 0}, q);
    }

    @Test
    void temperatureAndSmoothing() throws IOException {
        double[] p = doubles(run("softmax", "--temperature", "2", "2", "4").json().get("probabilities"));
        near(softmax(new double[] {1, 2}), p, TOL);
        Map<String, Object> j = run("crossentropy", "--target", "0", "--smoothing", "0.1", "2", "0.5", "-1").json();
        double[] x = {2, 0.5, -1};
        double[] lp = new double[3];
        double l = logSumExp(x);
        double want = 0;
        for (int i = 0; i < 3; i++) {
            lp[i] = x[i] - l;
            want -= (i == 0 ? 0.9 : 0) * lp[i] + 0.1 / 3 * lp[i];
        }
        assertEquals(want, ((Number) j.get("loss")).doubleValue(), 1e-5);
    }

    @Test
    void logJacobian() throws IOException {
        double[][] jac = rows(run("jacobian", "--log", "2", "1").json().get("jacobian"));
        double[] p = softmax(new double[] {2, 1});
        assertEquals(1 - p[0], jac[0][0], TOL);
        assertEquals(-p[1], jac[0][1], TOL);
        assertEquals("log_softmax", run("jacobian", "--log=true", "2", "1").json().get("of"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"softmax", "logsoftmax", "logsumexp", "jacobian", "crossentropy"})
    void outputFormats(String command, @TempDir Path dir) throws IOException {
        Path in = Files.writeString(dir.resolve("x.csv"), csv(BATCH, ","));
        // csv back in: the table re-read as rows must equal the JSON result's numbers
        Run c = run(args(command, "--input", in.toString(), "--format", "csv"));
        assertEquals(0, c.status(), c.err());
        Input.Rows csvBack = Input.parse(c.outBytes(), "csv", Dtype.f32);
        Path npyFile = dir.resolve("y.npy");
        Run n = run(args(command, "--input", in.toString(), "--format", "npy", "--output", npyFile.toString()));
        assertEquals(0, n.status(), n.err());
        assertEquals(0, n.outBytes().length, "--output: nothing on stdout");
        double[] a = flat(csvBack.rows());
        double[] b = npyData(Files.readAllBytes(npyFile));
        assertArrayEquals(a, b, 0, "csv and npy hold the same table");
        int want = switch (command) {
            case "logsumexp" -> BATCH.length;
            case "jacobian" -> BATCH.length * 16;
            case "crossentropy" -> BATCH.length * 5;
            default -> BATCH.length * 4;
        };
        assertEquals(want, a.length);
    }

    @Test
    void npyOutputOfJacobianIsThreeDimensional() throws IOException {
        byte[] b = run(csv(BATCH, ",").getBytes(StandardCharsets.UTF_8), "jacobian", "--input", "-", "--format", "npy").outBytes();
        String header = new String(b, 10, b.length - 10, StandardCharsets.ISO_8859_1);
        assertTrue(header.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4, 4), }"), header);
    }

    @Test
    void info() throws IOException {
        Map<String, Object> j = run("info").json();
        assertTrue(((List<?>) j.get("backends")).contains("java-scalar"));
        assertTrue(j.containsKey("default_backend"));
    }

    @Test
    void verboseSaysBackendAndTiming() {
        Run r = run("softmax", "-v", "1", "2");
        assertEquals(0, r.status());
        assertTrue(r.err().contains("backend "), r.err());
        assertTrue(r.err().contains(" ms"), r.err());
        assertTrue(run("softmax", "1", "2").err().isEmpty(), "quiet by default");
    }

    @Test
    void backendByName() throws IOException {
        assertEquals("java-scalar", run("softmax", "--backend", "java-scalar", "1", "2").json().get("backend"));
        assertTrue(rejected(run("softmax", "--backend", "gpu", "1")).contains("no backend named 'gpu'"));
    }

    // ------------------------------------------------------------------------------------------------
    // help and version

    static Stream<String> allCommands() {
        return Stream.of("info", "softmax", "logsoftmax", "logsumexp", "jacobian", "crossentropy", "demo", "bench");
    }

    @ParameterizedTest
    @MethodSource("allCommands")
    void helpForEachCommand(String command) {
        for (String[] a : List.of(new String[] {command, "--help"}, new String[] {"help", command})) {
            Run r = run(a);
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().startsWith("Usage: panmax " + command), r.out());
            assertTrue(r.err().isEmpty(), r.err());
        }
    }

    @Test
    void helpAndVersion() {
        Run h = run("--help");
        assertEquals(0, h.status());
        for (String c : COMPUTE) {
            assertTrue(h.out().contains(c), c);
        }
        Run v = run("--version");
        assertEquals(0, v.status());
        assertTrue(v.out().startsWith("panmax "), v.out());
        assertTrue(rejected(run()).contains("a command is needed"));
    }

    // ------------------------------------------------------------------------------------------------
    // rejected input: one line, status 2, nothing written

    static Stream<Arguments> malformed() {
        double[] six = {1, 2, 3, 4, 5, 6};
        return Stream.of(
                Arguments.of("truncated .npy", npy("<f4", "(2, 3)", false, six, 10 + 118 + 20), "truncated"),
                Arguments.of("truncated .npy header", npy("<f4", "(2, 3)", false, six, 40), "truncated"),
                Arguments.of("int64 .npy", npy("<i8", "(2, 3)", false, six, -1), "'<i8' (int64) is not supported"),
                Arguments.of("Fortran .npy", npy("<f8", "(2, 3)", true, six, -1), "Fortran"),
                Arguments.of("3-D .npy", npy("<f4", "(1, 2, 3)", false, six, -1), "3 dimensions"),
                Arguments.of("empty .npy", npy("<f4", "(0, 3)", false, new double[0], -1), "empty"),
                Arguments.of("extra bytes .npy", npy("<f4", "(5,)", false, six, -1), "bytes after the data"),
                Arguments.of("ragged csv", "1,2,3\n4,5\n".getBytes(StandardCharsets.UTF_8), "line 2 has 2 values, but line 1 has 3"),
                Arguments.of("ragged json", "[[1,2],[3]]".getBytes(StandardCharsets.UTF_8), "row 2 has 1 values"),
                Arguments.of("non-number", "1 2 x\n".getBytes(StandardCharsets.UTF_8), "line 1, value 3 is not a number: 'x'"),
                Arguments.of("empty field", "1,,2\n".getBytes(StandardCharsets.UTF_8), "value 2 is empty"),
                Arguments.of("hex float", "0x1p3 1\n".getBytes(StandardCharsets.UTF_8), "is not a number"),
                Arguments.of("java suffix", "1d 2\n".getBytes(StandardCharsets.UTF_8), "is not a number"),
                Arguments.of("empty input", new byte[0], "is empty"),
                Arguments.of("blank input", " \n\t\n".getBytes(StandardCharsets.UTF_8), "is empty"),
                Arguments.of("only comments", "# nothing\n".getBytes(StandardCharsets.UTF_8), "no rows"),
                Arguments.of("bad json", "[1, 2,]".getBytes(StandardCharsets.UTF_8), "not valid JSON"),
                Arguments.of("json NaN token", "[1, NaN]".getBytes(StandardCharsets.UTF_8), "not valid JSON"),
                Arguments.of("json numeric string", "[1, \"2\"]".getBytes(StandardCharsets.UTF_8), "accepted only for inf"),
                Arguments.of("json empty", "[]".getBytes(StandardCharsets.UTF_8), "empty array"),
                Arguments.of("json 3 levels", "[[[1]]]".getBytes(StandardCharsets.UTF_8), "at most two levels"),
                Arguments.of("json mixed", "[[1], 2]".getBytes(StandardCharsets.UTF_8), "not an array"),
                Arguments.of("json trailing", "[1] [2]".getBytes(StandardCharsets.UTF_8), "after the JSON array"),
                Arguments.of("json object", "[{\"a\": 1}]".getBytes(StandardCharsets.UTF_8), "is not a number"),
                Arguments.of("f32 overflow in text", "1e39 0\n".getBytes(StandardCharsets.UTF_8), "not finite in f32"),
                Arguments.of("f64 .npy too big for f32", npy("<f8", "(2,)", false, new double[] {1e300, 0}, -1),
                        "not finite in f32"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void malformedInputIsOneLineAndStatus2(String name, byte[] data, String expected, @TempDir Path dir) throws IOException {
        boolean f32 = name.contains("f32");
        String[] dtype = f32 ? new String[] {"--dtype", "f32"} : new String[0];
        Path out = dir.resolve("out.json");
        for (String command : COMPUTE) {
            List<String> a = new ArrayList<>(List.of(args(command, "--input", "-", "--output", out.toString())));
            a.addAll(List.of(dtype));
            String line = rejected(run(data, a.toArray(new String[0])));
            assertTrue(line.contains(expected), () -> command + ": " + line);
            assertFalse(Files.exists(out), "nothing written on rejected input");
            Path f = Files.write(dir.resolve("in.dat"), data);
            a.set(a.indexOf("-"), f.toString());
            String fromFile = rejected(run(a.toArray(new String[0])));
            assertTrue(fromFile.contains(expected), fromFile);
        }
    }

    @Test
    void missingFileAndConflictingSources() {
        assertTrue(rejected(run("softmax", "--input", "/nonexistent/x.csv")).contains("no such file"));
        assertTrue(rejected(run("softmax", "--input", "-", "1")).contains("not both"));
        assertTrue(rejected(run("softmax")).contains("needs logits"));
        assertTrue(rejected(run("softmax", "--dtype", "f16", "1")).contains("f16"));
        assertTrue(rejected(run("softmax", "--format", "xml", "1")).contains("xml"));
        assertTrue(rejected(run("crossentropy", "--target", "0,1", "1", "2")).contains("give one per row"));
        assertTrue(rejected(run("crossentropy", "--target", "x", "1", "2")).contains("integer class index"));
        assertTrue(rejected(run("crossentropy", "--target", "0", "--smoothing", "2", "1", "2")).contains("[0, 1]"));
        assertTrue(rejected(run("crossentropy", "1", "2")).contains("--target"));
    }

    // ------------------------------------------------------------------------------------------------
    // the hardening issue's cases

    /** (a) f32 input out of range was parsed silently ([0.5, 0.5] for 1e300 1e299; 1e400 became +inf). */
    @Test
    void regressionNumbersNotFiniteInTheDtypeAreErrors() throws IOException {
        assertTrue(rejected(run("softmax", "1e300", "1e299")).contains("logit #1 = 1e300 is not finite in f32"));
        assertTrue(rejected(run("softmax", "1e400")).contains("not finite in f32"));
        assertTrue(rejected(run("softmax", "--dtype", "f64", "1e400")).contains("not finite in f64"));
        assertTrue(rejected(run("softmax", "3.5e38")).contains("not finite in f32"));
        // representable values still work, and so do infinities written as such
        assertArrayEquals(new double[] {0.5, 0.5}, doubles(run("softmax", "--dtype", "f64", "1e300", "1e300").json()
                .get("probabilities")));
        assertArrayEquals(new double[] {1, 0}, doubles(run("softmax", "3.4e38", "-inf").json().get("probabilities")));
    }

    /** (b) jacobian of 40 000 logits died of OutOfMemoryError, 50 000 of NegativeArraySizeException, 100 000 took 5.6 GB. */
    @Test
    void regressionHugeJacobianIsRefusedUpFront() {
        for (int n : new int[] {4097, 40_000, 50_000, 100_000}) {
            String line = rejected(run(jacobianArgs(n)));
            assertTrue(line.contains("has " + (long) n * n + " entries"), line);
            assertTrue(line.contains("limit of 16777216"), line);
        }
        String line = rejected(run(jacobianArgs(40_000)));
        assertTrue(line.contains("6.4 GB as f32"), line);
    }

    private static String[] jacobianArgs(int n) {
        String[] a = new String[n + 1];
        a[0] = "jacobian";
        java.util.Arrays.fill(a, 1, n + 1, "0");
        return a;
    }

    /** (c) --target -9223372036854775808 said "needs --target K". */
    @Test
    void regressionLongMinTargetIsOutOfRange() {
        String line = rejected(run("crossentropy", "--target", "-9223372036854775808", "1", "2", "3"));
        assertTrue(line.contains("--target -9223372036854775808 is outside [0, 3)"), line);
        assertTrue(rejected(run("crossentropy", "--target", "3", "1", "2", "3")).contains("outside [0, 3)"));
    }

    /** (d) --log=false turned log on. */
    @Test
    void regressionLogFalseMeansSoftmax() throws IOException {
        assertEquals("softmax", run("jacobian", "--log=false", "2", "1").json().get("of"));
        assertEquals("softmax", run("jacobian", "2", "1").json().get("of"));
        assertEquals("log_softmax", run("jacobian", "--log", "2", "1").json().get("of"));
        assertTrue(rejected(run("jacobian", "--log=maybe", "2", "1")).contains("maybe"));
    }

    /** (e) options that do not apply to a command were silently ignored. */
    @Test
    void regressionOptionsOfOtherCommandsAreErrors() {
        String line = rejected(run("softmax", "--target", "1", "1", "2"));
        assertTrue(line.contains("unknown option '--target' (it belongs to crossentropy)"), line);
        assertTrue(rejected(run("logsumexp", "--temperature", "2", "1", "2")).contains("unknown option '--temperature'"));
        assertTrue(rejected(run("softmax", "--log", "1", "2")).contains("unknown option '--log'"));
        assertTrue(rejected(run("info", "--dtype", "f64")).contains("unknown option '--dtype'"));
        assertTrue(rejected(run("jacobian", "--smoothing", "0.1", "1")).contains("unknown option '--smoothing'"));
    }

    /** (f) --temperature 1e-300 was reported as "was 0.0". */
    @Test
    void regressionTemperatureReportedAsTyped() {
        String line = rejected(run("softmax", "--temperature", "1e-300", "1", "2"));
        assertTrue(line.endsWith("was 1e-300"), line);
        assertTrue(rejected(run("softmax", "--temperature", "0", "1")).endsWith("was 0"));
        assertTrue(rejected(run("softmax", "--temperature", "-inf", "1")).contains("--temperature must be finite"));
        assertTrue(rejected(run("softmax", "--dtype", "f64", "--temperature", "1e-320", "1")).endsWith("was 1e-320"));
    }

    /** (g) info --bogus said "--bogus needs a value". */
    @Test
    void regressionUnknownOptionIsNamedAsSuch() {
        String line = rejected(run("info", "--bogus"));
        assertTrue(line.contains("unknown option '--bogus'"), line);
    }

    @Test
    void suggestionsForMisspellings() {
        assertTrue(rejected(run("sofmax", "1")).contains("did you mean softmax"));
        assertTrue(rejected(run("softmax", "--temprature", "2", "1")).contains("did you mean --temperature"));
    }

    @Test
    void negativeNumbersAndWordsAreLogits() throws IOException {
        assertArrayEquals(new double[] {0, 1}, doubles(run("softmax", "-inf", "-1").json().get("probabilities")));
        assertEquals(List.of("NaN", "NaN"), run("softmax", "-nan", "-2.5e3").json().get("probabilities"));
    }
}
