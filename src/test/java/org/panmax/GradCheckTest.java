package org.panmax;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (5) of the hardening issue: GradCheck is the check users run when a backward pass looks wrong, so it must fail a
 * wrong gradient of any scale, say so when finite differences cannot decide (and then not pass), reject an explicit
 * step too small to decide anything, and pass the right gradients of panmax's own operations on every backend.
 */
class GradCheckTest {
    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());

    static Stream<String> backends() {
        return Panmax.backends().stream();
    }

    @Test
    void anExplicitStepTooSmallToDecideIsRejected() {
        ToDoubleFunction<double[]> f = z -> z[0] * z[0];
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GradCheck.check(f, new double[] {1.5}, new double[] {3}, 1e-300));
        assertTrue(e.getMessage().contains("step 1.0E-300 does not change x[0] = 1.5"), e.getMessage());
        // a step that moves x but leaves the difference to rounding: rejected too (f = 1e20 + z0^2 near 0)
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                () -> GradCheck.check(z -> 1e20 + z[0] * z[0], new double[] {0.5}, new double[] {3}, 1e-10));
        assertTrue(e2.getMessage().contains("is too small for component 0"), e2.getMessage());
        // the automatic step decides it
        assertTrue(GradCheck.check(f, new double[] {1.5}, new double[] {3}).passes());
    }

    @Test
    void aWrongGradientOfAHugeFunctionDoesNotPass() {
        // f = 1e20 + z0: its rounding (ulp 16384) swamps any difference of a small step; the true gradient is +1.
        ToDoubleFunction<double[]> f = z -> 1e20 + z[0];
        GradCheck.Result wrong = GradCheck.check(f, new double[] {0.5}, new double[] {-1});
        assertFalse(wrong.passes(), "gradient -1 of 1e20 + z0 passed: " + wrong);
        GradCheck.Result right = GradCheck.check(f, new double[] {0.5}, new double[] {1});
        assertTrue(right.passes() || right.inconclusive() != null, "a right gradient called wrong: " + right);
    }

    @Test
    void aTinyGradientWithTheWrongSignFails() {
        ToDoubleFunction<double[]> f = z -> 1e-12 * z[0];
        GradCheck.Result wrong = GradCheck.check(f, new double[] {0.3}, new double[] {-1e-12});
        assertFalse(wrong.passes(), "a sign-flipped gradient of size 1e-12 passed: " + wrong);
        assertTrue(wrong.inconclusive() == null, "f = 1e-12 z0 is decidable: " + wrong);
        assertTrue(GradCheck.check(f, new double[] {0.3}, new double[] {1e-12}).passes());
    }

    @Test
    void wrongGradientsFailAndRightOnesPassAtEveryScale() {
        SplittableRandom r = new SplittableRandom(SEED);
        for (int e = -300; e <= 300; e += 25) {
            double s = Math.pow(10, e);
            ToDoubleFunction<double[]> f = z -> s * (z[0] * z[0] + Math.sin(z[1]) - 0.5 * z[2] * z[1]);
            double[] x = {r.nextDouble() * 4 - 2, r.nextDouble() * 4 - 2, r.nextDouble() * 4 - 2};
            double[] g = {s * 2 * x[0], s * (Math.cos(x[1]) - 0.5 * x[2]), s * (-0.5 * x[1])};
            String ctx = "scale 1e" + e + " x=" + java.util.Arrays.toString(x) + " seed=" + SEED + ": ";
            GradCheck.Result right = GradCheck.check(f, x, g);
            assertTrue(right.passes(), ctx + "right gradient " + right);
            // Wrong by at least 1 % of the gradient's scale (GradCheck's atol is rtol 1e-4 of it, as PyTorch pairs a
            // relative and an absolute tolerance: a smaller error in a much smaller component may pass, rightly).
            double big = Math.max(Math.abs(g[0]), Math.max(Math.abs(g[1]), Math.abs(g[2])));
            int top = Math.abs(g[0]) == big ? 0 : Math.abs(g[1]) == big ? 1 : 2;
            for (int variant = 0; variant < 4; variant++) {
                double[] w = g.clone();
                int i = r.nextInt(3);
                switch (variant) {
                    case 0 -> w[top] = -w[top];         // sign flipped
                    case 1 -> w[i] += 0.01 * big;       // 1 % of the scale off
                    case 2 -> w[i] -= 0.05 * big;       // 5 % off the other way
                    default -> w[top] *= 10;            // an order of magnitude
                }
                GradCheck.Result bad = GradCheck.check(f, x, w);
                assertFalse(bad.passes(), ctx + "wrong gradient (variant " + variant + ", component " + i + ") passed: " + bad);
            }
            double[] nan = g.clone();
            nan[r.nextInt(3)] = Double.NaN;
            assertFalse(GradCheck.check(f, x, nan).passes(), ctx + "a NaN gradient passed");
        }
    }

    @Test
    void argumentsAreChecked() {
        ToDoubleFunction<double[]> f = z -> 0;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GradCheck.check(f, new double[0], new double[0]));
        assertTrue(e.getMessage().contains("x must have at least one component"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GradCheck.check(f, new double[2], new double[1]));
        assertThrows(IllegalArgumentException.class, () -> GradCheck.check(f, new double[1], new double[1], 0));
        assertThrows(IllegalArgumentException.class, () -> GradCheck.check(f, new double[1], new double[1], 1e-6, 1));
        assertThrows(NullPointerException.class, () -> GradCheck.check(null, new double[1], new double[1]));
        Panmax pm = Panmax.backend(Panmax.backends().get(0));
        assertThrows(IllegalArgumentException.class, () -> GradCheck.softmaxBackward(pm, new double[2], new double[3]));
        // a finite difference across an infinity (or at NaN) means nothing: rejected, naming the component
        for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            IllegalArgumentException nf = assertThrows(IllegalArgumentException.class,
                    () -> GradCheck.check(f, new double[] {0, bad}, new double[2]));
            assertTrue(nf.getMessage().startsWith("x[1] = " + bad + ": must be finite"), nf.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> GradCheck.softmaxBackward(pm, new double[] {bad, 0}, new double[2]));
            assertThrows(IllegalArgumentException.class, () -> GradCheck.crossEntropy(pm, new double[] {bad, 0}, 1, 0));
        }
        // the label must be a class of x (the ignore index would check a constant 0)
        for (long label : new long[] {-100, -1, 3}) {
            IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                    () -> GradCheck.crossEntropy(pm, new double[3], label, 0));
            assertTrue(l.getMessage().equals("label = " + label + ": must be a class of x, in [0, 3)"), l.getMessage());
        }
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
                () -> GradCheck.crossEntropy(pm, new double[0], 0, 0));
        assertTrue(empty.getMessage().contains("x must have at least one component"), empty.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GradCheck.crossEntropy(pm, new double[3], 0, 1.5));
        for (var call : List.<Runnable>of(() -> GradCheck.softmaxBackward(null, new double[2], new double[2]),
                () -> GradCheck.logSoftmaxBackward(null, new double[2], new double[2]),
                () -> GradCheck.crossEntropy(null, new double[2], 0, 0))) {
            NullPointerException npe = assertThrows(NullPointerException.class, call::run);
            assertTrue("pm".equals(npe.getMessage()), npe.getMessage());
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void panmaxGradientsPassThroughTheHelpers(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom r = new SplittableRandom(SEED ^ backend.hashCode());
        for (int round = 0; round < 12; round++) {
            int n = 2 + r.nextInt(40);
            // Logits spread up to 10 apart; saturated rows (30 apart) are the pending case below.
            double scale = new double[] {0.1, 1, 3, 5}[round % 4];
            double[] x = new double[n];
            double[] v = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = scale * (r.nextDouble() * 2 - 1);
                v[i] = r.nextDouble() * 2 - 1;
            }
            String ctx = backend + " n=" + n + " scale=" + scale + " seed=" + SEED + ": ";
            GradCheck.Result a = GradCheck.softmaxBackward(pm, x, v);
            assertTrue(a.passes(), ctx + "softmax VJP " + a);
            GradCheck.Result b = GradCheck.logSoftmaxBackward(pm, x, v);
            assertTrue(b.passes(), ctx + "log-softmax VJP " + b);
            GradCheck.Result c = GradCheck.crossEntropy(pm, x, r.nextInt(n), r.nextBoolean() ? 0 : 0.1);
            assertTrue(c.passes(), ctx + "cross-entropy " + c);
        }
    }

    /**
     * A saturated softmax row (a gap of 30: p = 1 − 1e-13, 1e-13): the right VJP is ~1e-13 and the difference of a
     * small step is lost in rounding. A grown step measured the curvature of the saturating function instead and
     * called the right gradient wrong (1.4e-13 against a "difference" of 6.8e-11), until GradCheck required the
     * difference to converge first. A right gradient must pass, or be inconclusive: never fail.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void aSaturatedSoftmaxsRightGradientIsNeverCalledWrong(String backend) {
        Panmax pm = Panmax.backend(backend);
        for (double gap : new double[] {30, 45, 60}) {
            GradCheck.Result res = GradCheck.softmaxBackward(pm, new double[] {gap / 2, -gap / 2}, new double[] {1, -0.5});
            assertTrue(res.passes() || res.inconclusive() != null, backend + " gap " + gap + ": " + res);
        }
    }
}
