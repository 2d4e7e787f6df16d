package org.panmax.internal;

import static java.lang.foreign.MemorySegment.NULL;
import static org.panmax.bindings.panmax_h.*;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.SoftmaxOptions;

/**
 * The native backend for one ISA. Downcalls go through a {@code Linker.Option.critical(true)} handle built
 * from the jextract-generated {@code $address()} and {@code $descriptor()} (jextract cannot emit critical
 * handles itself): no thread-state transition, and heap segments (float[] etc.) reach C without a copy.
 *
 * <p>A critical call keeps its thread in the Java state, so no safepoint (GC, deoptimization, a thread
 * dump) can complete until it returns: fine for the short calls it exists for, a JVM-wide stall for a
 * long one. A call whose work exceeds {@link #CRITICAL_MAX_WORK} elements and whose buffers are all
 * off-heap segments therefore takes the plain jextract function instead (thread in native state,
 * safepoints proceed; its extra transition costs ~10 ns against >= ~10 us of work). Heap memory can
 * only reach C through a critical call, so a long call on arrays or heap segments stays one critical
 * section: pass off-heap segments for big rows in latency-sensitive processes (README, "Safepoints").
 *
 * <p>A view ({@link Matrix}) carries the segment of its first element, built when the view was made, so a call
 * passes it as it is and allocates nothing, whatever C2 inlines. The one-row array shortcuts take their arrays'
 * segments from {@link ArrayWraps}, which keeps the last ones each thread used, so their steady state allocates
 * nothing either, without relying on escape analysis. Arguments were validated by the facade; a non-zero status here means the Java and C checks disagree,
 * which {@link #check} reports as a bug.
 */
public final class NativeKernels implements Kernels {
    private final int isa;
    private final String name;

    NativeKernels(int isa, String name) {
        this.isa = isa;
        this.name = name;
    }

    /** The C enum value of this backend's ISA. */
    public int isa() {
        return isa;
    }

    @Override
    public String name() {
        return name;
    }

    static MethodHandle critical(MemorySegment address, FunctionDescriptor descriptor) {
        return Linker.nativeLinker().downcallHandle(address, descriptor, Linker.Option.critical(true));
    }

    // One handle per entry point, built once. Public so the benchmarks can compare the raw handles.
    public static final MethodHandle SOFTMAX_F32 = critical(panmax_softmax_f32$address(), panmax_softmax_f32$descriptor());
    public static final MethodHandle SOFTMAX_F64 = critical(panmax_softmax_f64$address(), panmax_softmax_f64$descriptor());
    static final MethodHandle LOG_SOFTMAX_F32 = critical(panmax_log_softmax_f32$address(), panmax_log_softmax_f32$descriptor());
    static final MethodHandle LOG_SOFTMAX_F64 = critical(panmax_log_softmax_f64$address(), panmax_log_softmax_f64$descriptor());
    static final MethodHandle LOGSUMEXP_F32 = critical(panmax_logsumexp_f32$address(), panmax_logsumexp_f32$descriptor());
    static final MethodHandle LOGSUMEXP_F64 = critical(panmax_logsumexp_f64$address(), panmax_logsumexp_f64$descriptor());
    static final MethodHandle SOFTMAX_EX_F32 = critical(panmax_softmax_ex_f32$address(), panmax_softmax_ex_f32$descriptor());
    static final MethodHandle SOFTMAX_EX_F64 = critical(panmax_softmax_ex_f64$address(), panmax_softmax_ex_f64$descriptor());
    static final MethodHandle BACKWARD_F32 = critical(panmax_softmax_backward_f32$address(), panmax_softmax_backward_f32$descriptor());
    static final MethodHandle BACKWARD_F64 = critical(panmax_softmax_backward_f64$address(), panmax_softmax_backward_f64$descriptor());
    static final MethodHandle LOG_BACKWARD_F32 = critical(panmax_log_softmax_backward_f32$address(), panmax_log_softmax_backward_f32$descriptor());
    static final MethodHandle LOG_BACKWARD_F64 = critical(panmax_log_softmax_backward_f64$address(), panmax_log_softmax_backward_f64$descriptor());
    static final MethodHandle LOG_JVP_F32 = critical(panmax_log_softmax_jvp_f32$address(), panmax_log_softmax_jvp_f32$descriptor());
    static final MethodHandle LOG_JVP_F64 = critical(panmax_log_softmax_jvp_f64$address(), panmax_log_softmax_jvp_f64$descriptor());
    static final MethodHandle JACOBIAN_F32 = critical(panmax_jacobian_f32$address(), panmax_jacobian_f32$descriptor());
    static final MethodHandle JACOBIAN_F64 = critical(panmax_jacobian_f64$address(), panmax_jacobian_f64$descriptor());
    static final MethodHandle JAC_MATMUL_F32 = critical(panmax_jacobian_matmul_f32$address(), panmax_jacobian_matmul_f32$descriptor());
    static final MethodHandle JAC_MATMUL_F64 = critical(panmax_jacobian_matmul_f64$address(), panmax_jacobian_matmul_f64$descriptor());
    static final MethodHandle CROSS_ENTROPY_F32 = critical(panmax_cross_entropy_ex_f32$address(), panmax_cross_entropy_ex_f32$descriptor());
    static final MethodHandle CROSS_ENTROPY_F64 = critical(panmax_cross_entropy_ex_f64$address(), panmax_cross_entropy_ex_f64$descriptor());

    /**
     * Elements of work (rows x cols; n^2 per Jacobian row; n x k for the Jacobian product) above which
     * a call on off-heap segments leaves the critical path: ~10 us of AVX2 work, ~100 us scalar.
     */
    static final long CRITICAL_MAX_WORK = 1 << 15;

    /** Whether a call of this much work on these views (null: an absent optional one) leaves the critical path. */
    static boolean plain(long work, Matrix a, Matrix b) {
        return work > CRITICAL_MAX_WORK && a.isNative() && b.isNative();
    }

    static boolean plain(long work, Matrix a, Matrix b, Matrix c) {
        return plain(work, a, b) && (c == null || c.isNative());
    }

    static boolean plain(long work, Matrix a, Matrix b, Matrix c, Matrix d) {
        return plain(work, a, b, c) && (d == null || d.isNative());
    }

    private static MemorySegment seg(Matrix m) {
        return m == null ? NULL : m.segment();
    }

    private static long stride(Matrix m) {
        return m == null ? 0 : m.stride();
    }

    static void check(int status, String op) {
        if (status != 0) {
            throw new IllegalStateException("panmax: native " + op + " returned status " + status + " ("
                    + panmax_status_string(status).reinterpret(256).getString(0)
                    + ") for arguments the facade accepted; this is a panmax bug, please report it");
        }
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    @Override
    public void softmax(Matrix x, Matrix y, SoftmaxOptions o) {
        if (!o.isPlain()) {
            softmaxEx(x, y, o);
            return;
        }
        boolean f64 = x.dtype() == DType.F64;
        MemorySegment xs = x.segment(), ys = y.segment();
        long xst = x.stride(), yst = y.stride(), rows = x.rows(), cols = x.cols();
        if (plain(rows * cols, x, y)) {
            softmaxLong(f64, o.log(), xs, xst, ys, yst, rows, cols);
            return;
        }
        int st;
        try {
            if (o.log()) {
                st = f64 ? (int) LOG_SOFTMAX_F64.invokeExact(xs, xst, ys, yst, rows, cols, isa)
                         : (int) LOG_SOFTMAX_F32.invokeExact(xs, xst, ys, yst, rows, cols, isa);
            } else {
                st = f64 ? (int) SOFTMAX_F64.invokeExact(xs, xst, ys, yst, rows, cols, isa)
                         : (int) SOFTMAX_F32.invokeExact(xs, xst, ys, yst, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, o.log() ? "log_softmax" : "softmax");
    }

    /* The long calls (native memory, more than CRITICAL_MAX_WORK elements) go through the generated, non-critical
     * methods, out of line: the public methods stay under C2's inlining limit for hot methods (FreqInlineSize,
     * 325 bytecode bytes; InlineBudgetTest holds them to it), so a call costs no out-of-line hop. */
    private void softmaxLong(boolean f64, boolean log, MemorySegment xs, long xst, MemorySegment ys, long yst,
                             long rows, long cols) {
        int st = log
                ? (f64 ? panmax_log_softmax_f64(xs, xst, ys, yst, rows, cols, isa)
                       : panmax_log_softmax_f32(xs, xst, ys, yst, rows, cols, isa))
                : (f64 ? panmax_softmax_f64(xs, xst, ys, yst, rows, cols, isa)
                       : panmax_softmax_f32(xs, xst, ys, yst, rows, cols, isa));
        check(st, log ? "log_softmax" : "softmax");
    }

    private void softmaxEx(Matrix x, Matrix y, SoftmaxOptions o) {
        boolean f64 = x.dtype() == DType.F64;
        MemorySegment xs = x.segment(), ys = y.segment(), ms = seg(o.mask()), bs = seg(o.bias());
        long xst = x.stride(), yst = y.stride(), mst = stride(o.mask()), bst = stride(o.bias());
        long rows = x.rows(), cols = x.cols();
        int flags = (o.log() ? FLAG_LOG : 0) | (o.exact() ? FLAG_EXACT : 0);
        double t = o.temperature();
        int st;
        try {
            if (plain(rows * cols, x, y, o.mask(), o.bias())) {
                st = f64 ? panmax_softmax_ex_f64(xs, xst, ys, yst, rows, cols, t, ms, mst, bs, bst, flags, isa)
                         : panmax_softmax_ex_f32(xs, xst, ys, yst, rows, cols, (float) t, ms, mst, bs, bst, flags, isa);
            } else {
                st = f64 ? (int) SOFTMAX_EX_F64.invokeExact(xs, xst, ys, yst, rows, cols, t, ms, mst, bs, bst, flags, isa)
                         : (int) SOFTMAX_EX_F32.invokeExact(xs, xst, ys, yst, rows, cols, (float) t, ms, mst, bs, bst,
                                flags, isa);
            }
        } catch (Throwable e) {
            throw rethrow(e);
        }
        check(st, "softmax_ex");
    }

    static final int FLAG_LOG = 1;
    static final int FLAG_EXACT = 2;
    static final int FLAG_FROM_LOGITS = 4;

    @Override
    public void logSumExp(Matrix x, Matrix out) {
        boolean f64 = x.dtype() == DType.F64;
        MemorySegment xs = x.segment(), os = out.segment();
        long xst = x.stride(), rows = x.rows(), cols = x.cols();
        int st;
        try {
            if (plain(rows * cols, x, out)) {
                st = f64 ? panmax_logsumexp_f64(xs, xst, os, rows, cols, isa)
                         : panmax_logsumexp_f32(xs, xst, os, rows, cols, isa);
            } else {
                st = f64 ? (int) LOGSUMEXP_F64.invokeExact(xs, xst, os, rows, cols, isa)
                         : (int) LOGSUMEXP_F32.invokeExact(xs, xst, os, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "logsumexp");
    }

    @Override
    public void softmaxBackward(Matrix p, Matrix dy, Matrix dx) {
        boolean f64 = p.dtype() == DType.F64;
        MemorySegment a = p.segment(), b = dy.segment(), o = dx.segment();
        long as = p.stride(), bs = dy.stride(), os = dx.stride(), rows = p.rows(), cols = p.cols();
        int st;
        try {
            if (plain(rows * cols, p, dy, dx)) {
                st = f64 ? panmax_softmax_backward_f64(a, as, b, bs, o, os, rows, cols, isa)
                         : panmax_softmax_backward_f32(a, as, b, bs, o, os, rows, cols, isa);
            } else {
                st = f64 ? (int) BACKWARD_F64.invokeExact(a, as, b, bs, o, os, rows, cols, isa)
                         : (int) BACKWARD_F32.invokeExact(a, as, b, bs, o, os, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax_backward");
    }

    @Override
    public void logSoftmaxBackward(Matrix logp, Matrix dy, Matrix dx) {
        boolean f64 = logp.dtype() == DType.F64;
        MemorySegment a = logp.segment(), b = dy.segment(), o = dx.segment();
        long as = logp.stride(), bs = dy.stride(), os = dx.stride(), rows = logp.rows(), cols = logp.cols();
        int st;
        try {
            if (plain(rows * cols, logp, dy, dx)) {
                st = f64 ? panmax_log_softmax_backward_f64(a, as, b, bs, o, os, rows, cols, isa)
                         : panmax_log_softmax_backward_f32(a, as, b, bs, o, os, rows, cols, isa);
            } else {
                st = f64 ? (int) LOG_BACKWARD_F64.invokeExact(a, as, b, bs, o, os, rows, cols, isa)
                         : (int) LOG_BACKWARD_F32.invokeExact(a, as, b, bs, o, os, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax_backward");
    }

    @Override
    public void logSoftmaxJvp(Matrix logp, Matrix v, Matrix out) {
        boolean f64 = logp.dtype() == DType.F64;
        MemorySegment a = logp.segment(), b = v.segment(), o = out.segment();
        long as = logp.stride(), bs = v.stride(), os = out.stride(), rows = logp.rows(), cols = logp.cols();
        int st;
        try {
            if (plain(rows * cols, logp, v, out)) {
                st = f64 ? panmax_log_softmax_jvp_f64(a, as, b, bs, o, os, rows, cols, isa)
                         : panmax_log_softmax_jvp_f32(a, as, b, bs, o, os, rows, cols, isa);
            } else {
                st = f64 ? (int) LOG_JVP_F64.invokeExact(a, as, b, bs, o, os, rows, cols, isa)
                         : (int) LOG_JVP_F32.invokeExact(a, as, b, bs, o, os, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax_jvp");
    }

    @Override
    public void jacobian(Matrix x, Matrix jac, JacobianOptions o) {
        boolean f64 = x.dtype() == DType.F64;
        MemorySegment xs = x.segment(), js = jac.segment();
        long xst = x.stride(), rows = x.rows(), cols = x.cols();
        int flags = (o.log() ? FLAG_LOG : 0) | (o.fromLogits() ? FLAG_FROM_LOGITS : 0);
        int st;
        try {
            if (plain(rows * cols * cols, x, jac)) {
                st = f64 ? panmax_jacobian_f64(xs, xst, js, rows, cols, flags, isa)
                         : panmax_jacobian_f32(xs, xst, js, rows, cols, flags, isa);
            } else {
                st = f64 ? (int) JACOBIAN_F64.invokeExact(xs, xst, js, rows, cols, flags, isa)
                         : (int) JACOBIAN_F32.invokeExact(xs, xst, js, rows, cols, flags, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "jacobian");
    }

    @Override
    public void jacobianMatmul(Matrix p, Matrix v, Matrix out, JacobianOptions o) {
        boolean f64 = p.dtype() == DType.F64;
        MemorySegment ps = p.segment(), vs = v.segment(), os = out.segment();
        long n = v.rows(), k = v.cols(), vst = v.stride(), ost = out.stride();
        int flags = o.log() ? FLAG_LOG : 0;
        int st;
        try {
            if (plain(n * k, p, v, out)) {
                st = f64 ? panmax_jacobian_matmul_f64(ps, n, vs, vst, os, ost, k, flags, isa)
                         : panmax_jacobian_matmul_f32(ps, n, vs, vst, os, ost, k, flags, isa);
            } else {
                st = f64 ? (int) JAC_MATMUL_F64.invokeExact(ps, n, vs, vst, os, ost, k, flags, isa)
                         : (int) JAC_MATMUL_F32.invokeExact(ps, n, vs, vst, os, ost, k, flags, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "jacobian_matmul");
    }

    @Override
    public void crossEntropy(Matrix logits, Matrix targets, Matrix grad, Matrix loss, CrossEntropyOptions o) {
        boolean hard = targets.dtype() == DType.I64;
        MemorySegment ls = hard ? targets.segment() : NULL, ts = hard ? NULL : targets.segment();
        long tst = hard ? 0 : targets.stride();
        boolean critical = !(plain(logits.rows() * logits.cols(), logits, targets, grad, loss)
                && (o.weight() == null || o.weight().isNative()));
        int st = crossEntropyCall(critical, logits.dtype() == DType.F64, logits, ls, ts, tst, grad, loss, o);
        if (st != 0) {
            crossEntropyFailed(st, logits.cols());
        }
    }

    private int crossEntropyCall(boolean critical, boolean f64, Matrix x, MemorySegment ls, MemorySegment ts, long tst,
                                 Matrix grad, Matrix loss, CrossEntropyOptions o) {
        MemorySegment xs = x.segment(), ws = seg(o.weight()), gs = seg(grad), los = loss.segment();
        long xst = x.stride(), gst = stride(grad), rows = x.rows(), cols = x.cols(), ignore = o.ignoreIndex();
        double s = o.labelSmoothing();
        int red = o.reduction().ordinal();
        try {
            if (f64) {
                return critical
                        ? (int) CROSS_ENTROPY_F64.invokeExact(xs, xst, ls, ts, tst, ws, gs, gst, los, rows, cols, ignore,
                                s, red, isa)
                        : panmax_cross_entropy_ex_f64(xs, xst, ls, ts, tst, ws, gs, gst, los, rows, cols, ignore, s, red,
                                isa);
            }
            return critical
                    ? (int) CROSS_ENTROPY_F32.invokeExact(xs, xst, ls, ts, tst, ws, gs, gst, los, rows, cols, ignore,
                            (float) s, red, isa)
                    : panmax_cross_entropy_ex_f32(xs, xst, ls, ts, tst, ws, gs, gst, los, rows, cols, ignore, (float) s,
                            red, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    private static void crossEntropyFailed(int st, long cols) {
        if (st == PANMAX_ERR_ARGUMENT()) {
            // The facade checked every label and weight; C read them again and saw one out of its domain, so
            // another thread wrote it in between. C wrote nothing.
            throw new IllegalArgumentException("targets or weight changed during the call (another thread is writing "
                    + "them): a label is outside [0, " + cols + ") or a weight is not finite and >= 0; nothing was written");
        }
        check(st, "cross_entropy");
    }

    // ---- one-row array shortcuts: segments from ArrayWraps (a call on the thread's last arrays allocates nothing)

    @Override
    public void softmaxRow(boolean log, float[] x, float[] y) {
        long n = x.length;
        int st;
        try {
            st = log ? (int) LOG_SOFTMAX_F32.invokeExact(ArrayWraps.of(0, x), n, ArrayWraps.of(1, y), n, 1L, n, isa)
                     : (int) SOFTMAX_F32.invokeExact(ArrayWraps.of(0, x), n, ArrayWraps.of(1, y), n, 1L, n, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, log ? "log_softmax" : "softmax");
    }

    @Override
    public void softmaxRow(boolean log, double[] x, double[] y) {
        long n = x.length;
        int st;
        try {
            st = log ? (int) LOG_SOFTMAX_F64.invokeExact(ArrayWraps.of(0, x), n, ArrayWraps.of(1, y), n, 1L, n, isa)
                     : (int) SOFTMAX_F64.invokeExact(ArrayWraps.of(0, x), n, ArrayWraps.of(1, y), n, 1L, n, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, log ? "log_softmax" : "softmax");
    }

    @Override
    public void softmaxBackwardRow(float[] p, float[] dy, float[] dx) {
        long n = p.length;
        int st;
        try {
            st = (int) BACKWARD_F32.invokeExact(ArrayWraps.of(0, p), n, ArrayWraps.of(1, dy), n,
                    ArrayWraps.of(2, dx), n, 1L, n, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax_backward");
    }

    @Override
    public void softmaxBackwardRow(double[] p, double[] dy, double[] dx) {
        long n = p.length;
        int st;
        try {
            st = (int) BACKWARD_F64.invokeExact(ArrayWraps.of(0, p), n, ArrayWraps.of(1, dy), n,
                    ArrayWraps.of(2, dx), n, 1L, n, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax_backward");
    }
}
