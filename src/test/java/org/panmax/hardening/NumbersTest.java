package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.panmax.Panmax;
import org.panmax.Reduction;

/**
 * For finite logits anywhere in the float range (random exponents from subnormal to Float.MAX_VALUE,
 * both signs, and the extremes themselves), every output the rules call finite is finite: probabilities
 * in [0, 1] summing to 1, log-probabilities <= 0 (never NaN or +inf), a finite logsumexp, finite
 * backward passes and cross-entropy gradients. On every backend.
 */
class NumbersTest {
    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());

    static Stream<String> backends() {
        return Panmax.backends().stream();
    }

    static float anyFloat(SplittableRandom r) {
        switch (r.nextInt(12)) {
            case 0: return Float.MAX_VALUE;
            case 1: return -Float.MAX_VALUE;
            case 2: return Float.MIN_VALUE;
            case 3: return 0f;
            default: {
                int exp = r.nextInt(-149, 128);
                float v = (float) (Math.scalb(1 + r.nextDouble(), exp));
                if (Float.isInfinite(v)) {
                    v = Float.MAX_VALUE;
                }
                return r.nextBoolean() ? v : -v;
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void finiteLogitsGiveFiniteOutputs(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom r = new SplittableRandom(SEED ^ backend.hashCode());
        int rows = 0;
        for (int round = 0; round < 300; round++) {
            int n = 1 + r.nextInt(r.nextBoolean() ? 8 : 300);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = anyFloat(r);
            }
            String ctx = backend + " n=" + n + " round=" + round + " seed=" + SEED;
            float[] p = new float[n];
            pm.softmax(x, p);
            double sum = 0;
            for (float v : p) {
                assertTrue(v >= 0 && v <= 1, ctx + " p out of [0,1]: " + v);
                sum += v;
            }
            assertTrue(Math.abs(sum - 1) < 1e-5, ctx + " sum " + sum);
            float[] lp = new float[n];
            pm.logSoftmax(x, lp);
            for (float v : lp) {
                assertTrue(v <= 0 && !Float.isNaN(v), ctx + " log p " + v);
            }
            float[] lse = new float[1];
            pm.logSumExp(x, 0, n, lse, 0, 1, n);
            assertTrue(Float.isFinite(lse[0]), ctx + " logsumexp " + lse[0]);
            float[] dy = new float[n];
            for (int i = 0; i < n; i++) {
                dy[i] = (float) r.nextGaussian();
            }
            float[] dx = new float[n];
            pm.softmaxBackward(p, dy, dx);
            for (float v : dx) {
                assertTrue(Float.isFinite(v), ctx + " VJP " + v);
            }
            float[] grad = new float[n];
            float[] loss = new float[1];
            pm.crossEntropy(x, 1, n, new long[] {r.nextInt(n)}, grad, loss, Reduction.NONE, -100, 0f);
            for (float v : grad) {
                assertTrue(Float.isFinite(v) && Math.abs(v) <= 1, ctx + " CE grad " + v);
            }
            assertTrue(!Float.isNaN(loss[0]) && loss[0] >= 0, ctx + " CE loss " + loss[0]);
            rows++;
        }
        assertTrue(rows == 300);
    }
}
