package org.panmax;

import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Checks analytic derivatives against central finite differences in double precision: the check to run
 * when a backward pass looks wrong. It must fail a wrong gradient of any scale, and it says so when finite
 * differences cannot decide (rather than passing).
 *
 * <p>Component i is compared with {@code fd_i = (f(x + h_i e_i) − f(x − h_i e_i)) / (2 h_i)}, with a relative step
 * {@code h_i = step · max(|x_i|, 1)} (rounded so that {@code x_i ± h_i} are exact doubles). It passes when
 * {@code |g_i − fd_i| <= rtol · max(|g_i|, |fd_i|) + atol + noise_i}, where {@code atol = rtol · max_j |fd_j|}
 * (the gradient's own scale, as PyTorch's {@code gradcheck} pairs a relative and an absolute part, but scaled, so
 * that a gradient of size 1e-12 is judged at its own size); {@code noise_i = 16 ε F / (2 h_i)} bounds the
 * rounding of the difference (F = the largest |f| seen, ε = 2⁻⁵²), and at most a tenth of the tolerance is added
 * for it. Where a component would fail and its noise exceeds a tenth of the tolerance, the difference cannot tell a
 * right gradient from a wrong one: with the automatic step the step grows tenfold (up to 10⁸ times) until it can;
 * with an explicit step the call throws {@link IllegalArgumentException}; if even the largest step cannot, the
 * result is inconclusive and does not pass. A component is called wrong only when its difference has converged:
 * half the step gives the same slope within the tolerance; otherwise (curvature dominates) the result is
 * inconclusive.
 *
 * <p>{@code f} is called with a scratch copy of x, one component moved at a time (x itself is never written): it
 * must not modify or keep the array, and must return the same value for the same point. It is called {@code 2n + 1}
 * times for n components, more where the step grows or a failure is confirmed at half the step. A NaN from f, or in
 * {@code gradient}, makes the result fail ({@link Result#maxError()} NaN). The point must be finite: a difference
 * across an infinity means nothing.
 *
 * <p>Vector-valued operations (softmax, log-softmax) are checked through a projection v (a random one serves): the
 * VJP Jᵀv is the gradient of the scalar x → ⟨v, f(x)⟩.
 */
public final class GradCheck {
    private GradCheck() {}

    /** Default relative finite-difference step: ε^(1/3), the optimum of a central difference. */
    public static final double DEFAULT_STEP = 6.0554544523933395e-6;
    /** Default relative tolerance. */
    public static final double DEFAULT_RTOL = 1e-4;

    private static final double EPS = Math.ulp(1.0);
    private static final int MAX_GROWTH = 8;

    /**
     * Outcome of a check.
     *
     * @param maxError     the worst component's |g_i − fd_i| divided by its allowance (passes at {@code <= 1})
     * @param worstIndex   that component
     * @param analytic     its analytic value
     * @param numeric      its finite-difference value
     * @param inconclusive null, or why finite differences could not decide some component (then it does not pass)
     */
    public record Result(double maxError, int worstIndex, double analytic, double numeric, String inconclusive) {
        /**
         * Whether the gradient is right: every component within its allowance and none inconclusive.
         *
         * @return true when {@code inconclusive} is null and {@code maxError <= 1} (a NaN error never passes)
         */
        public boolean passes() {
            return inconclusive == null && maxError <= 1;
        }

        @Override
        public String toString() {
            return (inconclusive != null ? "inconclusive: " + inconclusive + "; " : "")
                    + String.format("worst component %d: analytic %.10g, finite difference %.10g, error %.3g of its "
                    + "allowance", worstIndex, analytic, numeric, maxError);
        }
    }

    /**
     * Compares {@code gradient} with central differences of {@code f} at {@code x}, choosing the step: it starts at
     * {@link #DEFAULT_STEP} and grows tenfold (up to 10⁸ times) where rounding would otherwise decide a component,
     * with the relative tolerance {@link #DEFAULT_RTOL}; the rules are in the class comment.
     *
     * <p>How f is called and what a NaN does: see the class comment.
     *
     * @param f        the scalar function whose gradient is checked
     * @param x        the point, at least one component, every one finite
     * @param gradient the analytic gradient of f at x, as long as x
     * @return the outcome: {@link Result#passes()} says whether the gradient is right; an inconclusive result (f too
     *         large in size, or curving too much, for finite differences to decide) does not pass
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if x is empty or has a NaN or infinite component, or gradient's length differs
     *                                  from x's
     */
    public static Result check(ToDoubleFunction<double[]> f, double[] x, double[] gradient) {
        return run(f, x, gradient, DEFAULT_STEP, DEFAULT_RTOL, true);
    }

    /**
     * As {@link #check(ToDoubleFunction, double[], double[])}, with this relative step, which is never changed: a step
     * that cannot decide is an error rather than an inconclusive result.
     *
     * <p>How f is called and what a NaN does: see the class comment.
     *
     * @param f        the scalar function whose gradient is checked
     * @param x        the point, at least one component, every one finite
     * @param gradient the analytic gradient of f at x, as long as x
     * @param step     the relative step, in (0, 1): component i moves by {@code step · max(|x_i|, 1)}
     * @return the outcome; {@link Result#passes()} says whether the gradient is right
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if x is empty or has a NaN or infinite component, gradient's length differs
     *                                  from x's, step is not in (0, 1), the step does not change some
     *                                  {@code x_i} ({@code x_i ± h_i} rounds back to {@code x_i}), or the rounding of f
     *                                  makes some difference uncertain by more than a tenth of its tolerance
     */
    public static Result check(ToDoubleFunction<double[]> f, double[] x, double[] gradient, double step) {
        return run(f, x, gradient, step, DEFAULT_RTOL, false);
    }

    /**
     * As {@link #check(ToDoubleFunction, double[], double[], double)}, with relative tolerance {@code rtol} in place of
     * {@link #DEFAULT_RTOL} (the absolute part, {@code rtol · max_j |fd_j|}, follows it).
     *
     * <p>How f is called and what a NaN does: see the class comment.
     *
     * @param f        the scalar function whose gradient is checked
     * @param x        the point, at least one component, every one finite
     * @param gradient the analytic gradient of f at x, as long as x
     * @param step     the relative step, in (0, 1), never changed
     * @param rtol     the relative tolerance, in (0, 1)
     * @return the outcome; {@link Result#passes()} says whether the gradient is right
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if x is empty or has a NaN or infinite component, gradient's length differs
     *                                  from x's, step or rtol is not in (0, 1), the step does not change some
     *                                  {@code x_i}, or the rounding of f makes some difference uncertain by more than a
     *                                  tenth of its tolerance
     */
    public static Result check(ToDoubleFunction<double[]> f, double[] x, double[] gradient, double step, double rtol) {
        return run(f, x, gradient, step, rtol, false);
    }

    private static Result run(ToDoubleFunction<double[]> f, double[] x, double[] gradient, double step, double rtol,
                              boolean auto) {
        Objects.requireNonNull(f, "f");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(gradient, "gradient");
        if (x.length == 0) {
            throw new IllegalArgumentException("x must have at least one component");
        }
        if (gradient.length != x.length) {
            throw new IllegalArgumentException("gradient has " + gradient.length + " components but x has " + x.length);
        }
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                throw new IllegalArgumentException("x[" + i + "] = " + x[i] + ": must be finite (a finite difference "
                        + "needs a finite point)");
            }
        }
        if (!(step > 0) || !(step < 1)) {
            throw new IllegalArgumentException("step must be in (0, 1) (relative to max(|x_i|, 1)), was " + step);
        }
        if (!(rtol > 0) || !(rtol < 1)) {
            throw new IllegalArgumentException("rtol must be in (0, 1), was " + rtol);
        }
        double[] xp = x.clone();
        double f0 = Math.abs(f.applyAsDouble(xp));
        int n = x.length;
        double[] fd = new double[n];
        double[] noise = new double[n];
        for (int i = 0; i < n; i++) {
            difference(f, xp, i, step * Math.max(Math.abs(x[i]), 1), f0, fd, noise);
            if (noise[i] == Double.POSITIVE_INFINITY && !auto) {
                throw new IllegalArgumentException("step " + step + " does not change x[" + i + "] = " + x[i]
                        + " (x ± step · max(|x|, 1) rounds back to x): the difference would mean nothing");
            }
        }
        double atol = rtol * maxAbs(fd);
        String inconclusive = null;
        for (int i = 0; i < n; i++) {
            double h = step * Math.max(Math.abs(x[i]), 1);
            // The step matters only where the verdict would be "wrong" and the rounding could explain it.
            for (int grow = 0; Math.abs(gradient[i] - fd[i]) > tolerance(gradient[i], fd[i], rtol, atol)
                    && noise[i] > 0.1 * tolerance(gradient[i], fd[i], rtol, atol); grow++) {
                if (!auto) {
                    throw new IllegalArgumentException("step " + step + " is too small for component " + i + ": the "
                            + "rounding of f (|f| up to " + f0 + ") makes the difference uncertain by " + noise[i]
                            + ", more than a tenth of the tolerance; use a larger step");
                }
                if (grow == MAX_GROWTH) {
                    inconclusive = "component " + i + ": even a step of " + h + " leaves the difference uncertain by "
                            + noise[i] + " (f is " + f0 + " in size); rescale f";
                    break;
                }
                h *= 10;
                difference(f, xp, i, h, f0, fd, noise);
            }
            double tol = tolerance(gradient[i], fd[i], rtol, atol);
            if (inconclusive == null && Math.abs(gradient[i] - fd[i]) > tol + Math.min(noise[i], 0.1 * tol)) {
                // A failure is reported only if the difference has converged: half the step gives the same slope.
                double[] half = new double[n];
                double[] halfNoise = new double[n];
                difference(f, xp, i, h / 2, f0, half, halfNoise);
                if (Math.abs(half[i] - fd[i]) > tol + Math.min(halfNoise[i], 0.1 * tol)) {
                    inconclusive = "component " + i + ": the differences at steps " + h + " and " + h / 2 + " disagree ("
                            + fd[i] + " vs " + half[i] + "): f curves too much there to decide";
                }
            }
        }
        atol = rtol * maxAbs(fd);
        double worst = -1;
        int at = 0;
        for (int i = 0; i < n; i++) {
            double tol = tolerance(gradient[i], fd[i], rtol, atol);
            double allowance = tol + Math.min(noise[i], 0.1 * tol);
            double err = Math.abs(gradient[i] - fd[i]);
            double ratio = err == 0 ? 0 : err / allowance;
            if (Double.isNaN(ratio)) {
                return new Result(Double.NaN, i, gradient[i], fd[i], inconclusive);
            }
            if (ratio > worst) {
                worst = ratio;
                at = i;
            }
        }
        return new Result(worst, at, gradient[at], fd[at], inconclusive);
    }

    /** fd[i] and noise[i] from a central difference of relative step h at component i (xp is restored). */
    private static void difference(ToDoubleFunction<double[]> f, double[] xp, int i, double h, double f0,
                                   double[] fd, double[] noise) {
        double xi = xp[i];
        double up = xi + h;
        double down = xi - h;
        double width = up - down; // what the perturbed points really span
        xp[i] = up;
        double fu = f.applyAsDouble(xp);
        xp[i] = down;
        double fdn = f.applyAsDouble(xp);
        xp[i] = xi;
        if (!(width > 0)) {
            fd[i] = 0;
            noise[i] = Double.POSITIVE_INFINITY;
            return;
        }
        double big = Math.max(f0, Math.max(Math.abs(fu), Math.abs(fdn)));
        fd[i] = (fu - fdn) / width;
        noise[i] = 16 * EPS * big / width;
    }

    private static double tolerance(double g, double fd, double rtol, double atol) {
        return rtol * Math.max(Math.abs(g), Math.abs(fd)) + atol;
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * Checks {@code pm.softmaxBackward} (the VJP {@code p ⊙ (v − ⟨p, v⟩)}) at logits x against finite differences of
     * {@code x → ⟨v, softmax(x)⟩}.
     *
     * @param pm the backend under test
     * @param x  the logits, at least one, every one finite
     * @param v  the projection, as long as x
     * @return the outcome; {@link Result#passes()} says whether the gradient is right
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if x is empty or has a NaN or infinite entry, or v's length differs from x's
     */
    public static Result softmaxBackward(Panmax pm, double[] x, double[] v) {
        int n = checkPair(pm, x, v);
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

    /**
     * Checks {@code pm.logSoftmaxBackward} at logits x against finite differences of {@code x → ⟨v, log_softmax(x)⟩}.
     *
     * @param pm the backend under test
     * @param x  the logits, at least one, every one finite
     * @param v  the projection, as long as x
     * @return the outcome; {@link Result#passes()} says whether the gradient is right
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if x is empty or has a NaN or infinite entry, or v's length differs from x's
     */
    public static Result logSoftmaxBackward(Panmax pm, double[] x, double[] v) {
        int n = checkPair(pm, x, v);
        double[] lp = new double[n];
        pm.logSoftmax(x, lp);
        double[] g = new double[n];
        pm.logSoftmaxBackward(Matrix.of(lp), Matrix.of(v), Matrix.of(g));
        double[] y = new double[n];
        return check(z -> {
            pm.logSoftmax(z, y);
            return dot(v, y);
        }, x, g);
    }

    /**
     * Checks the gradient that {@code pm.crossEntropy} computes for one row of logits x with a class label, against
     * finite differences of its loss ({@link Reduction#NONE}, no class weights).
     *
     * @param pm             the backend under test
     * @param x              the logits, at least one, every one finite
     * @param label          the target class, in {@code [0, x.length)}
     * @param labelSmoothing s in [0, 1] (0: none), as {@link CrossEntropyOptions#labelSmoothing()}
     * @return the outcome; {@link Result#passes()} says whether the gradient is right
     * @throws NullPointerException     if {@code pm} or {@code x} is null
     * @throws IllegalArgumentException if x is empty or has a NaN or infinite entry, label is outside
     *                                  {@code [0, x.length)}, or labelSmoothing is not in [0, 1]
     */
    public static Result crossEntropy(Panmax pm, double[] x, long label, double labelSmoothing) {
        Objects.requireNonNull(pm, "pm");
        Objects.requireNonNull(x, "x");
        int n = x.length;
        if (n == 0) {
            throw new IllegalArgumentException("x must have at least one component");
        }
        if (label < 0 || label >= n) {
            throw new IllegalArgumentException("label = " + label + ": must be a class of x, in [0, " + n + ")");
        }
        Matrix labels = Matrix.of(new long[] {label});
        double[] g = new double[n];
        double[] loss = new double[1];
        Matrix lossView = Matrix.of(loss);
        CrossEntropyOptions o = CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE).withLabelSmoothing(labelSmoothing);
        pm.crossEntropy(Matrix.of(x), labels, Matrix.of(g), lossView, o);
        return check(z -> {
            pm.crossEntropy(Matrix.of(z), labels, null, lossView, o);
            return loss[0];
        }, x, g);
    }

    private static int checkPair(Panmax pm, double[] x, double[] v) {
        Objects.requireNonNull(pm, "pm");
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
