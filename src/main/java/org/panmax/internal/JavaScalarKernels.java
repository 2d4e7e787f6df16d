package org.panmax.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;

/**
 * The pure-Java scalar backend: plain loops, {@link Math#exp}, every sum accumulated in double (float
 * rows are computed in double and rounded once on store). It is the honest baseline of the benchmarks and
 * the last fallback. Row logic mirrors {@code native/src/ops_generic.h} exactly, special values included.
 */
public class JavaScalarKernels implements Kernels {

    @Override
    public String name() {
        return "java-scalar";
    }

    // ---- element access ---------------------------------------------------------------------------
    //
    // A buffer is what the SPI passes: a MemorySegment, or the caller's float[]/double[]/long[]/byte[] as it
    // is. Arrays are indexed directly, never wrapped in a heap segment: a wrapper made here would have to be
    // removed by escape analysis, which fails as soon as a row kernel is not inlined into the method that made
    // it (C2 compiles the loops on their own, and will not inline one already compiled into more than
    // InlineSmallCode bytes) or a phi merges it with another buffer's wrapper (a float[] one with a double[]
    // one, an array's with a segment). Without a wrapper there is nothing to allocate, whatever C2 inlines.
    // The f64 and type tests are loop-invariant: C2 unswitches them, or removes them where the profile has
    // seen one kind only. Array indices fit in an int (the facade checked them against the array's length).

    static double get(Object b, boolean f64, long i) {
        if (f64) {
            return b instanceof double[] a ? a[(int) i] : ((MemorySegment) b).getAtIndex(JAVA_DOUBLE, i);
        }
        return b instanceof float[] a ? a[(int) i] : ((MemorySegment) b).getAtIndex(JAVA_FLOAT, i);
    }

    static void set(Object b, boolean f64, long i, double v) {
        if (f64) {
            if (b instanceof double[] a) {
                a[(int) i] = v;
            } else {
                ((MemorySegment) b).setAtIndex(JAVA_DOUBLE, i, v);
            }
        } else if (b instanceof float[] a) {
            a[(int) i] = (float) v;
        } else {
            ((MemorySegment) b).setAtIndex(JAVA_FLOAT, i, (float) v);
        }
    }

    /** A mask byte (byte[] or segment). */
    static byte getByte(Object b, long i) {
        return b instanceof byte[] a ? a[(int) i] : ((MemorySegment) b).get(JAVA_BYTE, i);
    }

    /** A label (long[] or segment, int64 at any alignment). */
    static long getLong(Object b, long i) {
        return b instanceof long[] a ? a[(int) i] : ((MemorySegment) b).getAtIndex(JAVA_LONG_UNALIGNED, i);
    }

    /** Rounds to the element type, as storing and reloading would. */
    static double round(boolean f64, double v) {
        return f64 ? v : (float) v;
    }

    // ---- row kernels (overridden by the Vector API backend) ----------------------------------------

    /** Max of the row; NaN entries are skipped (the caller classifies the row). */
    protected double rmax(Object x, boolean f64, long o, long n) {
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

    /** y = exp((x - m) * s); returns the sum. y may be x. */
    protected double expSumStore(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s) {
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

    /** Sum of exp((x - m) * s) without storing. */
    protected double expSum(Object x, long xo, boolean f64, long n, double m, double s) {
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

    /** y = x * c. */
    protected void scale(Object x, long xo, Object y, long yo, boolean f64, long n, double c) {
        for (long j = 0; j < n; j++) {
            set(y, f64, yo + j, get(x, f64, xo + j) * c);
        }
    }

    /** y = (x - m) * s - c. */
    protected void shiftScale(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s,
                              double c) {
        for (long j = 0; j < n; j++) {
            set(y, f64, yo + j, (get(x, f64, xo + j) - m) * s - c);
        }
    }

    /** sum(a * b). */
    protected double dot(Object a, long ao, Object b, long bo, boolean f64, long n) {
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

    /** sum(x). */
    protected double sum(Object x, long xo, boolean f64, long n) {
        double s0 = 0;
        for (long j = 0; j < n; j++) {
            s0 += get(x, f64, xo + j);
        }
        return s0;
    }

    /** dx = p * (dy - c). */
    protected void subMul(Object p, long po, Object dy, long dyo, Object dx, long dxo, boolean f64,
                          long n, double c) {
        for (long j = 0; j < n; j++) {
            set(dx, f64, dxo + j, get(p, f64, po + j) * (get(dy, f64, dyo + j) - c));
        }
    }

    /** dx = dy - exp(a) * c. */
    protected void subExp(Object a, long ao, Object dy, long dyo, Object dx, long dxo, boolean f64,
                          long n, double c) {
        for (long j = 0; j < n; j++) {
            set(dx, f64, dxo + j, get(dy, f64, dyo + j) - Math.exp(get(a, f64, ao + j)) * c);
        }
    }

    // ---- special rows (the header's rules) -----------------------------------------------------------

    static final int FINITE = 0;
    static final int NAN = 1;
    static final int EMPTY = 2;
    static final int PINF = 3;

    /** Classifies a row by its max; for PINF returns 3 + (count of +inf) * 4. */
    static long classify(Object x, long o, boolean f64, long n, double m) {
        if (Double.isNaN(m)) {
            return NAN;
        }
        if (m == Double.NEGATIVE_INFINITY || m == Double.POSITIVE_INFINITY) {
            long count = 0;
            for (long j = 0; j < n; j++) {
                double v = get(x, f64, o + j);
                if (Double.isNaN(v)) {
                    return NAN;
                }
                if (v == Double.POSITIVE_INFINITY) {
                    count++;
                }
            }
            return m == Double.NEGATIVE_INFINITY ? EMPTY : PINF + 4 * count;
        }
        // A finite max may have skipped NaN entries; the sum of exp reveals them.
        return FINITE;
    }

    static void fill(Object y, long yo, boolean f64, long n, double v) {
        for (long j = 0; j < n; j++) {
            set(y, f64, yo + j, v);
        }
    }

    static void special(long kind, Object x, long xo, Object y, long yo, boolean f64, long n, boolean log) {
        int k = (int) (kind & 3);
        if (k == NAN) {
            fill(y, yo, f64, n, Double.NaN);
        } else if (k == EMPTY) {
            fill(y, yo, f64, n, log ? Double.NEGATIVE_INFINITY : 0);
        } else {
            double count = kind >>> 2;
            double on = log ? -Math.log(count) : 1 / count;
            double off = log ? Double.NEGATIVE_INFINITY : 0;
            for (long j = 0; j < n; j++) {
                set(y, f64, yo + j, get(x, f64, xo + j) == Double.POSITIVE_INFINITY ? on : off);
            }
        }
    }

    // ---- row drivers -----------------------------------------------------------------------------

    void softmaxRow(boolean f64, Object x, long xo, Object y, long yo, long n, double s) {
        double m = rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind != FINITE) {
            special(kind, x, xo, y, yo, f64, n, false);
            return;
        }
        double sum = expSumStore(x, xo, y, yo, f64, n, m, s);
        if (Double.isNaN(sum)) {
            fill(y, yo, f64, n, Double.NaN);
        } else {
            scale(y, yo, y, yo, f64, n, 1 / sum);
        }
    }

    /** EXACT: y = exp((x - m) * s - log(sum)) evaluated in double and rounded once to the element type. */
    void exactSoftmaxRow(boolean f64, Object x, long xo, Object y, long yo, long n, double s) {
        double m = rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind == FINITE) {
            double sum = expSum(x, xo, f64, n, m, s);
            if (!Double.isNaN(sum)) {
                double lse = Math.log(sum);
                for (long j = 0; j < n; j++) {
                    set(y, f64, yo + j, Math.exp((get(x, f64, xo + j) - m) * s - lse));
                }
                return;
            }
            kind = NAN;
        }
        special(kind, x, xo, y, yo, f64, n, false);
    }

    void logSoftmaxRow(boolean f64, Object x, long xo, Object y, long yo, long n, double s) {
        double m = rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind == FINITE) {
            double sum = expSum(x, xo, f64, n, m, s);
            if (!Double.isNaN(sum)) {
                shiftScale(x, xo, y, yo, f64, n, m, s, Math.log(sum));
                return;
            }
            kind = NAN;
        }
        special(kind, x, xo, y, yo, f64, n, true);
    }

    double logSumExpRow(boolean f64, Object x, long xo, long n) {
        double m = rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind == FINITE) {
            double sum = expSum(x, xo, f64, n, m, 1);
            return Double.isNaN(sum) ? Double.NaN : m + Math.log(sum);
        }
        int k = (int) (kind & 3);
        return k == NAN ? Double.NaN : k == EMPTY ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    // ---- SPI ----------------------------------------------------------------------------------

    @Override
    public void softmax(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                        long rows, long cols) {
        for (long r = 0; r < rows; r++) {
            softmaxRow(f64, x, xOff + r * xStride, y, yOff + r * yStride, cols, 1);
        }
    }

    @Override
    public void logSoftmax(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                           long rows, long cols) {
        for (long r = 0; r < rows; r++) {
            logSoftmaxRow(f64, x, xOff + r * xStride, y, yOff + r * yStride, cols, 1);
        }
    }

    @Override
    public void logSumExp(boolean f64, Object x, long xOff, long xStride, Object out, long outOff,
                          long rows, long cols) {
        for (long r = 0; r < rows; r++) {
            set(out, f64, outOff + r, logSumExpRow(f64, x, xOff + r * xStride, cols));
        }
    }

    @Override
    public void softmaxEx(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                          long rows, long cols, double temperature, Object mask, long maskOff, long maskStride,
                          Object bias, long biasOff, long biasStride, int flags) {
        softmaxExRows(f64, x, xOff, xStride, y, yOff, yStride, rows, cols, temperature, mask, maskOff, maskStride,
                bias, biasOff, biasStride, flags);
    }

    /** softmaxEx on this instance's row kernels (computed in double here, so EXACT needs nothing more). */
    final void softmaxExRows(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                             long rows, long cols, double temperature, Object mask, long maskOff, long maskStride,
                             Object bias, long biasOff, long biasStride, int flags) {
        double s = round(f64, 1 / round(f64, temperature));
        boolean log = (flags & FLAG_LOG) != 0;
        for (long r = 0; r < rows; r++) {
            long xo = xOff + r * xStride;
            long yo = yOff + r * yStride;
            Object src = x;
            long so = xo;
            if (mask != null || bias != null) {
                long mo = maskOff + r * maskStride;
                long bo = biasOff + r * biasStride;
                for (long j = 0; j < cols; j++) {
                    double z;
                    if (mask != null && getByte(mask, mo + j) == 0) {
                        z = Double.NEGATIVE_INFINITY;
                    } else {
                        z = get(x, f64, xo + j);
                        if (bias != null) {
                            z = round(f64, z + get(bias, f64, bo + j));
                        }
                    }
                    set(y, f64, yo + j, z);
                }
                src = y;
                so = yo;
            }
            if (log) {
                logSoftmaxRow(f64, src, so, y, yo, cols, s);
            } else if ((flags & FLAG_EXACT) != 0) {
                exactSoftmaxRow(f64, src, so, y, yo, cols, s);
            } else {
                softmaxRow(f64, src, so, y, yo, cols, s);
            }
        }
    }

    @Override
    public void softmaxBackward(boolean f64, Object p, long pOff, long pStride, Object dy, long dyOff,
                                long dyStride, Object dx, long dxOff, long dxStride, long rows, long cols) {
        for (long r = 0; r < rows; r++) {
            long po = pOff + r * pStride;
            long dyo = dyOff + r * dyStride;
            double c = dot(p, po, dy, dyo, f64, cols);
            subMul(p, po, dy, dyo, dx, dxOff + r * dxStride, f64, cols, c);
        }
    }

    @Override
    public void logSoftmaxBackward(boolean f64, Object logp, long lOff, long lStride, Object dy, long dyOff,
                                   long dyStride, Object dx, long dxOff, long dxStride, long rows, long cols) {
        for (long r = 0; r < rows; r++) {
            long dyo = dyOff + r * dyStride;
            double c = sum(dy, dyo, f64, cols);
            subExp(logp, lOff + r * lStride, dy, dyo, dx, dxOff + r * dxStride, f64, cols, c);
        }
    }

    @Override
    public void logSoftmaxJvp(boolean f64, Object logp, long lOff, long lStride, Object v, long vOff,
                              long vStride, Object out, long outOff, long outStride, long rows, long cols) {
        for (long r = 0; r < rows; r++) {
            long lo = lOff + r * lStride;
            long vo = vOff + r * vStride;
            double c = 0;
            for (long j = 0; j < cols; j++) {
                c += Math.exp(get(logp, f64, lo + j)) * get(v, f64, vo + j);
            }
            shiftScale(v, vo, out, outOff + r * outStride, f64, cols, 0, 1, c);
        }
    }

    @Override
    public void jacobian(boolean f64, Object x, long xOff, long xStride, Object jac, long jacOff, long rows,
                         long cols, int flags) {
        boolean log = (flags & FLAG_LOG) != 0;
        long nn = cols * cols;
        for (long r = 0; r < rows; r++) {
            long jo = jacOff + r * nn;
            Object p = x;
            long po = xOff + r * xStride;
            if ((flags & FLAG_FROM_LOGITS) != 0) {
                long last = jo + (cols - 1) * cols; // softmax into the last row of this block first
                softmaxRow(f64, x, po, jac, last, cols, 1);
                p = jac;
                po = last;
            }
            for (long i = 0; i < cols; i++) {
                double pi = get(p, f64, po + i);
                long row = jo + i * cols;
                if (log) {
                    scale(p, po, jac, row, f64, cols, -1);
                    set(jac, f64, row + i, get(jac, f64, row + i) + 1);
                } else {
                    scale(p, po, jac, row, f64, cols, -pi);
                    set(jac, f64, row + i, get(jac, f64, row + i) + pi);
                }
            }
        }
    }

    /** Per-thread zeroed scratch of up to SCRATCH_MAX doubles, so that repeated calls allocate nothing;
     *  longer ones are allocated per call rather than pinned to the thread. */
    private static final ThreadLocal<double[]> SCRATCH = ThreadLocal.withInitial(() -> new double[64]);
    static final int SCRATCH_MAX = 1 << 16;

    static double[] scratch(int len) {
        if (len > SCRATCH_MAX) {
            return new double[len];
        }
        double[] w = SCRATCH.get();
        if (w.length < len) {
            w = new double[Math.min(SCRATCH_MAX, Math.max(len, 2 * w.length))];
            SCRATCH.set(w);
        } else {
            java.util.Arrays.fill(w, 0, len, 0);
        }
        return w;
    }

    @Override
    public void jacobianMatmul(boolean f64, Object p, long pOff, long n, Object v, long vOff, long vStride,
                               Object out, long outOff, long outStride, long k, int flags) {
        boolean log = (flags & FLAG_LOG) != 0;
        int kk = (int) Math.min(k, Integer.MAX_VALUE - 8);
        double[] w = scratch(kk); // w = V^T p
        for (long i = 0; i < n; i++) {
            double pi = get(p, f64, pOff + i);
            long vo = vOff + i * vStride;
            for (int c = 0; c < kk; c++) {
                w[c] += pi * get(v, f64, vo + c);
            }
        }
        for (long i = 0; i < n; i++) {
            double pi = get(p, f64, pOff + i);
            long vo = vOff + i * vStride;
            long oo = outOff + i * outStride;
            for (int c = 0; c < kk; c++) {
                double vic = get(v, f64, vo + c);
                set(out, f64, oo + c, log ? vic - w[c] : pi * vic - pi * w[c]);
            }
        }
    }

    @Override
    public void crossEntropy(boolean f64, Object logits, long xOff, long xStride, Object labels,
                             long labelsOff, Object target, long tOff, long tStride, Object grad, long gOff,
                             long gStride, Object loss, long lossOff, long rows, long cols, long ignoreIndex,
                             double labelSmoothing, int reduction) {
        long n = cols;
        double ls = round(f64, labelSmoothing);
        double keep = 1 - ls;
        double spread = ls / n;
        long count = rows;
        if (labels != null) {
            count = 0;
            for (long r = 0; r < rows; r++) {
                if (getLong(labels, labelsOff + r) != ignoreIndex) {
                    count++;
                }
            }
        }
        double gscale = reduction == REDUCTION_MEAN && count > 0 ? 1.0 / count : 1.0;
        double total = 0;
        for (long r = 0; r < rows; r++) {
            long zo = xOff + r * xStride;
            long go = gOff + r * gStride;
            long to = tOff + r * tStride;
            long y = labels != null ? getLong(labels, labelsOff + r) : -1;
            if (labels != null && y == ignoreIndex) {
                if (grad != null) {
                    fill(grad, go, f64, n, 0);
                }
                if (reduction == REDUCTION_NONE) {
                    set(loss, f64, lossOff + r, 0);
                }
                continue;
            }
            double sz = ls > 0 ? sum(logits, zo, f64, n) : 0;
            double givenT;
            double givenTz;
            if (labels != null) {
                givenT = 1;
                givenTz = keep != 0 ? get(logits, f64, zo + y) : 0;
            } else {
                givenT = sum(target, to, f64, n);
                double d = 0;
                if (keep != 0) {
                    for (long j = 0; j < n; j++) {
                        double t = get(target, f64, to + j);
                        if (t != 0) {
                            d += t * get(logits, f64, zo + j);
                        }
                    }
                }
                givenTz = d;
            }
            double tSum = keep * givenT + ls;
            double tzSum = (keep != 0 ? keep * givenTz : 0) + (ls > 0 ? spread * sz : 0);

            double m = rmax(logits, f64, zo, n);
            long kind = classify(logits, zo, f64, n, m);
            double sum = 1;
            if (kind == FINITE) {
                sum = grad != null ? expSumStore(logits, zo, grad, go, f64, n, m, 1) : expSum(logits, zo, f64, n, m, 1);
                if (Double.isNaN(sum)) {
                    kind = NAN;
                }
            }
            int k = (int) (kind & 3);
            double rowLoss;
            if (k == FINITE) {
                rowLoss = tSum * (m + Math.log(sum)) - tzSum;
            } else if (k == EMPTY) {
                rowLoss = tSum * Double.NEGATIVE_INFINITY - tzSum;
                if (grad != null) {
                    fill(grad, go, f64, n, 0);
                }
            } else if (k == PINF) {
                rowLoss = Double.NaN;
                if (grad != null) {
                    special(kind, logits, zo, grad, go, f64, n, false);
                }
            } else {
                rowLoss = Double.NaN;
                if (grad != null) {
                    fill(grad, go, f64, n, Double.NaN);
                }
            }
            if (grad != null && k != NAN) {
                if (labels != null) {
                    shiftScale(grad, go, grad, go, f64, n, 0, round(f64, gscale / sum), round(f64, gscale * spread));
                    set(grad, f64, go + y, get(grad, f64, go + y) - round(f64, gscale * keep));
                } else {
                    double a = round(f64, gscale * tSum / sum);
                    double b = round(f64, gscale * keep);
                    double c = round(f64, gscale * spread);
                    for (long j = 0; j < n; j++) {
                        set(grad, f64, go + j, get(grad, f64, go + j) * a - get(target, f64, to + j) * b - c);
                    }
                }
            }
            if (reduction == REDUCTION_NONE) {
                set(loss, f64, lossOff + r, rowLoss);
            } else {
                total += rowLoss;
            }
        }
        if (reduction == REDUCTION_SUM) {
            set(loss, f64, lossOff, total);
        } else if (reduction == REDUCTION_MEAN) {
            set(loss, f64, lossOff, count > 0 ? total / count : Double.NaN);
        }
    }
}
