package org.panmax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Determinism across backends: every backend (each native ISA, the Java Vector API one) draws the same token as the
 * pure-Java reference for thousands of (row, options, seed, step), and agrees with it on argmax, top-k indices and
 * (within tolerance) on scores and heads.
 */
class InferenceAgreementTest {

    static List<String> others() {
        List<String> l = new ArrayList<>(InferReference.backends());
        l.remove("java-scalar");
        return l;
    }

    static SampleOptions randomOptions(SplittableRandom rnd, int n) {
        double[] temps = {0, 0.05, 0.7, 1, 1.7};
        double[] topPs = {1, 1, 0.95, 0.6, 0.1};
        double[] minPs = {0, 0, 0.05, 0.6, 1};
        long[] topKs = {0, 0, 1, 3, 40, n, n + 3};
        SampleOptions o = SampleOptions.DEFAULT.withTemperature(temps[rnd.nextInt(temps.length)])
                .withTopP(topPs[rnd.nextInt(topPs.length)]).withMinP(minPs[rnd.nextInt(minPs.length)])
                .withSeed(rnd.nextLong()).withStep(rnd.nextLong());
        long k = topKs[rnd.nextInt(topKs.length)];
        return k == 0 ? o : o.withTopK(k);
    }

    @ParameterizedTest
    @MethodSource("others")
    void sameTokenAsTheJavaReference(String backend) {
        Panmax pm = Panmax.backend(backend), ref = InferReference.java();
        SplittableRandom rnd = new SplittableRandom(20240614);
        int[] sizes = {1, 2, 7, 64, 1000, 4097, 32000};
        int draws = 0;
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (int n : sizes) {
                for (int fam = 0; fam < InferReference.FAMILIES; fam++) {
                    int configs = n >= 4097 ? 2 : 6;
                    for (int c = 0; c < configs; c++) {
                        final int rows = 24;
                        double[][] x = new double[rows][];
                        double[] base = InferReference.row(rnd, n, fam, t == DType.F32);
                        for (int r = 0; r < rows; r++) {
                            x[r] = base;
                        }
                        Matrix logits = InferReference.matrix(t, x, 3);
                        SampleOptions o = randomOptions(rnd, n);
                        long[] seeds = new long[rows], steps = new long[rows];
                        for (int r = 0; r < rows; r++) {
                            seeds[r] = rnd.nextLong();
                            steps[r] = rnd.nextBoolean() ? r : rnd.nextLong();
                        }
                        o = o.withRowDraws(Matrix.of(seeds), Matrix.of(steps));
                        if (rnd.nextInt(3) == 0) {
                            long[] h = new long[rows * 6];
                            for (int i = 0; i < h.length; i++) {
                                h[i] = rnd.nextInt(4) == 0 ? -1 : rnd.nextInt(n);
                            }
                            o = o.withPenalties(Matrix.of(h, 0, rows, 6, 6), 0.5 + 1.5 * rnd.nextDouble(),
                                    rnd.nextDouble(), 0.5 * rnd.nextDouble());
                        }
                        if (rnd.nextInt(3) == 0) {
                            double[] b = new double[n];
                            for (int j = 0; j < n; j++) {
                                b[j] = rnd.nextInt(5) == 0 ? Double.NEGATIVE_INFINITY : 2 * rnd.nextDouble() - 1;
                            }
                            o = o.withBias(InferReference.matrix(t, new double[][] {b}, 0).broadcast(rows));
                        }
                        if (rnd.nextInt(3) == 0) {
                            byte[] m = new byte[rows * n];
                            for (int i = 0; i < m.length; i++) {
                                m[i] = (byte) (rnd.nextInt(4) != 0 ? 1 : 0);
                            }
                            for (int r = 0; r < rows; r++) {
                                m[r * n + rnd.nextInt(n)] = 1;
                            }
                            o = o.withMask(Matrix.of(m, rows, n));
                        }
                        int topN = rnd.nextInt(3) == 0 ? 1 + rnd.nextInt(Math.min(n, 5)) : 0;
                        SampleOutputs a = outputs(t, rows, topN), b = outputs(t, rows, topN);
                        pm.sample(logits, a, o);
                        ref.sample(logits, b, o);
                        final int family = fam;
                        final SampleOptions used = o;
                        for (int r = 0; r < rows; r++) {
                            long ta = InferReference.getLong(a.tokens(), 0, r), tb = InferReference.getLong(b.tokens(), 0, r);
                            final int row = r;
                            assertEquals(tb, ta, () -> backend + " " + t + " n " + n + " family " + family + " row " + row
                                    + " " + used);
                            draws++;
                            for (int s = 0; s < SampleOutputs.SCORES; s++) {
                                double va = InferReference.get(a.scores(), r, s), vb = InferReference.get(b.scores(), r, s);
                                double tol = (t == DType.F32 ? 1e-5 : 1e-12) * (1 + Math.abs(vb)) + (s == 1 || s == 3 ? 0 : 1e-30);
                                assertTrue(Double.compare(va, vb) == 0 || Math.abs(va - vb) <= tol,
                                        backend + " score " + s + ": " + va + " vs " + vb);
                            }
                            for (int i = 0; i < topN; i++) {
                                assertEquals(InferReference.getLong(b.topIndices(), r, i),
                                        InferReference.getLong(a.topIndices(), r, i));
                            }
                        }
                    }
                }
            }
        }
        System.out.println(backend + ": " + draws + " tokens equal to java-scalar's");
        assertTrue(draws > 5000);
    }

    private static SampleOutputs outputs(DType t, int rows, int topN) {
        SampleOutputs o = SampleOutputs.of(Matrix.of(new long[rows])).withScores(InferReference.zeros(t, rows, 4));
        return topN == 0 ? o : o.withTop(Matrix.of(new long[rows * topN], 0, rows, topN, topN),
                InferReference.zeros(t, rows, topN));
    }

    @ParameterizedTest
    @MethodSource("others")
    void argmaxAndTopKAgree(String backend) {
        Panmax pm = Panmax.backend(backend), ref = InferReference.java();
        SplittableRandom rnd = new SplittableRandom(5);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (int n : new int[] {1, 3, 16, 17, 1000, 32000}) {
                for (int fam = 0; fam < InferReference.FAMILIES; fam++) {
                    double[][] x = {InferReference.row(rnd, n, fam, t == DType.F32),
                                    InferReference.row(rnd, n, fam, t == DType.F32)};
                    Matrix m = InferReference.matrix(t, x, 1);
                    long[] a = new long[2], b = new long[2];
                    pm.argmax(m, Matrix.of(a));
                    ref.argmax(m, Matrix.of(b));
                    assertEquals(b[0], a[0]);
                    assertEquals(b[1], a[1]);
                    int k = Math.min(n, 1 + rnd.nextInt(50));
                    for (TopKOptions.Values v : TopKOptions.Values.values()) {
                        Matrix ia = Matrix.of(new long[2 * k], 0, 2, k, k), ib = Matrix.of(new long[2 * k], 0, 2, k, k);
                        Matrix va = InferReference.zeros(t, 2, k), vb = InferReference.zeros(t, 2, k);
                        pm.topK(m, ia, va, new TopKOptions(k, v));
                        ref.topK(m, ib, vb, new TopKOptions(k, v));
                        for (int r = 0; r < 2; r++) {
                            for (int i = 0; i < k; i++) {
                                assertEquals(InferReference.getLong(ib, r, i), InferReference.getLong(ia, r, i));
                                double ga = InferReference.get(va, r, i), gb = InferReference.get(vb, r, i);
                                double tol = (t == DType.F32 ? 2e-6 : 1e-13) * (1 + Math.abs(gb));
                                assertTrue(Double.compare(ga, gb) == 0 || Math.abs(ga - gb) <= tol, v + ": " + ga + " vs " + gb);
                            }
                        }
                    }
                }
            }
        }
    }
}
