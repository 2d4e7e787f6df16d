package org.panmax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The inference operations through the facade on every backend: bad input rejected with a message naming the argument
 * and the rule and nothing written; top-k against a full sort; heads against a float64 product and softmax (sizes that
 * are not multiples of any vector width, B = 1, K = 1, d = 1), their top-k equal to the reference's sorted top-k.
 */
class InferenceFacadeTest {

    static java.util.List<String> backends() {
        return InferReference.backends();
    }

    private static void rejects(String fragment, Executable call) {
        Throwable e = assertThrows(RuntimeException.class, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(fragment),
                "expected a message naming '" + fragment + "', got: " + e);
    }

    @Test
    void optionRecordsRejectValuesOutOfTheirDomains() {
        SampleOptions d = SampleOptions.DEFAULT;
        for (double t : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
            rejects("temperature", () -> d.withTemperature(t));
        }
        rejects("topK", () -> d.withTopK(0));
        rejects("topK", () -> d.withTopK(-3));
        for (double p : new double[] {0, -0.5, 1.5, Double.NaN}) {
            rejects("topP", () -> d.withTopP(p));
        }
        for (double p : new double[] {-0.1, 1.01, Double.NaN}) {
            rejects("minP", () -> d.withMinP(p));
        }
        for (double r : new double[] {0, -1, Double.POSITIVE_INFINITY, Double.NaN}) {
            rejects("repetitionPenalty", () -> d.withPenalties(null, r, 0, 0));
        }
        rejects("presencePenalty", () -> d.withPenalties(null, 1, -1, 0));
        rejects("frequencyPenalty", () -> d.withPenalties(null, 1, 0, Double.NaN));
        SampleOptions both = d.withRowDraws(Matrix.of(new long[1]), null).withUniforms(Matrix.of(new double[1]));
        assertTrue(both.seeds() == null && both.steps() == null, "uniforms replace seeds and steps");
        rejects("k must be >= 1", () -> TopKOptions.of(0));
        rejects("temperature", () -> HeadOptions.DEFAULT.withTemperature(0));
        rejects("at least one output", () -> new HeadOutputs(null, null, null, null));
        rejects("topValues needs topIndices", () -> new HeadOutputs(Matrix.of(new float[1]), null, null, Matrix.of(new float[1])));
        rejects("topLogprobs needs topIndices", () -> new SampleOutputs(Matrix.of(new long[1]), null, null, Matrix.of(new float[1])));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void badSampleInputIsRejectedBeforeAnyWork(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8};
        Matrix logits = Matrix.of(x, 2, 4);
        long[] tok = {-7, -7};
        Matrix tokens = Matrix.of(tok);
        SampleOptions o = SampleOptions.DEFAULT;
        rejects("temperature", () -> pm.sample(logits, tokens, o.withTemperature(1e-40)));
        rejects("tokens", () -> pm.sample(logits, Matrix.of(new long[3]), o));
        rejects("tokens", () -> pm.sample(logits, Matrix.of(new float[2]), o));
        rejects("logits", () -> pm.sample(Matrix.of(new long[8], 0, 2, 4, 4), tokens, o));
        rejects("scores", () -> pm.sample(logits, SampleOutputs.of(tokens).withScores(Matrix.of(new float[6], 2, 3)), o));
        rejects("scores", () -> pm.sample(logits, SampleOutputs.of(tokens).withScores(Matrix.of(new double[8], 2, 4)), o));
        rejects("topIndices", () -> pm.sample(logits, SampleOutputs.of(tokens).withTop(Matrix.of(new long[10], 0, 2, 5, 5), null), o));
        rejects("topLogprobs", () -> pm.sample(logits, SampleOutputs.of(tokens).withTop(Matrix.of(new long[4], 0, 2, 2, 2),
                Matrix.of(new float[6], 2, 3)), o));
        rejects("history[0][1] = 4", () -> pm.sample(logits, tokens, o.withPenalties(Matrix.of(new long[] {0, 4}).broadcast(2), 1.2, 0, 0)));
        rejects("history[1][0] = -2", () -> pm.sample(logits, tokens, o.withPenalties(Matrix.of(new long[] {0, -2}, 0, 2, 1, 1), 1.2, 0, 0)));
        rejects("history", () -> pm.sample(logits, tokens, o.withPenalties(Matrix.of(new long[] {0, 1, 2}, 0, 3, 1, 1), 1.2, 0, 0)));
        rejects("mask: row 1 bans every token", () -> pm.sample(logits, tokens, o.withMask(Matrix.of(new byte[] {1, 0, 0, 0, 0, 0, 0, 0}, 2, 4))));
        rejects("mask", () -> pm.sample(logits, tokens, o.withMask(Matrix.of(new byte[4], 1, 4))));
        rejects("bias", () -> pm.sample(logits, tokens, o.withBias(Matrix.of(new double[8], 2, 4))));
        rejects("bias", () -> pm.sample(logits, tokens, o.withBias(Matrix.of(new float[6], 2, 3))));
        rejects("uniforms[1] = 1.0", () -> pm.sample(logits, tokens, o.withUniforms(Matrix.of(new double[] {0.5, 1.0}))));
        rejects("uniforms[0] = NaN", () -> pm.sample(logits, tokens, o.withUniforms(Matrix.of(new double[] {Double.NaN, 0}))));
        rejects("seeds", () -> pm.sample(logits, tokens, o.withRowDraws(Matrix.of(new long[3]), null)));
        rejects("steps", () -> pm.sample(logits, tokens, o.withRowDraws(null, Matrix.of(new double[2]))));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment shared = arena.allocate(64, 8);
            Matrix lg = Matrix.of(DType.F32, shared, 0, 2, 4, 4);
            Matrix tk = Matrix.of(DType.I64, shared, 1, 2, 1, 1);
            rejects("overlaps", () -> pm.sample(lg, tk, o));
        }
        assertArrayEquals(new long[] {-7, -7}, tok, "a rejected call wrote its tokens");
        pm.sample(logits, tokens, SampleOptions.GREEDY);
        assertArrayEquals(new long[] {3, 3}, tok);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void badTopKAndHeadInputIsRejected(String backend) {
        Panmax pm = Panmax.backend(backend);
        Matrix x = Matrix.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        long[] idx = new long[4];
        Arrays.fill(idx, -9);
        rejects("k = 4 must be <= x's cols", () -> pm.topK(x, Matrix.of(idx, 0, 1, 4, 4), null, TopKOptions.of(4)));
        rejects("indices", () -> pm.topK(x, Matrix.of(idx, 0, 2, 1, 1), null, TopKOptions.of(2)));
        rejects("values", () -> pm.topK(x, Matrix.of(idx, 0, 2, 2, 2), Matrix.of(new double[4], 2, 2), TopKOptions.of(2)));
        rejects("out", () -> pm.argmax(x, Matrix.of(new long[3])));
        Matrix w = Matrix.of(new float[12], 4, 3);
        rejects("w: must be 4 x 3 (K x d", () -> pm.head(x, Matrix.of(new float[8], 4, 2), HeadOutputs.probabilities(Matrix.of(new float[8], 2, 4)), HeadOptions.DEFAULT));
        rejects("w: must be 3 x 3 (d x K, d being x's cols (options: transposed)", () -> pm.head(x, w, HeadOutputs.probabilities(Matrix.of(new float[8], 2, 4)), HeadOptions.DEFAULT.withTransposed(true)));
        rejects("probabilities", () -> pm.head(x, w, HeadOutputs.probabilities(Matrix.of(new float[6], 2, 3)), HeadOptions.DEFAULT));
        rejects("topIndices: k = 5", () -> pm.head(x, w, HeadOutputs.top(Matrix.of(new long[10], 0, 2, 5, 5), null), HeadOptions.DEFAULT));
        rejects("bias", () -> pm.head(x, w, HeadOutputs.top(Matrix.of(idx, 0, 2, 2, 2), null), HeadOptions.DEFAULT.withBias(Matrix.of(new float[3]))));
        rejects("temperature", () -> pm.head(x, w, HeadOutputs.top(Matrix.of(idx, 0, 2, 2, 2), null), HeadOptions.DEFAULT.withTemperature(1e-300)));
        float[] big = new float[16];
        Matrix xb = Matrix.of(big, 0, 2, 3, 3), lb = Matrix.of(big, 4, 2, 4, 4);
        rejects("logits overlaps x", () -> pm.head(xb, w, new HeadOutputs(lb, null, null, null), HeadOptions.DEFAULT));
        long[] expect = new long[4];
        Arrays.fill(expect, -9);
        assertArrayEquals(expect, idx, "a rejected call wrote");
    }

    @ParameterizedTest
    @MethodSource("backends")
    void topKMatchesAFullSort(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom rnd = new SplittableRandom(3);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (int n : new int[] {1, 2, 5, 31, 1000, 4099}) {
                for (int fam = 0; fam < InferReference.FAMILIES; fam++) {
                    double[] row = InferReference.row(rnd, n, fam, t == DType.F32);
                    Matrix m = InferReference.matrix(t, new double[][] {row}, 2);
                    int k = Math.min(n, 1 + rnd.nextInt(9));
                    long[] ii = new long[k];
                    Matrix vals = InferReference.zeros(t, 1, k);
                    pm.topK(m, Matrix.of(ii), vals, TopKOptions.of(k));
                    boolean nan = Arrays.stream(row).anyMatch(Double::isNaN);
                    if (nan) {
                        for (int i = 0; i < k; i++) {
                            assertEquals(-1, ii[i]);
                            assertTrue(Double.isNaN(InferReference.get(vals, 0, i)));
                        }
                        continue;
                    }
                    Integer[] order = InferReference.rank(row);
                    double[] p = InferReference.filtered(row, SampleOptions.DEFAULT);
                    for (int i = 0; i < k; i++) {
                        assertEquals((long) order[i], ii[i], backend + " " + t + " n " + n + " family " + fam + " rank " + i);
                        double v = InferReference.get(vals, 0, i), want = p == null ? 0 : p[order[i]];
                        double tol = (t == DType.F32 ? 4e-6 : 1e-12) * want + 1e-300;
                        assertTrue(Math.abs(v - want) <= tol || (Double.isFinite(row[order[i]]) && Math.abs(row[order[i]]) > 1e29
                                && Math.abs(v - want) <= 1e-5 * want), backend + " p " + v + " vs " + want);
                    }
                }
            }
        }
    }

    record Shape(int b, int d, int k) {}

    @ParameterizedTest
    @MethodSource("backends")
    void headsMatchAFloat64Reference(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom rnd = new SplittableRandom(17);
        Shape[] shapes = {new Shape(1, 1, 1), new Shape(1, 7, 5), new Shape(3, 1, 17), new Shape(3, 13, 1000),
            new Shape(2, 9, 1025), new Shape(65, 20, 300), new Shape(4, 3, 1), new Shape(1, 33, 2050)};
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (Shape s : shapes) {
                for (int variant = 0; variant < 8; variant++) {
                    boolean trans = (variant & 1) != 0, log = (variant & 2) != 0, exact = (variant & 4) != 0;
                    int B = s.b(), d = s.d(), K = s.k(), k = Math.min(K, 4);
                    double[][] xr = new double[B][d];
                    double[][] wr = trans ? new double[d][K] : new double[K][d];
                    double[] bias = new double[K];
                    for (double[] r : xr) {
                        for (int i = 0; i < d; i++) {
                            r[i] = exact ? rnd.nextInt(7) - 3 : InferReference.gauss(rnd);
                        }
                    }
                    for (double[] r : wr) {
                        for (int i = 0; i < r.length; i++) {
                            r[i] = exact ? rnd.nextInt(5) - 2 : InferReference.gauss(rnd) / Math.sqrt(d);
                        }
                    }
                    for (int c = 0; c < K; c++) {
                        bias[c] = exact ? rnd.nextInt(3) - 1 : InferReference.gauss(rnd);
                    }
                    double temp = rnd.nextBoolean() ? 1 : 0.7;
                    Matrix x = InferReference.matrix(t, xr, 1), w = InferReference.matrix(t, wr, 2);
                    Matrix b = InferReference.matrix(t, new double[][] {bias}, 0);
                    Matrix lg = InferReference.zeros(t, B, K), pr = InferReference.zeros(t, B, K), tv = InferReference.zeros(t, B, k);
                    Matrix ti = Matrix.of(new long[B * k], 0, B, k, k);
                    HeadOptions o = HeadOptions.DEFAULT.withTemperature(temp).withBias(b).withTransposed(trans).withLog(log);
                    pm.head(x, w, new HeadOutputs(lg, pr, ti, tv), o);
                    Matrix ti2 = Matrix.of(new long[B * k], 0, B, k, k), tv2 = InferReference.zeros(t, B, k);
                    pm.head(x, w, HeadOutputs.top(ti2, tv2), o);
                    double eps = t == DType.F32 ? 0x1p-23 : 0x1p-52;
                    for (int r = 0; r < B; r++) {
                        double[] z = new double[K];
                        double zabs = 0;
                        for (int c = 0; c < K; c++) {
                            double acc = 0, aabs = 0;
                            for (int i = 0; i < d; i++) {
                                double pz = InferReference.get(x, r, i) * (trans ? InferReference.get(w, i, c) : InferReference.get(w, c, i));
                                acc += pz;
                                aabs += Math.abs(pz);
                            }
                            z[c] = acc + InferReference.get(b, 0, c);
                            zabs = Math.max(zabs, aabs);
                        }
                        double zerr = (d + 2) * eps * zabs + 4 * eps * 3;
                        double m = Arrays.stream(z).max().orElseThrow(), sum = 0;
                        for (double v : z) {
                            sum += Math.exp((v - m) / temp);
                        }
                        for (int c = 0; c < K; c++) {
                            assertTrue(Math.abs(InferReference.get(lg, r, c) - z[c]) <= zerr, "logit");
                            double lp = (z[c] - m) / temp - Math.log(sum);
                            double got = InferReference.get(pr, r, c);
                            // below the smallest normal number the native kernels may flush to 0
                            double tol = log ? 2 * zerr / temp + 8 * eps * (1 + Math.abs(lp))
                                             : Math.exp(lp) * (2 * zerr / temp + 8 * eps * (1 + Math.abs(lp)))
                                               + (t == DType.F32 ? Float.MIN_NORMAL : Double.MIN_NORMAL);
                            assertTrue(Math.abs(got - (log ? lp : Math.exp(lp))) <= tol,
                                    backend + " " + t + " " + s + " prob " + got + " vs " + (log ? lp : Math.exp(lp)));
                        }
                        Integer[] order = InferReference.rank(exact ? z : rowOf(lg, r, K));
                        for (int i = 0; i < k; i++) {
                            assertEquals((long) order[i], InferReference.getLong(ti, r, i), backend + " " + s + " exact " + exact + " top " + i);
                            assertEquals(InferReference.getLong(ti, r, i), InferReference.getLong(ti2, r, i), "top-k-only call");
                            assertEquals(Double.doubleToLongBits(InferReference.get(tv, r, i)),
                                    Double.doubleToLongBits(InferReference.get(tv2, r, i)), "top-k-only values");
                        }
                    }
                }
            }
        }
    }

    private static double[] rowOf(Matrix m, int r, int n) {
        double[] out = new double[n];
        for (int j = 0; j < n; j++) {
            out[j] = InferReference.get(m, r, j);
        }
        return out;
    }

    @Test
    void blasRunsSingleThreadedInsideTheJvm() {
        org.junit.jupiter.api.Assumptions.assumeTrue(org.panmax.internal.NativeBackends.status().loaded());
        assertEquals(1, Panmax.blasThreads());
        Panmax.setBlasThreads(1);
        rejects("threads", () -> Panmax.setBlasThreads(0));
    }
}
