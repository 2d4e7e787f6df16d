package org.panmax;

import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Checks analytic derivatives against central finite differences in double precision: the check to run
 * when a backward pass looks wrong.
 *
 * <p>For a scalar function f and its claimed gradient g, each component is compared with
 * (f(x + h e_i) - f(x - h e_i)) / 2h, whose truncation error is O(h^2). The error of component i is
 * |g_i - fd_i| / max(|g_i|, |fd_i|, scale), where scale = max(1e-3 * max_i |fd_i|, 1e5 ulp(max(|f|, 1)) / h)
 * keeps near-zero components (and the rounding noise of the differences) from dividing by zero. With h = 1e-5 (default) a correct gradient of a smooth
 * function shows errors below 1e-5; a wrong one shows errors near 1.
 *
 * <p>Vector-valued operations (softmax, log-softmax) are checked through a random projection: the VJP
 * J^T v is the gradient of the scalar x -> <v, f(x)>.
 */
public final class GradCheck {
    private GradCheck() {}

    /** Default finite-difference step. */
    public static final double DEFAULT_STEP = 1e-5;

    /**
     * Outcome of a check.
     *
     * @param maxRelativeError the worst component's error as defined in the class comment
     * @param worstIndex       that component
     * @param analytic         its analytic value
     * @param numeric          its finite-difference value
     */
    public record Result(double maxRelativeError, int worstIndex, double analytic, double numeric) {
        /** True when the worst error is at most {@code tolerance} (NaN never passes). */
        public boolean passes(double tolerance) {
            return maxRelativeError <= tolerance;
        }

        @Override
        public String toString() {
            return String.format("max relative error %.3g at index %d (analytic %.10g, finite difference %.10g)",
                    maxRelativeError, worstIndex, analytic, numeric);
        }
    }

    /** Compares {@code gradient} with the central differences of {@code f} at {@code x}. */
    public static Result check(ToDoubleFunction<double[]> f, double[] x, double[] gradient, double step) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(gradient, "gradient");
        if (gradient.length != x.length) {
            throw new IllegalArgumentException("gradient has " + gradient.length + " components but x has " + x.length);
        }
        if (!(step > 0) || Double.isInfinite(step)) {
            throw new IllegalArgumentException("step must be finite and > 0, was " + step);
        }
        double[] xp = x.clone();
        double[] fd = new double[x.length];
        double fdMax = 0;
        double fMax = Math.abs(f.applyAsDouble(xp));
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            xp[i] = xi + step;
            double up = f.applyAsDouble(xp);
            xp[i] = xi - step;
            double down = f.applyAsDouble(xp);
            xp[i] = xi;
            fMax = Math.max(fMax, Math.max(Math.abs(up), Math.abs(down)));
            fd[i] = (up - down) / (2 * step);
            fdMax = Math.max(fdMax, Math.abs(fd[i]));
        }
        // Rounding noise of a central difference is about ulp(max(|f|, 1)) / step (cancellation inside f
        // makes noise even where f is 0); components below 1e5 times that are judged absolutely.
        double noise = 1e5 * Math.ulp(Math.max(fMax, 1.0)) / step;
        double scale = Math.max(1e-3 * fdMax, noise);
        double worst = -1;
        int at = 0;
        for (int i = 0; i < x.length; i++) {
            double err = Math.abs(gradient[i] - fd[i]) / Math.max(Math.max(Math.abs(gradient[i]), Math.abs(fd[i])), scale);
            if (Double.isNaN(err)) {
                return new Result(Double.NaN, i, gradient[i], fd[i]);
            }
            if (err > worst) {
                worst = err;
                at = i;
            }
        }
        return new Result(worst, at, gradient[at], fd[at]);
    }

    /** As {@link #check(ToDoubleFunction, double[], double[], double)} with {@link #DEFAULT_STEP}. */
    public static Result check(ToDoubleFunction<double[]> f, double[] x, double[] gradient) {
        return check(f, x, gradient, DEFAULT_STEP);
    }

    /** Checks {@code pm.softmaxBackward} (the VJP p * (v - <p, v>)) at logits x against finite differences of x -> <v, softmax(x)>. */
    public static Result softmaxBackward(Panmax pm, double[] x, double[] v) {
        int n = checkPair(x, v);
        double[] p = new double[n];
        pm.softmax(x, p);
        double[] g = new double[n];
        pm.softmaxBackward(p, v, g);
        double[] y = new double[n];
        return check(z -> {
            pm.softmax(z, y);
            return dot(v, y);
        }, x, g);
    }

    /** Checks {@code pm.logSoftmaxBackward} at logits x against finite differences of x -> <v, log_softmax(x)>. */
    public static Result logSoftmaxBackward(Panmax pm, double[] x, double[] v) {
        int n = checkPair(x, v);
        double[] lp = new double[n];
        pm.logSoftmax(x, lp);
        double[] g = new double[n];
        pm.logSoftmaxBackward(lp, v, g);
        double[] y = new double[n];
        return check(z -> {
            pm.logSoftmax(z, y);
            return dot(v, y);
        }, x, g);
    }

    /** Checks the cross-entropy gradient of {@code pm.crossEntropy} for one row with a class label. */
    public static Result crossEntropy(Panmax pm, double[] x, long label, double labelSmoothing) {
        Objects.requireNonNull(x, "x");
        int n = x.length;
        long[] labels = {label};
        double[] g = new double[n];
        double[] loss = new double[1];
        pm.crossEntropy(x, 1, n, labels, g, loss, Reduction.NONE, Panmax.DEFAULT_IGNORE_INDEX, labelSmoothing);
        return check(z -> {
            pm.crossEntropy(z, 1, n, labels, null, loss, Reduction.NONE, Panmax.DEFAULT_IGNORE_INDEX, labelSmoothing);
            return loss[0];
        }, x, g);
    }

    private static int checkPair(double[] x, double[] v) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(v, "v");
        if (x.length != v.length) {
            throw new IllegalArgumentException("x has " + x.length + " elements but v has " + v.length);
        }
        return x.length;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
