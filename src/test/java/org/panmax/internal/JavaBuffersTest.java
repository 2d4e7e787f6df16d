package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.panmax.internal.JavaTestSupport.gauss;
import static org.panmax.internal.JavaTestSupport.get;
import static org.panmax.internal.JavaTestSupport.round;
import static org.panmax.internal.JavaTestSupport.set;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Reduction;
import org.panmax.SoftmaxOptions;

/**
 * The Java backends index arrays directly and segments through the Vector API's segment loads, and pick one of
 * the two per call: every operation gives the same bits on array views, native segments, heap segments and a mix
 * of arrays and segments in one call; and once compiled, calls on either kind allocate nothing.
 */
class JavaBuffersTest {

    enum Layout { ARRAYS, NATIVE, HEAP_SEGMENTS, MIXED }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> backendsAndTypes() {
        return JavaTestSupport.backendsAndTypes();
    }

    /** Views of one call's buffers in one layout; MIXED puts inputs in arrays and outputs in native memory. */
    static final class Views {
        final Layout layout;
        final boolean f64;
        final Arena arena;

        Views(Layout layout, boolean f64, Arena arena) {
            this.layout = layout;
            this.f64 = f64;
            this.arena = arena;
        }

        Matrix of(double[][] v, boolean output) {
            int rows = v.length;
            int cols = v[0].length;
            int stride = cols + 1;
            int offset = 2;
            int len = offset + (rows - 1) * stride + cols;
            Layout l = layout == Layout.MIXED ? (output ? Layout.NATIVE : Layout.ARRAYS) : layout;
            DType t = f64 ? DType.F64 : DType.F32;
            Matrix m = switch (l) {
                case ARRAYS -> f64 ? Matrix.of(new double[len], offset, rows, cols, stride)
                        : Matrix.of(new float[len], offset, rows, cols, stride);
                case NATIVE -> Matrix.of(t, arena.allocate((long) len * t.bytes(), 8), offset, rows, cols, stride);
                default -> Matrix.of(t, f64 ? MemorySegment.ofArray(new double[len]) : MemorySegment.ofArray(new float[len]),
                        offset, rows, cols, stride);
            };
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < cols; j++) {
                    set(m, r, j, v[r][j]);
                }
            }
            return m;
        }
    }

    static double[][] random(SplittableRandom rnd, int rows, int cols, double scale, boolean f64) {
        double[][] v = new double[rows][cols];
        for (double[] r : v) {
            for (int j = 0; j < cols; j++) {
                r[j] = round(f64, scale * gauss(rnd));
            }
        }
        return v;
    }

    /** Runs every operation on views made by vs; returns each output's values by name. */
    static Map<String, double[]> runAll(Kernels k, Views vs, long seed, int n) {
        boolean f64 = vs.f64;
        Map<String, double[]> out = new LinkedHashMap<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        int rows = 3;
        double[][] z = random(rnd, rows, n, 4, f64);
        z[1][n / 2] = Double.NEGATIVE_INFINITY;
        double[][] bias = random(rnd, rows, n, 1, f64);
        byte[] keep = new byte[n];
        for (int j = 0; j < n; j++) {
            keep[j] = (byte) (j % 5 == 3 ? 0 : 1);
        }
        double[][] p = new double[rows][n];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < n; j++) {
                p[r][j] = Math.exp(z[r][j]);
                s += p[r][j];
            }
            for (int j = 0; j < n; j++) {
                p[r][j] = round(f64, p[r][j] / s);
            }
        }
        double[][] dy = random(rnd, rows, n, 1, f64);
        SoftmaxOptions[] forward = {SoftmaxOptions.DEFAULT, SoftmaxOptions.LOG, SoftmaxOptions.DEFAULT.withExact(true),
            new SoftmaxOptions(2.5, Matrix.of(keep).broadcast(rows), vs.of(bias, false), false, false),
            new SoftmaxOptions(0.5, null, vs.of(bias, false), true, false)};
        for (int i = 0; i < forward.length; i++) {
            Matrix y = vs.of(new double[rows][n], true);
            k.softmax(vs.of(z, false), y, forward[i]);
            out.put("softmax " + i, values(y));
        }
        Matrix lse = vs.of(new double[rows][1], true);
        k.logSumExp(vs.of(z, false), lse);
        out.put("logSumExp", values(lse));
        for (int op = 0; op < 3; op++) {
            Matrix dx = vs.of(new double[rows][n], true);
            switch (op) {
                case 0 -> k.softmaxBackward(vs.of(p, false), vs.of(dy, false), dx);
                case 1 -> k.logSoftmaxBackward(vs.of(z, false), vs.of(dy, false), dx);
                default -> k.logSoftmaxJvp(vs.of(z, false), vs.of(dy, false), dx);
            }
            out.put("backward " + op, values(dx));
        }
        int jn = Math.min(n, 40);
        double[][] zj = new double[rows][jn];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(z[r], 0, zj[r], 0, jn);
        }
        Matrix jac = vs.of(new double[rows * jn][jn], true);
        k.jacobian(vs.of(zj, false), jac, JacobianOptions.DEFAULT.withFromLogits(true));
        out.put("jacobian", values(jac));
        Matrix jm = vs.of(new double[n][7], true);
        k.jacobianMatmul(vs.of(new double[][] {p[0]}, false), vs.of(random(rnd, n, 7, 1, f64), false), jm,
                JacobianOptions.DEFAULT);
        out.put("jacobianMatmul", values(jm));
        double[][] w = {random(rnd, 1, n, 1, f64)[0]};
        for (int j = 0; j < n; j++) {
            w[0][j] = Math.abs(w[0][j]);
        }
        for (int variant = 0; variant < 3; variant++) {
            Matrix g = vs.of(new double[rows][n], true);
            Matrix loss = vs.of(new double[1][rows], true);
            Matrix targets = variant == 2 ? vs.of(p, false) : Matrix.of(new long[] {1, -100, n - 1});
            CrossEntropyOptions o = new CrossEntropyOptions(Reduction.NONE, -100, variant == 1 ? 0.1 : 0,
                    variant >= 1 ? vs.of(w, false) : null);
            k.crossEntropy(vs.of(z, false), targets, g, loss, o);
            out.put("crossEntropy " + variant + " grad", values(g));
            out.put("crossEntropy " + variant + " loss", values(loss));
        }
        return out;
    }

    static double[] values(Matrix m) {
        double[] v = new double[(int) (m.rows() * m.cols())];
        for (int r = 0; r < m.rows(); r++) {
            for (int j = 0; j < m.cols(); j++) {
                v[(int) (r * m.cols() + j)] = get(m, r, j);
            }
        }
        return v;
    }

    /*
     * java-vector adds a vector's lanes with reduceLanes(ADD), whose order the Vector API leaves to the
     * implementation: the interpreter adds in sequence, C2 in a tree. A row computed before its kernel is compiled
     * can therefore differ from the same row computed after in the last bit of a sum, hence of the outputs; the two
     * buffer kinds run different loops that reach C2 at different times. (A fixed-order reduction was tried: passing
     * the vector to a helper boxed it on every call.) The two orders of an L-lane reduction each round at most L - 1
     * times, so the sums differ by up to 2 (L - 1) ulps of the sum, and that relative difference reaches every output
     * (through 1/sum, or through log(sum) into a log-softmax output). java-vector is held to that many ulps of
     * max(|y|, 1), with L = 16 floats or 8 doubles (512-bit vectors, the widest); java-scalar to the bit. (2 ulps
     * was the bound before: a fresh-clone CI saw 2.6, java-vector n = 100.)
     */
    static boolean vectorReduction(Kernels k) {
        return k.name().startsWith("java-vector");
    }

    static boolean withinReductionOrder(double a, double b, boolean f64) {
        double m = Math.max(Math.abs(a), 1);
        double ulp = f64 ? Math.ulp(m) : Math.ulp((float) m);
        int lanes = f64 ? 8 : 16;
        return Math.abs(a - b) <= 2 * (lanes - 1) * ulp;
    }

    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void arraysSegmentsAndMixedViewsGiveTheSameBits(Kernels k, boolean f64) {
        for (int n : new int[] {1, 7, 33, 100, 1001}) {
            try (Arena arena = Arena.ofConfined()) {
                Map<String, double[]> want = runAll(k, new Views(Layout.ARRAYS, f64, arena), JavaTestSupport.SEED + n, n);
                for (Layout l : new Layout[] {Layout.NATIVE, Layout.HEAP_SEGMENTS, Layout.MIXED}) {
                    Map<String, double[]> got = runAll(k, new Views(l, f64, arena), JavaTestSupport.SEED + n, n);
                    for (String op : want.keySet()) {
                        double[] a = want.get(op);
                        double[] b = got.get(op);
                        for (int i = 0; i < a.length; i++) {
                            if (Double.doubleToLongBits(a[i]) != Double.doubleToLongBits(b[i])
                                    && !(vectorReduction(k) && withinReductionOrder(a[i], b[i], f64))) {
                                fail(k.name() + " n=" + n + " " + op + " [" + i + "]: arrays " + a[i] + ", " + l + " " + b[i]);
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- allocation ---------------------------------------------------------------------------------

    /**
     * Once C2 has compiled them, calls on arrays and on native segments allocate nothing (the Vector API kernels
     * used to wrap each float[] in a heap segment, ~380 B per 4 Mi call until compiled and whenever a kernel was
     * not inlined; a kernel that C2 stops inlining exp into boxes every vector). Measured in a child JVM that
     * compiles synchronously at fixed call counts ({@link JavaAllocationMain}), so the machine's load cannot
     * make it flake.
     */
    @Test
    void compiledCallsAllocateNothing() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Files.createTempFile("panmax-alloc", ".log");
        try {
            Process p = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-Xbatch", "-XX:-TieredCompilation", "-cp",
                    System.getProperty("java.class.path"), JavaAllocationMain.class.getName()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean exited = p.waitFor(600, TimeUnit.SECONDS);
            if (!exited) {
                p.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(exited, "child JVM hung:\n" + out);
            assertEquals(0, p.exitValue(), "calls still allocating once compiled (bytes per 200 calls):\n" + out);
            assertTrue(out.contains("allocating=[]"), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    static void addCalls(Map<String, Runnable> calls, Kernels k, Views vs) {
        int n = 256;
        int rows = 2;
        SplittableRandom rnd = new SplittableRandom(5);
        Matrix x = vs.of(random(rnd, rows, n, 3, false), false);
        Matrix y = vs.of(new double[rows][n], true);
        Matrix bias = vs.of(random(rnd, rows, n, 1, false), false);
        byte[] keep = new byte[n];
        java.util.Arrays.fill(keep, (byte) 1);
        keep[7] = 0;
        SoftmaxOptions ex = new SoftmaxOptions(2, Matrix.of(keep).broadcast(rows), bias, false, false);
        Matrix lse = vs.of(new double[rows][1], true);
        Matrix p = vs.of(new double[][] {new double[n], new double[n]}, false);
        Matrix jac = vs.of(new double[32 * 2][32], true);
        Matrix x32 = vs.of(random(rnd, 2, 32, 1, false), false);
        Matrix v = vs.of(random(rnd, 32, 9, 1, false), false);
        Matrix jm = vs.of(new double[32][9], true);
        Matrix w = vs.of(new double[][] {new double[n]}, false);
        Matrix loss = vs.of(new double[1][1], true);
        Matrix labels = Matrix.of(new long[] {3, 5});
        CrossEntropyOptions ce = CrossEntropyOptions.DEFAULT.withLabelSmoothing(0.1);
        CrossEntropyOptions weighted = ce.withWeight(w);
        JacobianOptions fromLogits = JacobianOptions.DEFAULT.withFromLogits(true);
        Matrix p32 = x32.row(0);
        String at = k.name() + " " + vs.layout + " ";
        calls.put(at + "softmax", () -> k.softmax(x, y, SoftmaxOptions.DEFAULT));
        calls.put(at + "logSoftmax", () -> k.softmax(x, y, SoftmaxOptions.LOG));
        calls.put(at + "softmax mask bias T", () -> k.softmax(x, y, ex));
        calls.put(at + "logSumExp", () -> k.logSumExp(x, lse));
        calls.put(at + "softmaxBackward", () -> k.softmaxBackward(p, x, y));
        calls.put(at + "logSoftmaxJvp", () -> k.logSoftmaxJvp(p, x, y));
        calls.put(at + "jacobian", () -> k.jacobian(x32, jac, fromLogits));
        calls.put(at + "jacobianMatmul", () -> k.jacobianMatmul(p32, v, jm, JacobianOptions.DEFAULT));
        calls.put(at + "crossEntropy", () -> k.crossEntropy(x, labels, y, loss, ce));
        calls.put(at + "crossEntropy weights", () -> k.crossEntropy(x, labels, y, loss, weighted));
    }
}
