package org.panmax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Sampling against the brute-force float64 reference ({@link InferReference#filtered}: full sort, Math.exp, float64
 * cumulative sums): every filter combination on small rows, the edge cases of the issue (ties, T -> 0, p = 1,
 * min_p = 0, k >= n, k = 1, one allowed token), and the statistics of seeded draws. Fixed seeds everywhere, so a
 * verdict cannot change between runs.
 */
class SamplingReferenceTest {

    static java.util.List<String> backends() {
        return InferReference.backends();
    }

    /** Tokens of N rows of the same logits drawn at equally spaced uniforms (i + 1/2) / N. */
    static long[] quadrature(Panmax pm, DType t, double[] x, SampleOptions o, int N) {
        double[][] rows = new double[N][];
        java.util.Arrays.fill(rows, x);
        double[] u = new double[N];
        for (int i = 0; i < N; i++) {
            u[i] = (i + 0.5) / N;
        }
        long[] tokens = new long[N];
        pm.sample(InferReference.matrix(t, rows, 0), Matrix.of(tokens), o.withUniforms(Matrix.of(u)));
        return tokens;
    }

    static long[] counts(long[] tokens, int n) {
        long[] c = new long[n];
        for (long tk : tokens) {
            assertTrue(tk >= 0 && tk < n, "token " + tk + " of " + n);
            c[(int) tk]++;
        }
        return c;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void everyFilterCombinationMatchesTheReference(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom rnd = new SplittableRandom(42);
        final int N = 4000;
        int cases = 0;
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (int n : new int[] {1, 2, 5, 12, 33}) {
                double[] x = InferReference.row(rnd, n, 0, t == DType.F32);
                for (double temp : new double[] {0.5, 1, 2}) {
                    for (long k : new long[] {0, 1, 3, n, n + 2}) {
                        for (double p : new double[] {1, 0.9, 0.5}) {
                            for (double minP : new double[] {0, 0.1}) {
                                SampleOptions o = SampleOptions.DEFAULT.withTemperature(temp).withTopP(p).withMinP(minP);
                                o = k == 0 ? o : o.withTopK(k);
                                double[] ref = InferReference.filtered(x, o);
                                long[] c = counts(quadrature(pm, t, x, o, N), n);
                                for (int j = 0; j < n; j++) {
                                    // the draw is monotone in u, so each token's count is N p within 1 (+ the
                                    // rule's quantisation and polynomial exp, far below 1e-4 of N here)
                                    final int jj = j;
                                    final SampleOptions oo = o;
                                    assertTrue(Math.abs(c[j] - N * ref[j]) <= 1.5, () -> backend + " " + t + " n " + n
                                            + " " + oo + ": token " + jj + " drawn " + c[jj] + ", expected " + N * ref[jj]);
                                }
                                cases++;
                            }
                        }
                    }
                }
            }
        }
        assertEquals(2 * 5 * 3 * 5 * 3 * 2, cases);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void edgeCases(String backend) {
        Panmax pm = Panmax.backend(backend);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            double[] ties = {1, 3, 3, 3, 0, 3};
            // ties: top-k 2 keeps the two lowest indices among the equal best, with equal mass
            long[] c = counts(quadrature(pm, t, ties, SampleOptions.DEFAULT.withTopK(2), 1000), 6);
            assertEquals(500, c[1]);
            assertEquals(500, c[2]);
            // greedy and k = 1: the first of the equal best; T -> 0: the limit of softmax, equal shares of them
            for (SampleOptions o : new SampleOptions[] {SampleOptions.GREEDY, SampleOptions.DEFAULT.withTopK(1)}) {
                c = counts(quadrature(pm, t, ties, o, 100), 6);
                assertEquals(100, c[1], o::toString);
            }
            c = counts(quadrature(pm, t, ties, SampleOptions.DEFAULT.withTemperature(1e-4), 100), 6);
            assertArrayEquals(new long[] {0, 25, 25, 25, 0, 25}, c);
            c = counts(quadrature(pm, t, new double[] {1, 3, 2.999, 0}, SampleOptions.DEFAULT.withTemperature(1e-4), 100), 4);
            assertEquals(100, c[1]);
            double[] x = {0.5, -1, 2, 0.25, 1.5};
            // p = 1, min_p = 0, k >= n: no filter, the full softmax
            double[] full = InferReference.filtered(x, SampleOptions.DEFAULT);
            for (SampleOptions o : new SampleOptions[] {SampleOptions.DEFAULT.withTopP(1), SampleOptions.DEFAULT.withMinP(0),
                    SampleOptions.DEFAULT.withTopK(5), SampleOptions.DEFAULT.withTopK(500)}) {
                c = counts(quadrature(pm, t, x, o, 10000), 5);
                for (int j = 0; j < 5; j++) {
                    assertTrue(Math.abs(c[j] - 10000 * full[j]) <= 1.5, o + ": " + c[j] + " vs " + 10000 * full[j]);
                }
            }
            // one allowed token: always that one
            byte[] mask = {0, 0, 0, 1, 0};
            c = counts(quadrature(pm, t, x, SampleOptions.DEFAULT.withMask(Matrix.of(mask).broadcast(200)), 200), 5);
            assertEquals(200, c[3]);
            // min_p = 1 keeps only the best; top-p tiny keeps only the best
            for (SampleOptions o : new SampleOptions[] {SampleOptions.DEFAULT.withMinP(1), SampleOptions.DEFAULT.withTopP(1e-9)}) {
                c = counts(quadrature(pm, t, x, o, 100), 5);
                assertEquals(100, c[2], o::toString);
            }
            // penalties: the repeated best token loses its place under a strong repetition penalty
            long[] hist = {2, 2, -1};
            c = counts(quadrature(pm, t, x, SampleOptions.GREEDY.withPenalties(Matrix.of(hist).broadcast(50), 10, 0, 0), 50), 5);
            assertEquals(50, c[4]);
            // a bias of -inf bans; no finite logit left is no token
            long[] tokens = new long[1];
            double[] allBanned = {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY};
            pm.sample(InferReference.matrix(t, new double[][] {allBanned}, 0), Matrix.of(tokens), SampleOptions.DEFAULT);
            assertEquals(SampleOutputs.NO_TOKEN, tokens[0]);
        }
    }

    /** Chi-square of Philox draws (fixed seed) against the float64 filtered softmax, at significance 1e-4. */
    @ParameterizedTest
    @MethodSource("backends")
    void seededDrawsFollowTheFilteredSoftmax(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom rnd = new SplittableRandom(99);
        final int N = 50_000, n = 20;
        double[] x = new double[n];
        for (int j = 0; j < n; j++) {
            x[j] = (float) (1.5 * InferReference.gauss(rnd));
        }
        SampleOptions[] configs = {SampleOptions.DEFAULT.withTemperature(0.8),
            SampleOptions.DEFAULT.withTopK(8).withTopP(0.9).withMinP(0.02),
            SampleOptions.DEFAULT.withTopP(0.7).withTemperature(1.3), SampleOptions.DEFAULT.withMinP(0.1)};
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            for (SampleOptions o : configs) {
                double[][] rows = new double[N][];
                java.util.Arrays.fill(rows, x);
                long[] steps = new long[N], tokens = new long[N];
                for (int i = 0; i < N; i++) {
                    steps[i] = i;
                }
                pm.sample(InferReference.matrix(t, rows, 0), Matrix.of(tokens),
                        o.withSeed(0x5eed).withRowDraws(null, Matrix.of(steps)));
                long[] c = counts(tokens, n);
                double[] ref = InferReference.filtered(x, o);
                double chi2 = 0;
                int df = -1;
                for (int j = 0; j < n; j++) {
                    if (ref[j] == 0) {
                        assertEquals(0, c[j], o + ": token " + j + " is filtered out but was drawn");
                        continue;
                    }
                    double e = N * ref[j];
                    chi2 += (c[j] - e) * (c[j] - e) / e;
                    df++;
                }
                double crit = InferReference.chiSquareCritical(df);
                assertTrue(chi2 <= crit, backend + " " + t + " " + o + ": chi-square " + chi2 + " > " + crit + " (df " + df + ")");
            }
        }
    }
}
