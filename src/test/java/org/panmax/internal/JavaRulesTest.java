package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.panmax.internal.JavaTestSupport.assertNaNRow;
import static org.panmax.internal.JavaTestSupport.close;
import static org.panmax.internal.JavaTestSupport.eps;
import static org.panmax.internal.JavaTestSupport.gauss;
import static org.panmax.internal.JavaTestSupport.get;
import static org.panmax.internal.JavaTestSupport.matrix;
import static org.panmax.internal.JavaTestSupport.round;
import static org.panmax.internal.JavaTestSupport.row;
import static org.panmax.internal.JavaTestSupport.rowOf;
import static org.panmax.internal.JavaTestSupport.same;
import static org.panmax.internal.JavaTestSupport.zeros;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Reduction;
import org.panmax.Reference;
import org.panmax.SoftmaxOptions;

/**
 * The rules decided for every backend, on the Java backends through the SPI; each test failed on the backends
 * before the rule (the closed-arena rule is {@link JavaClosedArenaTest}).
 */
class JavaRulesTest {

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> backendsAndTypes() {
        return JavaTestSupport.backendsAndTypes();
    }

    static java.util.List<Kernels> backends() {
        return JavaTestSupport.backends();
    }

    // ---- (a) large temperatures -----------------------------------------------------------------------

    /**
     * softmax(z / T) for finite z and T where z − max overflows: {MAX, −MAX} at T = MAX is [0.881, 0.119], not
     * [1, 0]; log-softmax at T = 1e10 is −6.8e28 (float), not −inf; rows across the whole range at T = 3, in the
     * vector loops and the tails, with a masked entry (−inf is not an overflow).
     */
    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void largeTemperatureDoesNotOverflowXMinusMax(Kernels k, boolean f64) {
        double max = f64 ? Double.MAX_VALUE : Float.MAX_VALUE;
        double[] temps = f64 ? new double[] {Double.MAX_VALUE, 1e300, 1e10, 3} : new double[] {Float.MAX_VALUE, 1e38, 1e10, 3};
        SplittableRandom rnd = new SplittableRandom(JavaTestSupport.SEED);
        // the two-entry row, and its known answer
        for (boolean exact : new boolean[] {false, true}) {
            Matrix x = row(new double[] {max, -max}, f64, null);
            Matrix y = zeros(1, 2, f64, null);
            k.softmax(x, y, new SoftmaxOptions(max, null, null, false, exact));
            close(1 / (1 + Math.exp(-2)), get(y, 0, 0), 1e-5, k.name() + " {MAX, -MAX} at T = MAX [0]");
            close(1 / (1 + Math.exp(2)), get(y, 0, 1), 1e-5, k.name() + " {MAX, -MAX} at T = MAX [1]");
        }
        Matrix x2 = row(new double[] {max, -max}, f64, null);
        Matrix y2 = zeros(1, 2, f64, null);
        k.softmax(x2, y2, SoftmaxOptions.LOG.withTemperature(1e10));
        double want2 = -2 * (max / 1e10); // -6.8e28 (float), -3.6e298 (double)
        close(want2, get(y2, 0, 1), -1e-5 * want2, k.name() + " log-softmax {MAX, -MAX} at T = 1e10");

        for (int n : new int[] {2, 3, 17, 40, 100}) {
            double[] z = new double[n];
            for (int j = 0; j < n; j++) {
                z[j] = round(f64, max * (2 * rnd.nextDouble() - 1));
            }
            z[0] = max;
            z[n - 1] = -max;
            byte[] keep = new byte[n];
            java.util.Arrays.fill(keep, (byte) 1);
            if (n > 2) {
                keep[1] = 0;
            }
            for (double temp : temps) {
                for (int variant = 0; variant < 4; variant++) {
                    boolean log = variant == 1;
                    boolean exact = variant == 2;
                    boolean masked = variant == 3;
                    double[] zr = z.clone();
                    if (masked && n > 2) {
                        zr[1] = Double.NEGATIVE_INFINITY;
                    }
                    double tr = round(f64, temp);
                    double[] want = Reference.softmaxT(zr, tr, log);
                    double[] wantLog = Reference.softmaxT(zr, tr, true);
                    Matrix x = row(z, f64, null);
                    Matrix y = zeros(1, n, f64, null);
                    k.softmax(x, y, new SoftmaxOptions(temp, masked ? Matrix.of(keep) : null, null, log, exact));
                    // the kernels multiply by s = 1/T rounded to the type (a subnormal float for T > 2^126)
                    double s = round(f64, 1 / tr);
                    double relS = Math.abs(s * tr - 1);
                    double unit = 16 * eps(f64) + 4 * relS;
                    for (int j = 0; j < n; j++) {
                        String what = k.name() + " n=" + n + " T=" + temp + " variant=" + variant + " [" + j + "] seed="
                                + JavaTestSupport.SEED;
                        double floor = f64 ? Double.MIN_NORMAL : Float.MIN_NORMAL; // the error of t moves exp by |t| eps
                        double tol = log ? unit * (1 + Math.abs(want[j]))
                                : want[j] == 0 ? floor : unit * (1 + Math.abs(wantLog[j])) * want[j] + floor;
                        close(want[j], get(y, 0, j), tol, what);
                    }
                }
            }
        }
    }

    // ---- (b) subnormal probabilities --------------------------------------------------------------------

    /**
     * softmax([0, −95]) in float is 5.5e-42 (exp(−720) ~ 1.5e-313 in double): gradual underflow, not 0, at every
     * position of rows long enough for the vector loops, through the plain, EXACT and temperature paths and the
     * cross-entropy gradient.
     */
    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void subnormalProbabilitiesAreNotFlushed(Kernels k, boolean f64) {
        double far = f64 ? -720 : -95;
        double tiny = f64 ? Double.MIN_VALUE : Float.MIN_VALUE;
        for (int n : new int[] {2, 16, 17, 32, 33, 64, 100, 1000}) {
            for (int pos : new int[] {1, n / 2, n - 1}) {
                if (pos < 1) {
                    continue;
                }
                double[] z = new double[n];
                java.util.Arrays.fill(z, -1e4);
                z[0] = 0;
                z[pos] = far;
                double want = Reference.softmax(z, 1, false)[pos];
                String what = k.name() + " n=" + n + " at " + pos;
                for (int path = 0; path < 4; path++) {
                    Matrix x = row(path == 2 ? scaled(z, 2) : z, f64, null);
                    Matrix y = zeros(1, n, f64, null);
                    if (path == 3) {
                        Matrix loss = zeros(1, 1, f64, null);
                        k.crossEntropy(x, Matrix.of(new long[] {0}), y, loss, CrossEntropyOptions.DEFAULT.withReduction(Reduction.SUM));
                    } else {
                        k.softmax(x, y, path == 1 ? SoftmaxOptions.DEFAULT.withExact(true)
                                : path == 2 ? SoftmaxOptions.DEFAULT.withTemperature(2) : SoftmaxOptions.DEFAULT);
                    }
                    double got = get(y, 0, pos);
                    assertTrue(got > 0, what + " path " + path + ": flushed to " + got + ", want " + want);
                    close(want, got, 2 * tiny, what + " path " + path);
                }
            }
        }
    }

    static double[] scaled(double[] z, double c) {
        double[] r = z.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] *= c;
        }
        return r;
    }

    // ---- (c) the Jacobian in IEEE arithmetic -----------------------------------------------------------

    /** J_ij = p_i (δ_ij − p_j) in the element type's arithmetic: p = {inf, 0, 0} gives J_00 = −inf, as native. */
    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void jacobianIsTheIeeeProductInTheElementType(Kernels k, boolean f64) {
        SplittableRandom rnd = new SplittableRandom(JavaTestSupport.SEED + 1);
        double inf = Double.POSITIVE_INFINITY;
        double[] wide = new double[20];
        wide[0] = inf;
        wide[17] = inf;
        double[] random = new double[37];
        for (int j = 0; j < random.length; j++) {
            random[j] = round(f64, rnd.nextDouble() * (rnd.nextInt(4) == 0 ? 1e-30 : 1));
        }
        for (double[] p : new double[][] {{inf, 0, 0}, {0, inf, 0}, wide, random, {0.25, 0.75}, {1}}) {
            int n = p.length;
            for (boolean log : new boolean[] {false, true}) {
                Matrix jac = zeros(n, n, f64, null);
                k.jacobian(row(p, f64, null), jac, new JacobianOptions(log, false));
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        double want;
                        if (f64) {
                            double d = (i == j ? 1.0 : 0.0) - p[j];
                            want = log ? d : p[i] * d;
                        } else {
                            float d = (i == j ? 1f : 0f) - (float) p[j];
                            want = log ? d : (float) p[i] * d;
                        }
                        same(want, get(jac, i, j), k.name() + " n=" + n + " log=" + log + " J[" + i + "," + j + "]");
                    }
                }
            }
        }
        Matrix jac = zeros(3, 3, f64, null);
        k.jacobian(row(new double[] {inf, 0, 0}, f64, null), jac, JacobianOptions.DEFAULT);
        assertEquals(Double.NEGATIVE_INFINITY, get(jac, 0, 0), k.name() + " J00 at p = {inf, 0, 0}");
    }

    // ---- (d) cross-entropy rows with +inf logits ----------------------------------------------------------

    /**
     * A row whose label logit is +inf is the limit as its k +inf logits grow together: label among them gives
     * log k (0 for k = 1), outside them +inf; soft targets Σ_{j at inf} t_j log k, +inf if mass lies off them;
     * gradient p Σu − u with p = 1/k there; with weights u = w t'. NaN anywhere still gives NaN.
     */
    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void crossEntropyRowsWithInfiniteLogitsAreTheLimit(Kernels k, boolean f64) {
        double inf = Double.POSITIVE_INFINITY;
        double[][] z = {{inf, 1, 2}, {inf, inf, 3}, {inf, 1, inf}, {inf, inf, inf}, {inf, Double.NaN, 2}, {inf, -inf, 0}};
        long[] labels = {0, 1, 1, 2, 0, 0};
        double[][] t = {{1, 0, 0}, {0.25, 0, 0.75}, {0.5, 0, 0.5}, {0.2, 0.3, 0.5}, {1, 0, 0}, {0.5, 0.5, 0}};
        double[] weight = {2, 0.5, 1};
        // the known answers, without weights or smoothing
        double[] wantLabels = {0, Math.log(2), inf, Math.log(3), Double.NaN, 0};
        double[] wantSoft = {0, inf, Math.log(2), Math.log(3), Double.NaN, inf};
        for (boolean soft : new boolean[] {false, true}) {
            for (double smoothing : new double[] {0, 0.25}) {
                for (double[] w : new double[][] {null, weight}) {
                    for (Reduction red : Reduction.values()) {
                        double ls = round(f64, smoothing);
                        Matrix x = matrix(z, f64, null);
                        Matrix g = zeros(z.length, 3, f64, null);
                        Matrix loss = zeros(1, red == Reduction.NONE ? z.length : 1, f64, null);
                        Matrix targets = soft ? matrix(t, f64, null) : Matrix.of(labels);
                        CrossEntropyOptions o = new CrossEntropyOptions(red, -100, smoothing, w == null ? null : row(w, f64, null));
                        k.crossEntropy(x, targets, g, loss, o);
                        Reference.CrossEntropy want = Reference.crossEntropy(z, soft ? null : labels, soft ? t : null, w, ls, -100, red);
                        String what = k.name() + " soft=" + soft + " s=" + smoothing + " weights=" + (w != null) + " " + red;
                        for (int i = 0; i < want.loss().length; i++) {
                            close(want.loss()[i], get(loss, 0, i), 64 * eps(f64) * (1 + Math.abs(want.loss()[i])), what + " loss " + i);
                        }
                        if (red == Reduction.NONE && smoothing == 0 && w == null) {
                            for (int r = 0; r < z.length; r++) {
                                close((soft ? wantSoft : wantLabels)[r], get(loss, 0, r), 1e-6, what + " known loss " + r);
                            }
                        }
                        for (int r = 0; r < z.length; r++) {
                            for (int j = 0; j < 3; j++) {
                                close(want.grad()[r][j], get(g, r, j), 16 * eps(f64), what + " grad [" + r + "," + j + "]");
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- (e) the Jacobian product without scratch -------------------------------------------------------

    /**
     * jacobianMatmul over 2^20 + 3 columns of off-heap memory allocates nothing on the heap (it took k doubles of
     * scratch, an OOM with a small heap where native works) and computes every column, the last ones included.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void jacobianMatmulNeedsNoScratch(Kernels k) {
        int n = 3;
        long cols = (1L << 20) + 3;
        double[] p = {0.5, 0.25, 0.25};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment vs = arena.allocate(n * cols * 4, 8);
            for (long i = 0; i < n * cols; i++) {
                vs.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) ((i * 7919) % 13 - 6));
            }
            Matrix pv = row(p, false, arena);
            Matrix v = Matrix.of(DType.F32, vs, 0, n, cols, cols);
            Matrix out = Matrix.of(DType.F32, arena.allocate(n * cols * 4, 8), 0, n, cols, cols);
            for (boolean log : new boolean[] {false, true}) {
                JacobianOptions o = JacobianOptions.DEFAULT.withLog(log);
                k.jacobianMatmul(pv, v.rows(0, n), out, o); // warm: class loading, first-call allocations
                long before = JavaTestSupport.allocatedBytes();
                k.jacobianMatmul(pv, v, out, o);
                long allocated = JavaTestSupport.allocatedBytes() - before;
                assertTrue(allocated < 64 * 1024, k.name() + " log=" + log + ": allocated " + allocated + " bytes");
                for (long c : new long[] {0, 1, 5, cols - 4, cols - 3, cols - 2, cols - 1}) {
                    double w = 0;
                    for (int i = 0; i < n; i++) {
                        w += p[i] * get(v, i, c);
                    }
                    for (int i = 0; i < n; i++) {
                        double want = log ? get(v, i, c) - w : p[i] * get(v, i, c) - p[i] * w;
                        close(want, get(out, i, c), 1e-6 * (1 + Math.abs(want)), k.name() + " log=" + log + " out[" + i + "," + c + "]");
                    }
                }
            }
        }
    }

    // ---- (g) labels read once, checked at their use -----------------------------------------------------

    /**
     * A label out of range where a row uses it (changed by another thread after the facade's check) gives that
     * row NaN loss and NaN gradient and never indexes outside the row: the other rows are untouched by it.
     */
    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void labelOutOfRangeAtItsUseGivesANaNRow(Kernels k, boolean f64) {
        SplittableRandom rnd = new SplittableRandom(JavaTestSupport.SEED + 2);
        int n = 5;
        double[][] z = new double[4][n];
        for (double[] r : z) {
            for (int j = 0; j < n; j++) {
                r[j] = round(f64, gauss(rnd));
            }
        }
        long[] labels = {1, n, -5, 2};
        double[] weight = {1, 2, 0.5, 1, 3};
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment labelSeg = arena.allocate(8L * labels.length, 8);
            MemorySegment.copy(labels, 0, labelSeg, ValueLayout.JAVA_LONG, 0, labels.length);
            for (Matrix lv : new Matrix[] {Matrix.of(labels), Matrix.of(DType.I64, labelSeg)}) {
                for (double[] w : new double[][] {null, weight}) {
                    for (Reduction red : Reduction.values()) {
                        Matrix g = zeros(4, n, f64, null);
                        Matrix loss = zeros(1, red == Reduction.NONE ? 4 : 1, f64, null);
                        k.crossEntropy(matrix(z, f64, null), lv, g, loss,
                                new CrossEntropyOptions(red, -100, 0, w == null ? null : row(w, f64, null)));
                        String what = k.name() + " weights=" + (w != null) + " " + red;
                        assertNaNRow(g, 1, what + " grad");
                        assertNaNRow(g, 2, what + " grad");
                        if (red != Reduction.NONE) {
                            assertTrue(Double.isNaN(get(loss, 0, 0)), what + " reduced loss " + get(loss, 0, 0));
                            for (int r : new int[] {0, 3}) {
                                for (int j = 0; j < n; j++) {
                                    assertTrue(Double.isFinite(get(g, r, j)), what + " grad [" + r + "," + j + "] of a good row");
                                }
                            }
                            continue;
                        }
                        assertTrue(Double.isNaN(get(loss, 0, 1)) && Double.isNaN(get(loss, 0, 2)), what + " NaN losses");
                        for (int r : new int[] {0, 3}) {
                            double[] u = Reference.labelTarget(n, labels[r], 0);
                            for (int j = 0; j < n; j++) {
                                u[j] *= w == null ? 1 : w[j];
                            }
                            double[] wantGrad = new double[n];
                            double wantLoss = Reference.crossEntropyRow(z[r], u, wantGrad);
                            close(wantLoss, get(loss, 0, r), 64 * eps(f64) * (1 + wantLoss), what + " loss " + r);
                            double[] got = rowOf(g, r);
                            for (int j = 0; j < n; j++) {
                                close(wantGrad[j], got[j], 16 * eps(f64), what + " grad [" + r + "," + j + "]");
                            }
                        }
                    }
                }
            }
        }
    }
}
