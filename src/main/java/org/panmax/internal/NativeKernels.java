package org.panmax.internal;

import static java.lang.foreign.MemorySegment.NULL;
import static org.panmax.bindings.panmax_h.*;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

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
 * section: pass off-heap segments for big rows in latency-sensitive processes (README, "Safepoints"). Arrays from the facade's array overloads arrive unwrapped and are wrapped next to the
 * downcall ({@link #floats} etc.), so that the wrapper never escapes. Arguments were validated by the
 * facade; a non-zero status here means the Java and C checks disagree, which {@link #check} reports as a bug.
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
    static final MethodHandle CROSS_ENTROPY_F32 = critical(panmax_cross_entropy_f32$address(), panmax_cross_entropy_f32$descriptor());
    static final MethodHandle CROSS_ENTROPY_F64 = critical(panmax_cross_entropy_f64$address(), panmax_cross_entropy_f64$descriptor());

    /*
     * The pointer arguments. An array from the facade's array overloads is wrapped here, in the method that
     * makes the downcall, never by a caller: the linkage behind invokeExact is always inlined, so escape
     * analysis removes the wrapper whether or not this method is inlined into the facade. Escape analysis
     * gives up on a wrapper that a phi merges with another object, so nothing here merges one where the
     * branch profile can tell: separate downcall sites for segments (the segment overloads pass only
     * segments) and for arrays (the array overloads pass only arrays); one helper per array type (a shared
     * one would merge a float[] wrapper with a long[] one); an optional argument tested for null at its own
     * call site (a shared test, seeing null for target and an array for grad, would merge the wrapper with
     * NULL; the casts matter there: a conditional passed to invokeExact is otherwise typed Object). What is
     * left: a process that passes arrays of one type at element offsets both 0 and not 0 merges their
     * wrappers with their slices; one that also passes segments to the same entry point shares the JDK's
     * downcall stub profile with them (the heap session, 32 B per call, then escapes).
     */
    /**
     * Elements of work (rows x cols; n^2 per Jacobian row; n x k for the Jacobian product) above which
     * a call on off-heap segments leaves the critical path: ~10 us of AVX2 work, ~100 us scalar.
     */
    static final long CRITICAL_MAX_WORK = 1 << 15;

    /** Whether a call of this much work on these segments (NULL for an absent optional one) leaves the critical path. */
    static boolean plain(long work, MemorySegment a, MemorySegment b) {
        return work > CRITICAL_MAX_WORK && a.isNative() && b.isNative();
    }

    static boolean plain(long work, MemorySegment a, MemorySegment b, MemorySegment c) {
        return plain(work, a, b) && c.isNative();
    }

    static boolean plain(long work, MemorySegment a, MemorySegment b, MemorySegment c, MemorySegment d) {
        return plain(work, a, b, c) && d.isNative();
    }

    static boolean plain(long work, MemorySegment a, MemorySegment b, MemorySegment c, MemorySegment d,
                                 MemorySegment e) {
        return plain(work, a, b, c, d) && e.isNative();
    }

    private static MemorySegment floats(Object s, long off) {
        MemorySegment m = MemorySegment.ofArray((float[]) s);
        return off == 0 ? m : m.asSlice(off * 4);
    }

    private static MemorySegment doubles(Object s, long off) {
        MemorySegment m = MemorySegment.ofArray((double[]) s);
        return off == 0 ? m : m.asSlice(off * 8);
    }

    private static MemorySegment longs(Object s, long off) {
        MemorySegment m = MemorySegment.ofArray((long[]) s);
        return off == 0 ? m : m.asSlice(off * 8);
    }

    private static MemorySegment bytes(Object s, long off) {
        MemorySegment m = MemorySegment.ofArray((byte[]) s);
        return off == 0 ? m : m.asSlice(off);
    }

    private static MemorySegment seg(Object s, long elementOffset, long elementBytes) {
        MemorySegment m = (MemorySegment) s;
        return elementOffset == 0 ? m : m.asSlice(elementOffset * elementBytes);
    }

    static void check(int status, String op) {
        if (status != 0) {
            throw new IllegalStateException("panmax: native " + op + " returned status " + status + " ("
                    + panmax_status_string(status).reinterpret(256).getString(0)
                    + ") for arguments the facade accepted; this is a panmax bug, please report it");
        }
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    @Override
    public void softmax(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                        long rows, long cols) {
        int st;
        try {
            if (x instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment xs = seg(x, xOff, es), ys = seg(y, yOff, es);
                if (plain(rows * cols, xs, ys)) {
                    st = f64 ? panmax_softmax_f64(xs, xStride, ys, yStride, rows, cols, isa)
                             : panmax_softmax_f32(xs, xStride, ys, yStride, rows, cols, isa);
                } else {
                    st = f64 ? (int) SOFTMAX_F64.invokeExact(xs, xStride, ys, yStride, rows, cols, isa)
                             : (int) SOFTMAX_F32.invokeExact(xs, xStride, ys, yStride, rows, cols, isa);
                }
            } else {
                st = f64 ? (int) SOFTMAX_F64.invokeExact(doubles(x, xOff), xStride, doubles(y, yOff), yStride, rows, cols, isa)
                         : (int) SOFTMAX_F32.invokeExact(floats(x, xOff), xStride, floats(y, yOff), yStride, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax");
    }

    @Override
    public void logSoftmax(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                           long rows, long cols) {
        int st;
        try {
            if (x instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment xs = seg(x, xOff, es), ys = seg(y, yOff, es);
                if (plain(rows * cols, xs, ys)) {
                    st = f64 ? panmax_log_softmax_f64(xs, xStride, ys, yStride, rows, cols, isa)
                             : panmax_log_softmax_f32(xs, xStride, ys, yStride, rows, cols, isa);
                } else {
                    st = f64 ? (int) LOG_SOFTMAX_F64.invokeExact(xs, xStride, ys, yStride, rows, cols, isa)
                             : (int) LOG_SOFTMAX_F32.invokeExact(xs, xStride, ys, yStride, rows, cols, isa);
                }
            } else {
                st = f64 ? (int) LOG_SOFTMAX_F64.invokeExact(doubles(x, xOff), xStride, doubles(y, yOff), yStride, rows, cols, isa)
                         : (int) LOG_SOFTMAX_F32.invokeExact(floats(x, xOff), xStride, floats(y, yOff), yStride, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax");
    }

    @Override
    public void logSumExp(boolean f64, Object x, long xOff, long xStride, Object out, long outOff,
                          long rows, long cols) {
        int st;
        try {
            if (x instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment xs = seg(x, xOff, es), os = seg(out, outOff, es);
                if (plain(rows * cols, xs, os)) {
                    st = f64 ? panmax_logsumexp_f64(xs, xStride, os, rows, cols, isa)
                             : panmax_logsumexp_f32(xs, xStride, os, rows, cols, isa);
                } else {
                    st = f64 ? (int) LOGSUMEXP_F64.invokeExact(xs, xStride, os, rows, cols, isa)
                             : (int) LOGSUMEXP_F32.invokeExact(xs, xStride, os, rows, cols, isa);
                }
            } else {
                st = f64 ? (int) LOGSUMEXP_F64.invokeExact(doubles(x, xOff), xStride, doubles(out, outOff), rows, cols, isa)
                         : (int) LOGSUMEXP_F32.invokeExact(floats(x, xOff), xStride, floats(out, outOff), rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "logsumexp");
    }

    @Override
    public void softmaxEx(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                          long rows, long cols, double temperature, Object mask, long maskOff, long maskStride,
                          Object bias, long biasOff, long biasStride, int flags) {
        int st;
        try {
            if (x instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment xs = seg(x, xOff, es), ys = seg(y, yOff, es);
                MemorySegment ms = mask == null ? NULL : seg(mask, maskOff, 1);
                MemorySegment bs = bias == null ? NULL : seg(bias, biasOff, es);
                if (plain(rows * cols, xs, ys, ms, bs)) {
                    st = f64 ? panmax_softmax_ex_f64(xs, xStride, ys, yStride, rows, cols, temperature, ms, maskStride,
                                    bs, biasStride, flags, isa)
                             : panmax_softmax_ex_f32(xs, xStride, ys, yStride, rows, cols, (float) temperature, ms,
                                    maskStride, bs, biasStride, flags, isa);
                } else {
                    st = f64 ? (int) SOFTMAX_EX_F64.invokeExact(xs, xStride, ys, yStride, rows, cols, temperature, ms,
                                    maskStride, bs, biasStride, flags, isa)
                             : (int) SOFTMAX_EX_F32.invokeExact(xs, xStride, ys, yStride, rows, cols, (float) temperature,
                                    ms, maskStride, bs, biasStride, flags, isa);
                }
            } else {
                st = f64 ? (int) SOFTMAX_EX_F64.invokeExact(doubles(x, xOff), xStride, doubles(y, yOff), yStride, rows, cols,
                                temperature, (MemorySegment) (mask == null ? NULL : bytes(mask, maskOff)), maskStride,
                                (MemorySegment) (bias == null ? NULL : doubles(bias, biasOff)), biasStride, flags, isa)
                         : (int) SOFTMAX_EX_F32.invokeExact(floats(x, xOff), xStride, floats(y, yOff), yStride, rows, cols,
                                (float) temperature, (MemorySegment) (mask == null ? NULL : bytes(mask, maskOff)), maskStride,
                                (MemorySegment) (bias == null ? NULL : floats(bias, biasOff)), biasStride, flags, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax_ex");
    }

    @Override
    public void softmaxBackward(boolean f64, Object p, long pOff, long pStride, Object dy, long dyOff,
                                long dyStride, Object dx, long dxOff, long dxStride, long rows, long cols) {
        int st;
        try {
            if (p instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment ps = seg(p, pOff, es), dys = seg(dy, dyOff, es), dxs = seg(dx, dxOff, es);
                if (plain(rows * cols, ps, dys, dxs)) {
                    st = f64 ? panmax_softmax_backward_f64(ps, pStride, dys, dyStride, dxs, dxStride, rows, cols, isa)
                             : panmax_softmax_backward_f32(ps, pStride, dys, dyStride, dxs, dxStride, rows, cols, isa);
                } else {
                    st = f64 ? (int) BACKWARD_F64.invokeExact(ps, pStride, dys, dyStride, dxs, dxStride, rows, cols, isa)
                             : (int) BACKWARD_F32.invokeExact(ps, pStride, dys, dyStride, dxs, dxStride, rows, cols, isa);
                }
            } else {
                st = f64 ? (int) BACKWARD_F64.invokeExact(doubles(p, pOff), pStride, doubles(dy, dyOff), dyStride,
                                doubles(dx, dxOff), dxStride, rows, cols, isa)
                         : (int) BACKWARD_F32.invokeExact(floats(p, pOff), pStride, floats(dy, dyOff), dyStride,
                                floats(dx, dxOff), dxStride, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax_backward");
    }

    @Override
    public void logSoftmaxBackward(boolean f64, Object logp, long lOff, long lStride, Object dy, long dyOff,
                                   long dyStride, Object dx, long dxOff, long dxStride, long rows, long cols) {
        int st;
        try {
            if (logp instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment ls = seg(logp, lOff, es), dys = seg(dy, dyOff, es), dxs = seg(dx, dxOff, es);
                if (plain(rows * cols, ls, dys, dxs)) {
                    st = f64 ? panmax_log_softmax_backward_f64(ls, lStride, dys, dyStride, dxs, dxStride, rows, cols, isa)
                             : panmax_log_softmax_backward_f32(ls, lStride, dys, dyStride, dxs, dxStride, rows, cols, isa);
                } else {
                    st = f64 ? (int) LOG_BACKWARD_F64.invokeExact(ls, lStride, dys, dyStride, dxs, dxStride, rows, cols, isa)
                             : (int) LOG_BACKWARD_F32.invokeExact(ls, lStride, dys, dyStride, dxs, dxStride, rows, cols, isa);
                }
            } else {
                st = f64 ? (int) LOG_BACKWARD_F64.invokeExact(doubles(logp, lOff), lStride, doubles(dy, dyOff), dyStride,
                                doubles(dx, dxOff), dxStride, rows, cols, isa)
                         : (int) LOG_BACKWARD_F32.invokeExact(floats(logp, lOff), lStride, floats(dy, dyOff), dyStride,
                                floats(dx, dxOff), dxStride, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax_backward");
    }

    @Override
    public void logSoftmaxJvp(boolean f64, Object logp, long lOff, long lStride, Object v, long vOff,
                              long vStride, Object out, long outOff, long outStride, long rows, long cols) {
        int st;
        try {
            if (logp instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment ls = seg(logp, lOff, es), vs = seg(v, vOff, es), os = seg(out, outOff, es);
                if (plain(rows * cols, ls, vs, os)) {
                    st = f64 ? panmax_log_softmax_jvp_f64(ls, lStride, vs, vStride, os, outStride, rows, cols, isa)
                             : panmax_log_softmax_jvp_f32(ls, lStride, vs, vStride, os, outStride, rows, cols, isa);
                } else {
                    st = f64 ? (int) LOG_JVP_F64.invokeExact(ls, lStride, vs, vStride, os, outStride, rows, cols, isa)
                             : (int) LOG_JVP_F32.invokeExact(ls, lStride, vs, vStride, os, outStride, rows, cols, isa);
                }
            } else {
                st = f64 ? (int) LOG_JVP_F64.invokeExact(doubles(logp, lOff), lStride, doubles(v, vOff), vStride,
                                doubles(out, outOff), outStride, rows, cols, isa)
                         : (int) LOG_JVP_F32.invokeExact(floats(logp, lOff), lStride, floats(v, vOff), vStride,
                                floats(out, outOff), outStride, rows, cols, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax_jvp");
    }

    @Override
    public void jacobian(boolean f64, Object x, long xOff, long xStride, Object jac, long jacOff,
                         long rows, long cols, int flags) {
        int st;
        try {
            if (x instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment xs = seg(x, xOff, es), js = seg(jac, jacOff, es);
                if (plain(rows * cols * cols, xs, js)) {
                    st = f64 ? panmax_jacobian_f64(xs, xStride, js, rows, cols, flags, isa)
                             : panmax_jacobian_f32(xs, xStride, js, rows, cols, flags, isa);
                } else {
                    st = f64 ? (int) JACOBIAN_F64.invokeExact(xs, xStride, js, rows, cols, flags, isa)
                             : (int) JACOBIAN_F32.invokeExact(xs, xStride, js, rows, cols, flags, isa);
                }
            } else {
                st = f64 ? (int) JACOBIAN_F64.invokeExact(doubles(x, xOff), xStride, doubles(jac, jacOff), rows, cols, flags, isa)
                         : (int) JACOBIAN_F32.invokeExact(floats(x, xOff), xStride, floats(jac, jacOff), rows, cols, flags, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "jacobian");
    }

    @Override
    public void jacobianMatmul(boolean f64, Object p, long pOff, long n, Object v, long vOff, long vStride,
                               Object out, long outOff, long outStride, long k, int flags) {
        int st;
        try {
            if (p instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment ps = seg(p, pOff, es), vs = seg(v, vOff, es), os = seg(out, outOff, es);
                if (plain(n * k, ps, vs, os)) {
                    st = f64 ? panmax_jacobian_matmul_f64(ps, n, vs, vStride, os, outStride, k, flags, isa)
                             : panmax_jacobian_matmul_f32(ps, n, vs, vStride, os, outStride, k, flags, isa);
                } else {
                    st = f64 ? (int) JAC_MATMUL_F64.invokeExact(ps, n, vs, vStride, os, outStride, k, flags, isa)
                             : (int) JAC_MATMUL_F32.invokeExact(ps, n, vs, vStride, os, outStride, k, flags, isa);
                }
            } else {
                st = f64 ? (int) JAC_MATMUL_F64.invokeExact(doubles(p, pOff), n, doubles(v, vOff), vStride,
                                doubles(out, outOff), outStride, k, flags, isa)
                         : (int) JAC_MATMUL_F32.invokeExact(floats(p, pOff), n, floats(v, vOff), vStride,
                                floats(out, outOff), outStride, k, flags, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "jacobian_matmul");
    }

    @Override
    public void crossEntropy(boolean f64, Object logits, long xOff, long xStride, Object labels,
                             long labelsOff, Object target, long tOff, long tStride, Object grad, long gOff,
                             long gStride, Object loss, long lossOff, long rows, long cols, long ignoreIndex,
                             double labelSmoothing, int reduction) {
        int st;
        try {
            if (logits instanceof MemorySegment) {
                int es = f64 ? 8 : 4;
                MemorySegment xs = seg(logits, xOff, es), los = seg(loss, lossOff, es);
                MemorySegment ls = labels == null ? NULL : seg(labels, labelsOff, 8);
                MemorySegment ts = target == null ? NULL : seg(target, tOff, es);
                MemorySegment gs = grad == null ? NULL : seg(grad, gOff, es);
                if (plain(rows * cols, xs, los, ls, ts, gs)) {
                    st = f64 ? panmax_cross_entropy_f64(xs, xStride, ls, ts, tStride, gs, gStride, los, rows, cols,
                                    ignoreIndex, labelSmoothing, reduction, isa)
                             : panmax_cross_entropy_f32(xs, xStride, ls, ts, tStride, gs, gStride, los, rows, cols,
                                    ignoreIndex, (float) labelSmoothing, reduction, isa);
                } else {
                    st = f64 ? (int) CROSS_ENTROPY_F64.invokeExact(xs, xStride, ls, ts, tStride, gs, gStride, los, rows,
                                    cols, ignoreIndex, labelSmoothing, reduction, isa)
                             : (int) CROSS_ENTROPY_F32.invokeExact(xs, xStride, ls, ts, tStride, gs, gStride, los, rows,
                                    cols, ignoreIndex, (float) labelSmoothing, reduction, isa);
                }
            } else {
                st = f64 ? (int) CROSS_ENTROPY_F64.invokeExact(doubles(logits, xOff), xStride,
                                (MemorySegment) (labels == null ? NULL : longs(labels, labelsOff)),
                                (MemorySegment) (target == null ? NULL : doubles(target, tOff)), tStride,
                                (MemorySegment) (grad == null ? NULL : doubles(grad, gOff)), gStride, doubles(loss, lossOff),
                                rows, cols, ignoreIndex, labelSmoothing, reduction, isa)
                         : (int) CROSS_ENTROPY_F32.invokeExact(floats(logits, xOff), xStride,
                                (MemorySegment) (labels == null ? NULL : longs(labels, labelsOff)),
                                (MemorySegment) (target == null ? NULL : floats(target, tOff)), tStride,
                                (MemorySegment) (grad == null ? NULL : floats(grad, gOff)), gStride, floats(loss, lossOff),
                                rows, cols, ignoreIndex, (float) labelSmoothing, reduction, isa);
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "cross_entropy");
    }
}
