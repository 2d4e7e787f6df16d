package org.panmax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every backend (each native ISA present, Java Vector API, Java scalar) against {@link Reference}, on
 * fresh random inputs and the hard families, in float and double, heap and native, strided batches,
 * in place. The seed is fresh per run (printed; -Dpanmax.seed=N replays one).
 */
class KernelsAgreementTest {
    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());
    static final String[] FAMILIES = {"normal1", "normal10", "offset", "huge", "edge", "neginf", "allneginf", "nan",
        "posinf", "equal"};
    static final int[] SIZES = sizes();

    static int[] sizes() {
        List<Integer> s = new ArrayList<>();
        for (int n = 1; n <= 64; n++) {
            s.add(n);
        }
        for (int n : new int[] {127, 128, 129, 255, 256, 257, 1000, 1001, 4095, 4096, 4097, 32000, 100000}) {
            s.add(n);
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    @BeforeAll
    static void announce() {
        System.out.println("[panmax] backends under test: " + Panmax.backends() + "; " + Panmax.nativeStatus()
                + "; seed " + SEED + " (-Dpanmax.seed=" + SEED + " to replay)");
        if (!Panmax.nativeStatus().contains("avx512")) {
            System.out.println("[panmax] native-avx512 not tested: this CPU (or build) has no AVX-512F");
        }
    }

    static Stream<Arguments> backendsAndTypes() {
        return Panmax.backends().stream().flatMap(b -> Stream.of(Arguments.of(b, false), Arguments.of(b, true)));
    }

    static double[] family(String f, int n, SplittableRandom r, boolean f64) {
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            double g = gauss(r);
            z[i] = switch (f) {
                case "normal1" -> g;
                case "normal10" -> 10 * g;
                case "offset" -> (r.nextBoolean() ? 1e4 : -1e4) + 3 * g;
                case "huge" -> (r.nextBoolean() ? 1 : -1) * (f64 ? 1e300 : 1e30) * r.nextDouble();
                case "edge" -> new double[] {80, -80, 88.7, -88.7, 0, 700, -700}[r.nextInt(f64 ? 7 : 5)];
                case "neginf" -> r.nextInt(3) == 0 ? Double.NEGATIVE_INFINITY : g;
                case "allneginf" -> Double.NEGATIVE_INFINITY;
                case "nan" -> g;
                case "posinf" -> r.nextInt(4) == 0 ? Double.POSITIVE_INFINITY : g;
                case "equal" -> 3.25;
                default -> throw new IllegalArgumentException(f);
            };
        }
        if (f.equals("nan")) {
            z[r.nextInt(n)] = Double.NaN;
        }
        if (!f64) {
            for (int i = 0; i < n; i++) {
                z[i] = (float) z[i];
            }
        }
        return z;
    }

    static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /** A rows x cols buffer (stride cols + pad) as a segment: native or heap, f32 or f64. */
    static MemorySegment matrix(Arena arena, boolean nativeSeg, boolean f64, double[][] rows, int stride) {
        int n = rows.length * stride;
        MemorySegment s = nativeSeg ? arena.allocate((long) n * (f64 ? 8 : 4), 8)
                : (f64 ? MemorySegment.ofArray(new double[n]) : MemorySegment.ofArray(new float[n]));
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < rows[r].length; j++) {
                put(s, f64, (long) r * stride + j, rows[r][j]);
            }
        }
        return s;
    }

    static void put(MemorySegment s, boolean f64, long i, double v) {
        if (f64) {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        } else {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        }
    }

    static double get(MemorySegment s, boolean f64, long i) {
        return f64 ? s.getAtIndex(ValueLayout.JAVA_DOUBLE, i) : s.getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    static void close(String what, double got, double want, double tol) {
        if (Double.isNaN(want)) {
            assertTrue(Double.isNaN(got), () -> what + ": want NaN, got " + got);
            return;
        }
        if (Double.isInfinite(want)) {
            assertEquals(want, got, 0, what);
            return;
        }
        if (!(Math.abs(got - want) <= tol)) {
            fail(what + ": got " + got + " want " + want + " (error " + Math.abs(got - want) + " > tolerance " + tol + ")");
        }
    }

    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void forwardFamilies(String backend, boolean f64) {
        Panmax pm = Panmax.backend(backend);
        DType t = f64 ? DType.F64 : DType.F32;
        SplittableRandom rnd = new SplittableRandom(SEED ^ backend.hashCode() ^ (f64 ? 1 : 0));
        int k = 0;
        for (int n : SIZES) {
            for (String fam : FAMILIES) {
                if (n > 4097 && !(fam.equals("normal1") || fam.equals("nan") || fam.equals("offset"))) {
                    continue; // the big sizes check accumulation; the special families are size-independent
                }
                k++;
                boolean nativeSeg = (k & 1) == 0;
                boolean inPlace = (k % 3) == 0;
                int stride = n + (k % 4);
                double[][] rows = {family("normal1", n, rnd, f64), family(fam, n, rnd, f64), family("normal10", n, rnd, f64)};
                String ctx = backend + " " + t + " n=" + n + " family=" + fam + (nativeSeg ? " native" : " heap")
                        + (inPlace ? " in-place" : "") + " seed=" + SEED;
                try (Arena arena = Arena.ofConfined()) {
                    for (int op = 0; op < 3; op++) {
                        MemorySegment x = matrix(arena, nativeSeg, f64, rows, stride);
                        MemorySegment y = inPlace && op != 2 ? x : matrix(arena, nativeSeg, f64, new double[3][0], stride);
                        Matrix xv = Matrix.of(t, x, 0, 3, n, stride);
                        if (op == 0) {
                            pm.softmax(xv, Matrix.of(t, y, 0, 3, n, stride));
                        } else if (op == 1) {
                            pm.logSoftmax(xv, inPlace ? xv : Matrix.of(t, y, 0, 3, n, stride));
                        } else {
                            pm.logSumExp(xv, Matrix.of(t, y, 0, 1, 3, 3));
                        }
                        for (int r = 0; r < 3; r++) {
                            double[] z = rows[r];
                            if (op == 2) {
                                double want = Reference.logSumExp(z);
                                close(ctx + " logsumexp row " + r, get(y, f64, r), want,
                                        Tolerances.cancelling(f64, Math.abs(want), n));
                                continue;
                            }
                            double[] want = Reference.softmax(z, 1, op == 1);
                            double m = Double.NEGATIVE_INFINITY;
                            for (double v : z) {
                                m = Math.max(m, v);
                            }
                            double logSum = op == 1 ? Math.log(Math.max(1, n)) : 0;
                            for (int j = 0; j < n; j++) {
                                double g = get(y, f64, (long) r * stride + j);
                                double tt = Double.isFinite(m) && Double.isFinite(z[j]) ? z[j] - m : 0;
                                double tol = op == 0
                                        ? Math.max(Tolerances.softmax(f64, tt, n) * Math.abs(want[j]), Tolerances.floor(f64))
                                        : Tolerances.cancelling(f64, Math.abs(tt) + logSum, n);
                                close(ctx + (op == 0 ? " softmax" : " log_softmax") + " [" + r + "," + j + "]", g,
                                        want[j], tol);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void temperatureMaskBiasAndExact(String backend, boolean f64) {
        Panmax pm = Panmax.backend(backend);
        DType t = f64 ? DType.F64 : DType.F32;
        SplittableRandom rnd = new SplittableRandom(SEED + 7 + backend.hashCode());
        for (int n : new int[] {1, 2, 7, 8, 9, 31, 33, 100, 1000, 1001}) {
            for (double temp : new double[] {1, 0.25, 3.5}) {
                for (int variant = 0; variant < 4; variant++) {
                    int rows = 3;
                    double[][] xs = {family("normal10", n, rnd, f64), family("neginf", n, rnd, f64), family("normal1", n, rnd, f64)};
                    byte[] mask = new byte[n * rows];
                    double[][] bias = new double[rows][n];
                    for (int i = 0; i < mask.length; i++) {
                        mask[i] = (byte) (rnd.nextInt(4) == 0 ? 0 : 1);
                    }
                    if (variant == 3) {
                        java.util.Arrays.fill(mask, n, 2 * n, (byte) 0); // a fully masked row
                    }
                    for (double[] b : bias) {
                        for (int j = 0; j < n; j++) {
                            b[j] = rnd.nextInt(5) == 0 ? Double.NEGATIVE_INFINITY : (f64 ? gauss(rnd) : (float) gauss(rnd));
                        }
                    }
                    boolean useMask = variant >= 2;
                    boolean useBias = variant == 1 || variant == 2;
                    boolean log = rnd.nextBoolean();
                    boolean exact = rnd.nextBoolean();
                    String flags = (log ? "LOG" : "") + (exact ? "EXACT" : "");
                    try (Arena arena = Arena.ofConfined()) {
                        MemorySegment x = matrix(arena, true, f64, xs, n);
                        MemorySegment y = matrix(arena, false, f64, new double[rows][0], n);
                        Matrix m = useMask ? Matrix.of(mask, rows, n) : null;
                        Matrix b = useBias ? Matrix.of(t, matrix(arena, true, f64, bias, n), rows, n) : null;
                        double tt = f64 ? temp : (float) temp;
                        pm.softmax(Matrix.of(t, x, rows, n), Matrix.of(t, y, rows, n),
                                new SoftmaxOptions(tt, m, b, log, exact));
                        for (int r = 0; r < rows; r++) {
                            double[] z = new double[n];
                            for (int j = 0; j < n; j++) {
                                boolean keep = !useMask || mask[r * n + j] != 0;
                                double v = xs[r][j] + (useBias ? bias[r][j] : 0);
                                z[j] = keep ? (f64 ? v : (float) v) : Double.NEGATIVE_INFINITY;
                            }
                            double scale = f64 ? 1 / tt : (float) (1 / (float) tt);
                            double[] want = Reference.softmax(z, scale, log);
                            double zm = Double.NEGATIVE_INFINITY;
                            for (double v : z) {
                                zm = Math.max(zm, v);
                            }
                            for (int j = 0; j < n; j++) {
                                double tj = Double.isFinite(z[j]) && Double.isFinite(zm) ? (z[j] - zm) * scale : 0;
                                double tol = log ? Tolerances.cancelling(f64, Math.abs(tj) + Math.log(n), n)
                                        : Math.max(Tolerances.floor(f64), Math.abs(want[j]) * (exact && !f64 && temp == 1
                                                ? Tolerances.EXACT_F32 * 1.0001 : 1.5 * Tolerances.softmax(f64, Math.abs(tj) + 2, n)));
                                close(backend + " " + t + " n=" + n + " T=" + temp + " variant=" + variant + " flags=" + flags
                                        + " [" + r + "," + j + "] seed=" + SEED, get(y, f64, (long) r * n + j), want[j], tol);
                            }
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void backwardJacobiansAndCrossEntropy(String backend, boolean f64) {
        Panmax pm = Panmax.backend(backend);
        DType t = f64 ? DType.F64 : DType.F32;
        SplittableRandom rnd = new SplittableRandom(SEED + 13 + backend.hashCode());
        for (int n : new int[] {1, 2, 3, 8, 9, 17, 64, 100, 257, 1000}) {
            int rows = 2;
            double[][] z = {family("normal1", n, rnd, f64), family("normal10", n, rnd, f64)};
            double[][] p = new double[rows][];
            double[][] lp = new double[rows][];
            double[][] dy = new double[rows][n];
            for (int r = 0; r < rows; r++) {
                p[r] = round(Reference.softmax(z[r], 1, false), f64);
                lp[r] = round(Reference.softmax(z[r], 1, true), f64);
                for (int j = 0; j < n; j++) {
                    dy[r][j] = f64 ? gauss(rnd) : (float) gauss(rnd);
                }
            }
            String ctx = backend + " " + t + " n=" + n + " seed=" + SEED;
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment ps = matrix(arena, true, f64, p, n);
                MemorySegment ls = matrix(arena, false, f64, lp, n);
                MemorySegment ds = matrix(arena, true, f64, dy, n);
                MemorySegment out = matrix(arena, true, f64, new double[rows][0], n);
                Matrix pv = Matrix.of(t, ps, rows, n);
                Matrix lv = Matrix.of(t, ls, rows, n);
                Matrix dv = Matrix.of(t, ds, rows, n);
                Matrix ov = Matrix.of(t, out, rows, n);
                for (int op = 0; op < 3; op++) {
                    switch (op) {
                        case 0 -> pm.softmaxBackward(pv, dv, ov);
                        case 1 -> pm.logSoftmaxBackward(lv, dv, ov);
                        default -> pm.logSoftmaxJvp(lv, dv, ov);
                    }
                    for (int r = 0; r < rows; r++) {
                        double[] want = switch (op) {
                            case 0 -> Reference.softmaxBackward(p[r], dy[r]);
                            case 1 -> Reference.logSoftmaxBackward(lp[r], dy[r]);
                            default -> Reference.logSoftmaxJvp(lp[r], dy[r]);
                        };
                        double mag = 0;
                        for (double v : dy[r]) {
                            mag = Math.max(mag, Math.abs(v));
                        }
                        for (int j = 0; j < n; j++) {
                            close(ctx + " backward op " + op + " [" + r + "," + j + "]", get(out, f64, (long) r * n + j), want[j],
                                    Tolerances.cancelling(f64, mag * (op == 1 ? n : 1), n));
                        }
                    }
                }
                if (n <= 257) {
                    for (JacobianOptions flags : new JacobianOptions[] {JacobianOptions.DEFAULT, new JacobianOptions(true, false),
                        new JacobianOptions(false, true), new JacobianOptions(true, true)}) {
                        MemorySegment jac = arena.allocate((long) rows * n * n * (f64 ? 8 : 4), 8);
                        MemorySegment in = flags.fromLogits() ? matrix(arena, true, f64, z, n) : ps;
                        pm.jacobian(Matrix.of(t, in, rows, n), Matrix.of(t, jac, (long) rows * n, n), flags);
                        for (int r = 0; r < rows; r++) {
                            double[] want = Reference.jacobian(flags.fromLogits()
                                    ? Reference.softmax(z[r], 1, false) : p[r], flags.log());
                            for (int e = 0; e < n * n; e++) {
                                close(ctx + " jacobian flags=" + flags + " [" + r + "][" + e + "]",
                                        get(jac, f64, (long) r * n * n + e), want[e], Tolerances.cancelling(f64, 1, n));
                            }
                        }
                    }
                    int kk = 5;
                    double[][] v = new double[n][kk];
                    for (double[] row : v) {
                        for (int c = 0; c < kk; c++) {
                            row[c] = f64 ? gauss(rnd) : (float) gauss(rnd);
                        }
                    }
                    for (JacobianOptions flags : new JacobianOptions[] {JacobianOptions.DEFAULT, new JacobianOptions(true, false)}) {
                        MemorySegment vs = matrix(arena, true, f64, v, kk + 1);
                        MemorySegment os = matrix(arena, true, f64, new double[n][0], kk);
                        pm.jacobianMatmul(pv.row(0), Matrix.of(t, vs, 0, n, kk, kk + 1), Matrix.of(t, os, n, kk), flags);
                        double[] jfull = Reference.jacobian(p[0], flags.log());
                        for (int a = 0; a < n; a++) {
                            for (int c = 0; c < kk; c++) {
                                double[] terms = new double[n];
                                for (int b = 0; b < n; b++) {
                                    terms[b] = jfull[a * n + b] * v[b][c];
                                }
                                close(ctx + " jacobianMatmul flags=" + flags + " [" + a + "," + c + "]",
                                        get(os, f64, (long) a * kk + c), Reference.sum(terms), Tolerances.cancelling(f64, 4, n));
                            }
                        }
                    }
                }
                // cross-entropy: labels (with an ignored row) and soft targets, all reductions, smoothing
                for (Reduction red : Reduction.values()) {
                    for (double smoothing : new double[] {0, 0.1}) {
                        long[] labels = {rnd.nextInt(n), -100};
                        MemorySegment xs = matrix(arena, true, f64, z, n);
                        MemorySegment grad = matrix(arena, true, f64, new double[rows][0], n);
                        MemorySegment loss = arena.allocate(16, 8);
                        Matrix xv = Matrix.of(t, xs, rows, n);
                        Matrix gv = Matrix.of(t, grad, rows, n);
                        Matrix lossv = Matrix.of(t, loss, 1, red == Reduction.NONE ? rows : 1);
                        CrossEntropyOptions ce = new CrossEntropyOptions(red, -100, f64 ? smoothing : (float) smoothing, null);
                        pm.crossEntropy(xv, Matrix.of(labels), gv, lossv, ce);
                        double[] g0 = new double[n];
                        double l0 = Reference.crossEntropyRow(z[0], Reference.labelTarget(n, labels[0],
                                f64 ? smoothing : (float) smoothing), g0);
                        double wantLoss = red == Reduction.NONE ? l0 : l0; // one counted row: sum == mean
                        close(ctx + " CE loss " + red, get(loss, f64, 0), wantLoss, Tolerances.cancelling(f64, Math.abs(l0) + 10, n));
                        if (red == Reduction.NONE) {
                            assertEquals(0.0, get(loss, f64, 1), 0, ctx + " ignored row loss");
                        }
                        for (int j = 0; j < n; j++) {
                            close(ctx + " CE grad " + red + " [0," + j + "]", get(grad, f64, j), g0[j], Tolerances.cancelling(f64, 1, n));
                            assertEquals(0.0, get(grad, f64, n + j), 0, ctx + " ignored row grad");
                        }
                        // soft targets
                        double[][] tg = {Reference.softmax(family("normal1", n, rnd, f64), 1, false), new double[n]};
                        tg[0] = round(tg[0], f64);
                        tg[1][rnd.nextInt(n)] = 1;
                        MemorySegment ts = matrix(arena, false, f64, tg, n);
                        pm.crossEntropy(xv, Matrix.of(t, ts, rows, n), gv, lossv, ce);
                        double total = 0;
                        for (int r = 0; r < rows; r++) {
                            double[] tr = new double[n];
                            double s = f64 ? smoothing : (float) smoothing;
                            for (int j = 0; j < n; j++) {
                                tr[j] = (1 - s) * tg[r][j] + s / n;
                            }
                            double[] g = new double[n];
                            double l = Reference.crossEntropyRow(z[r], tr, g);
                            total += l;
                            if (red == Reduction.NONE) {
                                close(ctx + " soft CE loss row " + r, get(loss, f64, r), l, Tolerances.cancelling(f64, Math.abs(l) + 10, n));
                            }
                            double gs = red == Reduction.MEAN ? 1.0 / rows : 1;
                            for (int j = 0; j < n; j++) {
                                close(ctx + " soft CE grad " + red + " [" + r + "," + j + "]", get(grad, f64, (long) r * n + j),
                                        g[j] * gs, Tolerances.cancelling(f64, 1, n));
                            }
                        }
                        if (red != Reduction.NONE) {
                            double want = red == Reduction.SUM ? total : total / rows;
                            close(ctx + " soft CE reduced " + red, get(loss, f64, 0), want,
                                    Tolerances.cancelling(f64, Math.abs(total) + 10, n));
                        }
                    }
                }
            }
        }
    }

    static double[] round(double[] v, boolean f64) {
        if (!f64) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) v[i];
            }
        }
        return v;
    }
}
