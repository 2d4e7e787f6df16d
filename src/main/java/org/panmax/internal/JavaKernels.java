package org.panmax.internal;

import static org.panmax.internal.Elements.base;
import static org.panmax.internal.Elements.buf;
import static org.panmax.internal.Elements.fill;
import static org.panmax.internal.Elements.get;
import static org.panmax.internal.Elements.getByte;
import static org.panmax.internal.Elements.getLong;
import static org.panmax.internal.Elements.ownBase;
import static org.panmax.internal.Elements.ownBuf;
import static org.panmax.internal.Elements.round;
import static org.panmax.internal.Elements.set;

import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Reduction;
import org.panmax.SoftmaxOptions;

/**
 * The pure-Java backends: one driver over a set of row kernels ({@link RowKernels}), as the C library's
 * {@code ops_generic.h} is one driver over its per-ISA tables. "java-scalar" runs it on {@link ScalarRowKernels},
 * "java-vector" on the Vector API kernels ({@link JavaVectorSupport}). Everything above one row lives here and
 * is shared: classification and special rows (the header's non-finite rules), the overflow-safe path for large
 * temperatures, Jacobians, the Jacobian product, cross-entropy. The EXACT forward runs on the scalar kernels in
 * every Java backend (they compute float rows in double, so t = x − max and exp round once).
 *
 * <p>Nothing here allocates: arrays are indexed directly ({@link Elements}), scratch is never needed.
 *
 * <p><b>Rules beyond the header's</b>, shared with the native backends:
 * <ul>
 *   <li>A temperature T > 1 large enough that x − max overflows (±inf from finite x and max: only for a row
 *       max above {@link RowKernels#overflowFrom}) computes that row's t as x/T − max/T where x − max overflows,
 *       (x − max) / T elsewhere, in double; other rows keep the kernels' arithmetic.</li>
 *   <li>Results in the subnormal range are returned as IEEE arithmetic gives them, never flushed to 0.</li>
 *   <li>{@code jacobian}: J_ij = p_i (δ_ij − p_j) in IEEE arithmetic of the element type (p = {inf, 0} gives
 *       J_00 = −inf, as native).</li>
 *   <li>Cross-entropy: a row with k logits at +inf is the limit as they grow together (p = 1/k there): loss
 *       Σ_{j at +inf} u_j log k, plus +inf if any u_j > 0 off them; gradient p Σu − u. A label is read once per
 *       row: out of range at that read, the row gets NaN loss and NaN gradient.</li>
 *   <li>If the arena of a segment argument is closed by another thread during a call, the call throws
 *       {@link IllegalStateException} "<op>: the arena of <argument> was closed during the call; <output> is
 *       partly written": the Java backends cannot keep a shared arena alive, and the output holds whatever
 *       rows were written before the JDK refused the access.</li>
 * </ul>
 */
public final class JavaKernels implements Kernels {
    private final String name;
    private final RowKernels k;

    JavaKernels(String name, RowKernels k) {
        this.name = name;
        this.k = k;
    }

    /** The scalar backend, "java-scalar": the baseline and the last fallback. */
    public static Kernels scalar() {
        return new JavaKernels("java-scalar", ScalarRowKernels.INSTANCE);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name;
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

    static void special(long kind, Object x, long xo, Object y, long yo, boolean f64, long n, boolean log) {
        int c = (int) (kind & 3);
        if (c == NAN) {
            fill(y, yo, f64, n, Double.NaN);
        } else if (c == EMPTY) {
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

    // ---- large temperatures: rows where x - max overflows ------------------------------------------------

    /**
     * True when t = (x − m) * s overflows for some finite x of this row in the kernels' arithmetic. Only a
     * temperature above 1 (s < 1) makes that overflow change a result (at s >= 1, −inf is t's correct rounding),
     * and only a max from {@link RowKernels#overflowFrom} on allows it, so ordinary rows never scan.
     */
    private static boolean overflows(RowKernels k, Object x, long xo, boolean f64, long n, double m, double s) {
        if (!(s < 1) || m < k.overflowFrom(f64)) {
            return false;
        }
        for (long j = 0; j < n; j++) {
            double v = get(x, f64, xo + j);
            if (v > Double.NEGATIVE_INFINITY && round(f64, v - m) == Double.NEGATIVE_INFINITY) {
                return true;
            }
        }
        return false;
    }

    /** t of the overflow-safe path, in double: (x − m) s, or x/T − m/T where x − m overflows (double only). */
    private static double wideT(double x, double m, double s, double temp) {
        double d = x - m;
        return d == Double.NEGATIVE_INFINITY && x != Double.NEGATIVE_INFINITY ? x / temp - m / temp : d * s;
    }

    private static final int WIDE_SOFTMAX = 0;
    private static final int WIDE_LOG = 1;
    private static final int WIDE_EXACT = 2;

    /** A finite row whose x − max overflows: the scalar forward with {@link #wideT}. y may be x. */
    private static void wideRow(int mode, boolean f64, Object x, long xo, Object y, long yo, long n, double m,
                                double s, double temp) {
        double sum = 0;
        for (long j = 0; j < n; j++) {
            double e = Math.exp(wideT(get(x, f64, xo + j), m, s, temp));
            if (mode == WIDE_SOFTMAX) {
                set(y, f64, yo + j, e);
                sum += round(f64, e);
            } else {
                sum += e;
            }
        }
        if (Double.isNaN(sum)) {
            fill(y, yo, f64, n, Double.NaN);
            return;
        }
        if (mode == WIDE_SOFTMAX) {
            double c = 1 / sum;
            for (long j = 0; j < n; j++) {
                set(y, f64, yo + j, get(y, f64, yo + j) * c);
            }
            return;
        }
        double lse = Math.log(sum);
        for (long j = 0; j < n; j++) {
            double t = wideT(get(x, f64, xo + j), m, s, temp);
            set(y, f64, yo + j, mode == WIDE_LOG ? t - lse : Math.exp(t - lse));
        }
    }

    // ---- row drivers -----------------------------------------------------------------------------
    //
    // s = 1 / T (rounded to the element type), temp = T (rounded alike); y may be x.

    static void softmaxRow(RowKernels k, boolean f64, Object x, long xo, Object y, long yo, long n, double s,
                           double temp) {
        double m = k.rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind != FINITE) {
            special(kind, x, xo, y, yo, f64, n, false);
            return;
        }
        if (overflows(k, x, xo, f64, n, m, s)) {
            wideRow(WIDE_SOFTMAX, f64, x, xo, y, yo, n, m, s, temp);
            return;
        }
        double sum = k.expSumStore(x, xo, y, yo, f64, n, m, s);
        if (Double.isNaN(sum)) {
            fill(y, yo, f64, n, Double.NaN);
        } else {
            k.scale(y, yo, y, yo, f64, n, 1 / sum);
        }
    }

    /** EXACT: y = exp((x − m) * s − log(sum)) evaluated in double and rounded once to the element type. */
    static void exactSoftmaxRow(RowKernels k, boolean f64, Object x, long xo, Object y, long yo, long n, double s,
                                double temp) {
        double m = k.rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind == FINITE) {
            if (overflows(k, x, xo, f64, n, m, s)) {
                wideRow(WIDE_EXACT, f64, x, xo, y, yo, n, m, s, temp);
                return;
            }
            double sum = k.expSum(x, xo, f64, n, m, s);
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

    static void logSoftmaxRow(RowKernels k, boolean f64, Object x, long xo, Object y, long yo, long n, double s,
                              double temp) {
        double m = k.rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind == FINITE) {
            if (overflows(k, x, xo, f64, n, m, s)) {
                wideRow(WIDE_LOG, f64, x, xo, y, yo, n, m, s, temp);
                return;
            }
            double sum = k.expSum(x, xo, f64, n, m, s);
            if (!Double.isNaN(sum)) {
                k.shiftScale(x, xo, y, yo, f64, n, m, s, Math.log(sum));
                return;
            }
            kind = NAN;
        }
        special(kind, x, xo, y, yo, f64, n, true);
    }

    static double logSumExpRow(RowKernels k, boolean f64, Object x, long xo, long n) {
        double m = k.rmax(x, f64, xo, n);
        long kind = classify(x, xo, f64, n, m);
        if (kind == FINITE) {
            double sum = k.expSum(x, xo, f64, n, m, 1);
            return Double.isNaN(sum) ? Double.NaN : m + Math.log(sum);
        }
        int c = (int) (kind & 3);
        return c == NAN ? Double.NaN : c == EMPTY ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    // ---- a shared arena closed during a call ---------------------------------------------------------

    /**
     * The exception for an {@link IllegalStateException} thrown by the JDK during a call: if the scope of one of
     * the views died, the documented message naming it; else {@code e} itself. {@code views} alternates a view
     * (or null) and its argument name.
     */
    static RuntimeException closedDuring(IllegalStateException e, String op, String written, Object... views) {
        for (int i = 0; i < views.length; i += 2) {
            if (views[i] instanceof Matrix m && !m.segment().scope().isAlive()) {
                return new IllegalStateException(op + ": the arena of " + views[i + 1]
                        + " was closed during the call; " + written + " partly written", e);
            }
        }
        return e;
    }

    // ---- forward ------------------------------------------------------------------------------------

    @Override
    public void softmax(Matrix x, Matrix y, SoftmaxOptions o) {
        try {
            forward(x, y, o);
        } catch (IllegalStateException e) {
            throw closedDuring(e, "softmax", "y is", x, "x", o.mask(), "mask", o.bias(), "bias", y, "y");
        }
    }

    private void forward(Matrix x, Matrix y, SoftmaxOptions o) {
        boolean f64 = x.dtype() == DType.F64;
        Matrix mask = o.mask();
        Matrix bias = o.bias();
        boolean arr = Elements.arrays(x, y, bias, null);
        Object xb = buf(x, arr);
        Object yb = buf(y, arr);
        Object bb = bias != null ? buf(bias, arr) : null;
        Object mb = mask != null ? ownBuf(mask) : null;
        long xo = base(x, arr);
        long yo = base(y, arr);
        long bo = bias != null ? base(bias, arr) : 0;
        long mo = mask != null ? ownBase(mask) : 0;
        long xs = x.stride();
        long ys = y.stride();
        long bs = bias != null ? bias.stride() : 0;
        long ms = mask != null ? mask.stride() : 0;
        long rows = x.rows();
        long cols = x.cols();
        // EXACT rows go to the scalar kernels, which compute t = x - max and exp in double (one rounding)
        RowKernels rk = o.exact() ? ScalarRowKernels.INSTANCE : k;
        double temp = round(f64, o.temperature());
        double s = round(f64, 1 / temp);
        boolean log = o.log();
        for (long r = 0; r < rows; r++) {
            long xr = xo + r * xs;
            long yr = yo + r * ys;
            Object src = xb;
            long so = xr;
            if (mb != null || bb != null) {
                // z goes into y first (x[j] is read before y[j] is written, so y == x works)
                long mr = mo + r * ms;
                long br = bo + r * bs;
                for (long j = 0; j < cols; j++) {
                    double z;
                    if (mb != null && getByte(mb, mr + j) == 0) {
                        z = Double.NEGATIVE_INFINITY;
                    } else {
                        z = get(xb, f64, xr + j);
                        if (bb != null) {
                            z = round(f64, z + get(bb, f64, br + j));
                        }
                    }
                    set(yb, f64, yr + j, z);
                }
                src = yb;
                so = yr;
            }
            if (log) {
                logSoftmaxRow(rk, f64, src, so, yb, yr, cols, s, temp);
            } else if (o.exact()) {
                exactSoftmaxRow(rk, f64, src, so, yb, yr, cols, s, temp);
            } else {
                softmaxRow(rk, f64, src, so, yb, yr, cols, s, temp);
            }
        }
    }

    @Override
    public void logSumExp(Matrix x, Matrix out) {
        try {
            boolean f64 = x.dtype() == DType.F64;
            boolean arr = Elements.arrays(x, out);
            Object xb = buf(x, arr);
            Object ob = buf(out, arr);
            long xo = base(x, arr);
            long oo = base(out, arr);
            long xs = x.stride();
            for (long r = 0; r < x.rows(); r++) {
                set(ob, f64, oo + r, logSumExpRow(k, f64, xb, xo + r * xs, x.cols()));
            }
        } catch (IllegalStateException e) {
            throw closedDuring(e, "logSumExp", "out is", x, "x", out, "out");
        }
    }

    // ---- backward ------------------------------------------------------------------------------------

    private static final int VJP = 0;
    private static final int LOG_VJP = 1;
    private static final int LOG_JVP = 2;

    @Override
    public void softmaxBackward(Matrix p, Matrix dy, Matrix dx) {
        binary(VJP, p, dy, dx);
    }

    @Override
    public void logSoftmaxBackward(Matrix logp, Matrix dy, Matrix dx) {
        binary(LOG_VJP, logp, dy, dx);
    }

    @Override
    public void logSoftmaxJvp(Matrix logp, Matrix v, Matrix out) {
        binary(LOG_JVP, logp, v, out);
    }

    /** out = f(a, b) per row: the three products with a softmax Jacobian. */
    private void binary(int op, Matrix a, Matrix b, Matrix out) {
        try {
            binaryRows(op, a, b, out);
        } catch (IllegalStateException e) {
            throw op == VJP ? closedDuring(e, "softmaxBackward", "dx is", a, "p", b, "dy", out, "dx")
                    : op == LOG_VJP ? closedDuring(e, "logSoftmaxBackward", "dx is", a, "logp", b, "dy", out, "dx")
                    : closedDuring(e, "logSoftmaxJvp", "out is", a, "logp", b, "v", out, "out");
        }
    }

    private void binaryRows(int op, Matrix a, Matrix b, Matrix out) {
        boolean f64 = a.dtype() == DType.F64;
        boolean arr = Elements.arrays(a, b, out, null);
        Object ab = buf(a, arr);
        Object bb = buf(b, arr);
        Object ob = buf(out, arr);
        long ao = base(a, arr);
        long bo = base(b, arr);
        long oo = base(out, arr);
        long n = a.cols();
        for (long r = 0; r < a.rows(); r++) {
            long ar = ao + r * a.stride();
            long br = bo + r * b.stride();
            long or = oo + r * out.stride();
            switch (op) {
                case VJP -> k.subMul(ab, ar, bb, br, ob, or, f64, n, k.dot(ab, ar, bb, br, f64, n));
                case LOG_VJP -> k.subExp(ab, ar, bb, br, ob, or, f64, n, k.sum(bb, br, f64, n));
                default -> k.shiftScale(bb, br, ob, or, f64, n, 0, 1, k.dotExp(ab, ar, bb, br, f64, n));
            }
        }
    }

    // ---- Jacobians -----------------------------------------------------------------------------------

    @Override
    public void jacobian(Matrix x, Matrix jac, JacobianOptions o) {
        try {
            jacobianRows(x, jac, o);
        } catch (IllegalStateException e) {
            throw closedDuring(e, "jacobian", "jac is", x, "x", jac, "jac");
        }
    }

    private void jacobianRows(Matrix x, Matrix jac, JacobianOptions o) {
        boolean f64 = x.dtype() == DType.F64;
        boolean arr = Elements.arrays(x, jac);
        Object xb = buf(x, arr);
        Object jb = buf(jac, arr);
        long xo = base(x, arr);
        long jo = base(jac, arr);
        long js = jac.stride();
        long n = x.cols();
        boolean log = o.log();
        for (long r = 0; r < x.rows(); r++) {
            long block = jo + r * n * js;
            Object p = xb;
            long po = xo + r * x.stride();
            if (o.fromLogits()) {
                long last = block + (n - 1) * js; // softmax into the last row of this block first
                softmaxRow(k, f64, xb, po, jb, last, n, 1, 1);
                p = jb;
                po = last;
            }
            for (long i = 0; i < n; i++) {
                double pi = get(p, f64, po + i); // read before row n - 1 (p, from logits) is overwritten
                long row = block + i * js;
                // J_ij = p_i (δ_ij − p_j), each entry in the element type's arithmetic: −p_j p_i off the diagonal
                // (bitwise symmetric), p_i (1 − p_i) on it (so p_i = inf gives −inf there, not −inf + inf)
                k.scale(p, po, jb, row, f64, n, log ? -1 : -pi);
                double d = round(f64, 1 - pi);
                set(jb, f64, row + i, log ? d : pi * d);
            }
        }
    }

    @Override
    public void jacobianMatmul(Matrix p, Matrix v, Matrix out, JacobianOptions o) {
        try {
            jacobianProduct(p, v, out, o.log());
        } catch (IllegalStateException e) {
            throw closedDuring(e, "jacobianMatmul", "out is", p, "p", v, "v", out, "out");
        }
    }

    /** Columns per block of the Jacobian product: pᵀV of a block lives in this many local variables. */
    static final int JM_BLOCK = 4;

    /**
     * out = J V = diag(p) V − p (pᵀV), or V − 1 (pᵀV) with log, JM_BLOCK columns at a time: pᵀV of the block
     * is summed in locals (in row order, in double), then the block's outputs are written, so no scratch grows
     * with the column count and every column is done.
     */
    private static void jacobianProduct(Matrix p, Matrix v, Matrix out, boolean log) {
        boolean f64 = p.dtype() == DType.F64;
        boolean arr = Elements.arrays(p, v, out, null);
        Object pb = buf(p, arr);
        Object vb = buf(v, arr);
        Object ob = buf(out, arr);
        long po = base(p, arr);
        long vo = base(v, arr);
        long oo = base(out, arr);
        long vs = v.stride();
        long os = out.stride();
        long n = v.rows();
        long cols = v.cols();
        long c = 0;
        for (; c + JM_BLOCK <= cols; c += JM_BLOCK) {
            double w0 = 0;
            double w1 = 0;
            double w2 = 0;
            double w3 = 0;
            for (long i = 0; i < n; i++) {
                double pi = get(pb, f64, po + i);
                long vi = vo + i * vs + c;
                w0 += pi * get(vb, f64, vi);
                w1 += pi * get(vb, f64, vi + 1);
                w2 += pi * get(vb, f64, vi + 2);
                w3 += pi * get(vb, f64, vi + 3);
            }
            for (long i = 0; i < n; i++) {
                double pi = get(pb, f64, po + i);
                long vi = vo + i * vs + c;
                long oi = oo + i * os + c;
                jmStore(ob, f64, oi, get(vb, f64, vi), pi, w0, log);
                jmStore(ob, f64, oi + 1, get(vb, f64, vi + 1), pi, w1, log);
                jmStore(ob, f64, oi + 2, get(vb, f64, vi + 2), pi, w2, log);
                jmStore(ob, f64, oi + 3, get(vb, f64, vi + 3), pi, w3, log);
            }
        }
        for (; c < cols; c++) {
            double w = 0;
            for (long i = 0; i < n; i++) {
                w += get(pb, f64, po + i) * get(vb, f64, vo + i * vs + c);
            }
            for (long i = 0; i < n; i++) {
                jmStore(ob, f64, oo + i * os + c, get(vb, f64, vo + i * vs + c), get(pb, f64, po + i), w, log);
            }
        }
    }

    private static void jmStore(Object out, boolean f64, long i, double vic, double pi, double w, boolean log) {
        set(out, f64, i, log ? vic - w : pi * vic - pi * w);
    }

    // ---- cross-entropy -------------------------------------------------------------------------------

    @Override
    public void crossEntropy(Matrix logits, Matrix targets, Matrix grad, Matrix loss, CrossEntropyOptions o) {
        try {
            crossEntropyRows(logits, targets, grad, loss, o);
        } catch (IllegalStateException e) {
            throw closedDuring(e, "crossEntropy", grad != null ? "grad and loss are" : "loss is", logits, "logits",
                    targets, "targets", o.weight(), "weight", grad, "grad", loss, "loss");
        }
    }

    private void crossEntropyRows(Matrix logits, Matrix targets, Matrix grad, Matrix loss, CrossEntropyOptions o) {
        boolean f64 = logits.dtype() == DType.F64;
        boolean labels = targets.dtype() == DType.I64;
        Matrix weight = o.weight();
        boolean arr = Elements.arrays(logits, labels ? null : targets, grad, weight) && loss.array() != null;
        Object zb = buf(logits, arr);
        long z0 = base(logits, arr);
        long zs = logits.stride();
        Object tb = labels ? ownBuf(targets) : buf(targets, arr);
        long t0 = labels ? ownBase(targets) : base(targets, arr);
        long ts = targets.stride();
        Object gb = grad != null ? buf(grad, arr) : null;
        long g0 = grad != null ? base(grad, arr) : 0;
        long gs = grad != null ? grad.stride() : 0;
        Object lb = buf(loss, arr);
        long l0 = base(loss, arr);
        Object wb = weight != null ? buf(weight, arr) : null;
        long w0 = weight != null ? base(weight, arr) : 0;
        long rows = logits.rows();
        long n = logits.cols();
        Reduction reduction = o.reduction();
        long ignore = o.ignoreIndex();
        double ls = round(f64, o.labelSmoothing());
        double keep = 1 - ls;     // weight of the given target
        double spread = ls / n;   // what smoothing adds to every class
        double sw = wb != null ? k.sum(wb, w0, f64, n) : n;

        // MEAN's divisor: the counted rows, or with weights the sum of w[label] over them (class labels);
        // the rows (soft targets). A label out of range here (changed after the facade's check) adds no weight:
        // its row is NaN, the other rows keep finite gradients.
        double den = rows;
        if (labels) {
            long count = 0;
            double wsum = 0;
            for (long r = 0; r < rows; r++) {
                long y = getLong(tb, t0 + r);
                if (y != ignore) {
                    count++;
                    if (wb != null) {
                        wsum += y >= 0 && y < n ? get(wb, f64, w0 + y) : 0;
                    }
                }
            }
            den = wb != null ? wsum : count;
        }
        double gscale = reduction != Reduction.MEAN ? 1.0 : den > 0 ? 1.0 / den : wb != null ? Double.NaN : 1.0;
        double total = 0;
        for (long r = 0; r < rows; r++) {
            long zo = z0 + r * zs;
            long go = g0 + r * gs;
            long to = t0 + r * ts;
            long y = labels ? getLong(tb, t0 + r) : -1; // read once: the value this row uses throughout
            double rowLoss;
            if (labels && y == ignore) {
                if (gb != null) {
                    fill(gb, go, f64, n, 0);
                }
                if (reduction == Reduction.NONE) {
                    set(lb, f64, l0 + r, 0);
                }
                continue;
            } else if (labels && (y < 0 || y >= n)) {
                rowLoss = Double.NaN; // changed after the facade's check: never an index out of the row
                if (gb != null) {
                    fill(gb, go, f64, n, Double.NaN);
                }
            } else {
                rowLoss = crossEntropyRow(f64, zb, zo, labels ? null : tb, to, y, gb, go, wb, w0, n, ls, keep,
                        spread, sw, gscale);
            }
            if (reduction == Reduction.NONE) {
                set(lb, f64, l0 + r, rowLoss);
            } else {
                total += rowLoss;
            }
        }
        if (reduction == Reduction.SUM) {
            set(lb, f64, l0, total);
        } else if (reduction == Reduction.MEAN) {
            set(lb, f64, l0, den > 0 ? total / den : Double.NaN);
        }
    }

    /**
     * One counted row: returns its loss Σ_j u_j (lse − z_j) and writes its gradient (p Σu − u) * gscale when
     * g is not null. Class label y (t == null) or target row t; weights w or null; u = w ((1 − s) t + s / n).
     * Everything read from z happens before g (possibly z itself) is written.
     */
    private double crossEntropyRow(boolean f64, Object z, long zo, Object t, long to, long y, Object g, long go,
                                   Object w, long wo, long n, double ls, double keep, double spread, double sw,
                                   double gscale) {
        double tSum; // Σ u
        double tzSum; // Σ u z, terms with u = 0 counting 0
        double wy = 0;
        if (w == null) {
            double sz = ls > 0 ? k.sum(z, zo, f64, n) : 0;
            double givenT;
            double givenTz;
            if (t == null) {
                givenT = 1;
                givenTz = keep != 0 ? get(z, f64, zo + y) : 0;
            } else {
                givenT = k.sum(t, to, f64, n);
                double d = 0;
                if (keep != 0) {
                    for (long j = 0; j < n; j++) {
                        double tj = get(t, f64, to + j);
                        if (tj != 0) {
                            d += tj * get(z, f64, zo + j);
                        }
                    }
                }
                givenTz = d;
            }
            tSum = keep * givenT + ls;
            tzSum = (keep != 0 ? keep * givenTz : 0) + (ls > 0 ? spread * sz : 0);
        } else if (t == null) {
            wy = get(w, f64, wo + y);
            double uy = keep * wy;
            double wz = 0;
            if (ls > 0) {
                for (long j = 0; j < n; j++) {
                    double wj = get(w, f64, wo + j);
                    if (wj != 0) {
                        wz += wj * get(z, f64, zo + j);
                    }
                }
            }
            tSum = uy + spread * sw;
            tzSum = (uy != 0 ? uy * get(z, f64, zo + y) : 0) + (ls > 0 ? spread * wz : 0);
        } else {
            double wt = 0;
            double wtz = 0;
            double wz = 0;
            for (long j = 0; j < n; j++) {
                double wj = get(w, f64, wo + j);
                double wtj = wj * get(t, f64, to + j);
                double zj = get(z, f64, zo + j);
                wt += wtj;
                if (wtj != 0) {
                    wtz += wtj * zj;
                }
                if (wj != 0) {
                    wz += wj * zj;
                }
            }
            tSum = keep * wt + spread * sw;
            tzSum = (keep != 0 ? keep * wtz : 0) + (ls > 0 ? spread * wz : 0);
        }

        double m = k.rmax(z, f64, zo, n);
        long kind = classify(z, zo, f64, n, m);
        double sum = 1;
        if (kind == FINITE) {
            sum = g != null ? k.expSumStore(z, zo, g, go, f64, n, m, 1) : k.expSum(z, zo, f64, n, m, 1);
            if (Double.isNaN(sum)) {
                kind = NAN;
            }
        }
        int c = (int) (kind & 3);
        double rowLoss;
        if (c == FINITE) {
            rowLoss = tSum * (m + Math.log(sum)) - tzSum;
        } else if (c == EMPTY) {
            rowLoss = tSum * Double.NEGATIVE_INFINITY - tzSum; // NaN unless the target weights nothing
            if (g != null) {
                fill(g, go, f64, n, 0);
            }
        } else if (c == PINF) {
            rowLoss = infiniteRowLoss(f64, z, zo, t, to, y, w, wo, n, keep, spread, kind >>> 2);
            if (g != null) {
                special(kind, z, zo, g, go, f64, n, false);
            }
        } else {
            rowLoss = Double.NaN;
            if (g != null) {
                fill(g, go, f64, n, Double.NaN);
            }
        }
        if (g != null && c != NAN) {
            // g holds e with softmax = e / sum; make it (p Σu − u) * gscale
            if (t == null) {
                if (w == null) {
                    k.shiftScale(g, go, g, go, f64, n, 0, round(f64, gscale / sum), round(f64, gscale * spread));
                    set(g, f64, go + y, get(g, f64, go + y) - round(f64, gscale * keep));
                } else {
                    k.axpbyc(g, go, w, wo, g, go, f64, n, round(f64, gscale * tSum / sum), round(f64, gscale * spread), 0);
                    set(g, f64, go + y, get(g, f64, go + y) - round(f64, gscale * keep * wy));
                }
            } else if (w == null) {
                k.axpbyc(g, go, t, to, g, go, f64, n, round(f64, gscale * tSum / sum), round(f64, gscale * keep),
                        round(f64, gscale * spread));
            } else {
                double a = round(f64, gscale * tSum / sum);
                for (long j = 0; j < n; j++) {
                    double u = get(w, f64, wo + j) * (keep * get(t, f64, to + j) + spread);
                    set(g, f64, go + j, get(g, f64, go + j) * a - u * gscale);
                }
            }
        }
        return rowLoss;
    }

    /**
     * The loss of a row with kinf logits at +inf (and no NaN), as the limit where they grow together:
     * lse − z_j → log kinf on them and +inf off them, so Σ_{j at +inf} u_j log kinf + Σ_{j off, u_j != 0} u_j ∞
     * (+inf if some u_j > 0 off them; NaN if a target is NaN or targets of both signs are off them).
     */
    private static double infiniteRowLoss(boolean f64, Object z, long zo, Object t, long to, long y, Object w,
                                          long wo, long n, double keep, double spread, long kinf) {
        double on = 0;
        double off = 0;
        for (long j = 0; j < n; j++) {
            double tj = t == null ? (j == y ? 1 : 0) : get(t, f64, to + j);
            double u = (w == null ? 1 : get(w, f64, wo + j)) * (keep * tj + spread);
            if (get(z, f64, zo + j) == Double.POSITIVE_INFINITY) {
                on += u;
            } else if (u != 0) {
                off += u * Double.POSITIVE_INFINITY;
            }
        }
        return on * Math.log(kinf) + off;
    }

    // ---- one-row shortcuts ---------------------------------------------------------------------------

    @Override
    public void softmaxRow(boolean log, float[] x, float[] y) {
        if (log) {
            logSoftmaxRow(k, false, x, 0, y, 0, x.length, 1, 1);
        } else {
            softmaxRow(k, false, x, 0, y, 0, x.length, 1, 1);
        }
    }

    @Override
    public void softmaxRow(boolean log, double[] x, double[] y) {
        if (log) {
            logSoftmaxRow(k, true, x, 0, y, 0, x.length, 1, 1);
        } else {
            softmaxRow(k, true, x, 0, y, 0, x.length, 1, 1);
        }
    }

    @Override
    public void softmaxBackwardRow(float[] p, float[] dy, float[] dx) {
        int n = p.length;
        k.subMul(p, 0, dy, 0, dx, 0, false, n, k.dot(p, 0, dy, 0, false, n));
    }

    @Override
    public void softmaxBackwardRow(double[] p, double[] dy, double[] dx) {
        int n = p.length;
        k.subMul(p, 0, dy, 0, dx, 0, true, n, k.dot(p, 0, dy, 0, true, n));
    }
}
