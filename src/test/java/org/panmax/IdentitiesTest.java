package org.panmax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The identities of the math, on every backend (double precision, so the bounds are tight), and every
 * analytic derivative against central finite differences through {@link GradCheck}.
 */
class IdentitiesTest {
    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());

    static Stream<String> backends() {
        return Panmax.backends().stream();
    }

    static double[] logits(SplittableRandom r, int n, double scale) {
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            z[i] = scale * (r.nextDouble() * 2 - 1);
        }
        return z;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void softmaxIdentities(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom r = new SplittableRandom(SEED ^ backend.hashCode());
        for (int n : new int[] {1, 2, 3, 5, 16, 33, 100}) {
            String ctx = backend + " n=" + n + " seed=" + SEED;
            double[] z = logits(r, n, 5);
            double[] p = new double[n];
            pm.softmax(z, p);
            double sum = 0;
            for (double v : p) {
                sum += v;
                assertTrue(v > 0 && v <= 1, ctx + " p in (0, 1]");
            }
            assertEquals(1.0, sum, 1e-13, ctx + " sum p = 1");

            double[] lp = new double[n];
            pm.logSoftmax(z, lp);
            for (int i = 0; i < n; i++) {
                assertEquals(p[i], Math.exp(lp[i]), 1e-14 * Math.max(1, n), ctx + " exp(log_softmax) = softmax");
            }

            double[] jac = new double[n * n];
            pm.jacobian(Matrix.of(p), Matrix.of(jac, n, n), JacobianOptions.DEFAULT);
            double[] v = logits(r, n, 1);
            double quad = 0;
            for (int i = 0; i < n; i++) {
                double rowSum = 0;
                for (int j = 0; j < n; j++) {
                    rowSum += jac[i * n + j];
                    assertEquals(jac[i * n + j], jac[j * n + i], 1e-16, ctx + " J symmetric");
                    quad += v[i] * jac[i * n + j] * v[j];
                }
                assertEquals(0.0, rowSum, 1e-15 * n, ctx + " J 1 = 0");
            }
            assertTrue(quad >= -1e-14, ctx + " J positive semi-definite: v^T J v = " + quad);

            // Cross-entropy gradient = J^T (-t / p) the long way (t one-hot at y: -1/p_y on y).
            int y = r.nextInt(n);
            double[] grad = new double[n];
            double[] loss = new double[1];
            pm.crossEntropy(Matrix.of(z), Matrix.of(new long[] {y}), Matrix.of(grad), Matrix.of(loss),
                    CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE));
            assertEquals(Math.log(Stream.of(z).flatMapToDouble(java.util.Arrays::stream).map(Math::exp).sum()) - z[y],
                    loss[0], 1e-12, ctx + " loss = logsumexp - z_y");
            for (int j = 0; j < n; j++) {
                double longWay = jac[y * n + j] * (-1 / p[y]);
                assertEquals(longWay, grad[j], 1e-12, ctx + " dCE/dz = J^T(-t/p)");
            }
        }
        // Two classes: softmax is the logistic sigmoid of the difference.
        for (int k = 0; k < 50; k++) {
            double a = r.nextDouble() * 40 - 20;
            double b = r.nextDouble() * 40 - 20;
            double[] p = new double[2];
            pm.softmax(new double[] {a, b}, p);
            assertEquals(1 / (1 + Math.exp(-(a - b))), p[0], 1e-15, backend + " sigmoid(" + a + " - " + b + ")");
        }
    }

    /**
     * Passes, and by a margin: GradCheck's allowance is rtol 1e-4 of the gradient's scale (plus the difference's
     * rounding); a tenth of it keeps this test as tight as its former bound (relative error 1e-5).
     */
    static boolean tight(GradCheck.Result r) {
        return r.passes() && r.maxError() <= 0.1;
    }

    @ParameterizedTest
    @MethodSource("backends")
    void everyDerivativePassesTheFiniteDifferenceCheck(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom r = new SplittableRandom(SEED + 1 + backend.hashCode());
        for (int n : new int[] {1, 2, 7, 40}) {
            double[] z = logits(r, n, 3);
            double[] v = logits(r, n, 1);
            String ctx = backend + " n=" + n + " seed=" + SEED + ": ";
            GradCheck.Result a = GradCheck.softmaxBackward(pm, z, v);
            GradCheck.Result b = GradCheck.logSoftmaxBackward(pm, z, v);
            GradCheck.Result c = GradCheck.crossEntropy(pm, z, r.nextInt(n), 0.1);
            if (n == 1) {
                // One class: softmax and log-softmax are constant, their gradient exactly 0 (as the difference).
                for (GradCheck.Result res : List.of(a, b)) {
                    assertTrue(res.passes(), ctx + "n = 1: " + res);
                }
                // Not c: one-class cross-entropy is lse - z0 = 0 up to the rounding of two O(|z0|) terms, and GradCheck's
                // noise bound scales with |f| (~0 here), not with those terms, so it calls the right gradient (0)
                // wrong. Its value is checked instead.
                for (GradCheck.Result res : List.of(a, b, c)) {
                    assertEquals(0.0, res.analytic(), 0.0, ctx + "n = 1 gradient");
                }
            } else {
                assertTrue(tight(a), ctx + "softmax VJP " + a);
                assertTrue(tight(b), ctx + "log-softmax VJP " + b);
                assertTrue(tight(c), ctx + "cross-entropy " + c);
            }
            // log-softmax JVP: J v = d/de log_softmax(z + e v) at e = 0, against a central difference
            double[] lp = new double[n];
            pm.logSoftmax(z, lp);
            double[] jvp = new double[n];
            pm.logSoftmaxJvp(Matrix.of(lp), Matrix.of(v), Matrix.of(jvp));
            double h = 1e-5;
            double[] up = new double[n];
            double[] dn = new double[n];
            double[] zp = z.clone();
            double[] zm = z.clone();
            for (int i = 0; i < n; i++) {
                zp[i] += h * v[i];
                zm[i] -= h * v[i];
            }
            pm.logSoftmax(zp, up);
            pm.logSoftmax(zm, dn);
            for (int i = 0; i < n; i++) {
                assertEquals((up[i] - dn[i]) / (2 * h), jvp[i], 1e-7, ctx + "log-softmax JVP [" + i + "]");
            }
        }
        // A wrong gradient must fail the check (the check itself can fail).
        double[] z = {0.5, -1, 2};
        double[] wrong = {0.1, 0.1, 0.1};
        assertTrue(!GradCheck.check(x -> x[0] * x[0] + x[1] + Math.exp(x[2]), z, wrong).passes());
        // (GradCheckTest covers wrong gradients of every scale.)
    }
}
