package org.panmax;

/**
 * Every tolerance of the Java tests, with its reason. "eps" is the unit roundoff doubled (2^-23 for
 * float, 2^-52 for double), the unit the issue states its bounds in.
 */
final class Tolerances {
    private Tolerances() {}

    static double eps(boolean f64) {
        return f64 ? 0x1p-52 : 0x1p-23;
    }

    /**
     * Softmax outputs, relative: 4 eps (exp approximation ~1.5, sum ~1, scale 2 roundings) plus the
     * rounding of t = x - max in the element type, which moves exp(t) by up to |t| * eps / 2 — the term
     * the EXACT mode removes. f64 adds 2 sqrt(n) eps for the double-precision sum of n positive terms
     * (a running sum errs by ~sqrt(n) eps at random; the Java backends keep two running sums).
     */
    static double softmax(boolean f64, double t, int n) {
        return eps(f64) * (4 + Math.abs(t) / 2 + (f64 ? 2 * Math.sqrt(n) : 0));
    }

    /** EXACT mode, float: one rounding plus the exp approximation, at most 1 eps (the bound). */
    static final double EXACT_F32 = 0x1p-23;

    /** Outputs below the smallest normal are compared absolutely: kernels may flush them to zero. */
    static double floor(boolean f64) {
        return f64 ? Double.MIN_NORMAL : Float.MIN_NORMAL;
    }

    /**
     * Log-softmax, logsumexp, backward passes, Jacobians, cross-entropy: absolute error relative to the
     * magnitude of the quantities that cancel (|t| + log sum for log-softmax, max|dy| for VJPs), 16 eps:
     * these are differences of O(1) terms, so relative error on small results is meaningless.
     */
    static double cancelling(boolean f64, double magnitude, int n) {
        return eps(f64) * 16 * Math.max(1, magnitude) * (f64 ? Math.max(1, Math.sqrt(n)) : 1);
    }
}
