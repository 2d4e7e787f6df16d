package org.panmax.internal;

import static org.panmax.internal.Elements.get;
import static org.panmax.internal.Elements.round;
import static org.panmax.internal.Elements.set;

/**
 * The scalar row kernels: plain loops, {@link Math#exp}, every sum accumulated in double; float rows are
 * computed in double and rounded once on store, so x − max never overflows for float (only for double). They are
 * the honest baseline of the benchmarks, the last fallback, the EXACT path of every Java backend and the tails
 * of the Vector API kernels. Two running sums where the loop is hot; the order of every sum is fixed (the
 * results are bit-reproducible).
 */
final class ScalarRowKernels implements RowKernels {
    static final ScalarRowKernels INSTANCE = new ScalarRowKernels();

    private ScalarRowKernels() {}

    @Override
    public double rmax(Object x, boolean f64, long o, long n) {
        double m0 = Double.NEGATIVE_INFINITY;
        double m1 = Double.NEGATIVE_INFINITY;
        long j = 0;
        for (; j + 1 < n; j += 2) {
            double a = get(x, f64, o + j);
            double b = get(x, f64, o + j + 1);
            m0 = a > m0 ? a : m0;
            m1 = b > m1 ? b : m1;
        }
        for (; j < n; j++) {
            double a = get(x, f64, o + j);
            m0 = a > m0 ? a : m0;
        }
        return Math.max(m0, m1);
    }

    @Override
    public double expSumStore(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s) {
        double s0 = 0;
        double s1 = 0;
        long j = 0;
        for (; j + 1 < n; j += 2) {
            double e0 = Math.exp((get(x, f64, xo + j) - m) * s);
            double e1 = Math.exp((get(x, f64, xo + j + 1) - m) * s);
            set(y, f64, yo + j, e0);
            set(y, f64, yo + j + 1, e1);
            s0 += round(f64, e0);
            s1 += round(f64, e1);
        }
        for (; j < n; j++) {
            double e0 = Math.exp((get(x, f64, xo + j) - m) * s);
            set(y, f64, yo + j, e0);
            s0 += round(f64, e0);
        }
        return s0 + s1;
    }

    @Override
    public double expSum(Object x, long xo, boolean f64, long n, double m, double s) {
        double s0 = 0;
        double s1 = 0;
        long j = 0;
        for (; j + 1 < n; j += 2) {
            s0 += Math.exp((get(x, f64, xo + j) - m) * s);
            s1 += Math.exp((get(x, f64, xo + j + 1) - m) * s);
        }
        for (; j < n; j++) {
            s0 += Math.exp((get(x, f64, xo + j) - m) * s);
        }
        return s0 + s1;
    }

    @Override
    public void scale(Object x, long xo, Object y, long yo, boolean f64, long n, double c) {
        for (long j = 0; j < n; j++) {
            set(y, f64, yo + j, get(x, f64, xo + j) * c);
        }
    }

    @Override
    public void shiftScale(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s, double c) {
        for (long j = 0; j < n; j++) {
            set(y, f64, yo + j, (get(x, f64, xo + j) - m) * s - c);
        }
    }

    @Override
    public double sum(Object x, long xo, boolean f64, long n) {
        double s0 = 0;
        for (long j = 0; j < n; j++) {
            s0 += get(x, f64, xo + j);
        }
        return s0;
    }

    @Override
    public double dot(Object a, long ao, Object b, long bo, boolean f64, long n) {
        double s0 = 0;
        double s1 = 0;
        long j = 0;
        for (; j + 1 < n; j += 2) {
            s0 += get(a, f64, ao + j) * get(b, f64, bo + j);
            s1 += get(a, f64, ao + j + 1) * get(b, f64, bo + j + 1);
        }
        for (; j < n; j++) {
            s0 += get(a, f64, ao + j) * get(b, f64, bo + j);
        }
        return s0 + s1;
    }

    @Override
    public double dotExp(Object a, long ao, Object b, long bo, boolean f64, long n) {
        double c = 0;
        for (long j = 0; j < n; j++) {
            c += Math.exp(get(a, f64, ao + j)) * get(b, f64, bo + j);
        }
        return c;
    }

    @Override
    public void subMul(Object p, long po, Object dy, long dyo, Object dx, long dxo, boolean f64, long n, double c) {
        for (long j = 0; j < n; j++) {
            set(dx, f64, dxo + j, get(p, f64, po + j) * (get(dy, f64, dyo + j) - c));
        }
    }

    @Override
    public void subExp(Object a, long ao, Object dy, long dyo, Object dx, long dxo, boolean f64, long n, double c) {
        for (long j = 0; j < n; j++) {
            set(dx, f64, dxo + j, get(dy, f64, dyo + j) - Math.exp(get(a, f64, ao + j)) * c);
        }
    }

    @Override
    public void axpbyc(Object e, long eo, Object t, long to, Object out, long oo, boolean f64, long n, double a,
                       double b, double c) {
        for (long j = 0; j < n; j++) {
            set(out, f64, oo + j, get(e, f64, eo + j) * a - get(t, f64, to + j) * b - c);
        }
    }

    @Override
    public double overflowFrom(boolean f64) {
        return f64 ? 0x1p970 : Double.POSITIVE_INFINITY; // float rows are computed in double here
    }
}
