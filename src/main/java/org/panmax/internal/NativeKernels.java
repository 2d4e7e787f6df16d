package org.panmax.internal;

import static org.panmax.bindings.panmax_h.*;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * The native backend for one ISA. Every downcall goes through a {@code Linker.Option.critical(true)}
 * handle built from the jextract-generated {@code $address()} and {@code $descriptor()} (jextract cannot
 * emit critical handles itself): no thread-state transition, and heap segments (float[] etc.) reach C
 * without a copy. Arguments were validated by the facade; a non-zero status here means the Java and C
 * checks disagree, which {@link #check} reports as a bug.
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

    private static MemorySegment at(MemorySegment s, long elementOffset, long elementBytes) {
        return elementOffset == 0 ? s : s.asSlice(elementOffset * elementBytes);
    }

    private static MemorySegment opt(MemorySegment s, long elementOffset, long elementBytes) {
        return s == null ? MemorySegment.NULL : at(s, elementOffset, elementBytes);
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
    public void softmax(boolean f64, MemorySegment x, long xOff, long xStride, MemorySegment y, long yOff, long yStride,
                        long rows, long cols) {
        int st;
        try {
            st = f64 ? (int) SOFTMAX_F64.invokeExact(at(x, xOff, 8), xStride, at(y, yOff, 8), yStride, rows, cols, isa)
                     : (int) SOFTMAX_F32.invokeExact(at(x, xOff, 4), xStride, at(y, yOff, 4), yStride, rows, cols, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax");
    }

    @Override
    public void logSoftmax(boolean f64, MemorySegment x, long xOff, long xStride, MemorySegment y, long yOff, long yStride,
                           long rows, long cols) {
        int st;
        try {
            st = f64 ? (int) LOG_SOFTMAX_F64.invokeExact(at(x, xOff, 8), xStride, at(y, yOff, 8), yStride, rows, cols, isa)
                     : (int) LOG_SOFTMAX_F32.invokeExact(at(x, xOff, 4), xStride, at(y, yOff, 4), yStride, rows, cols, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax");
    }

    @Override
    public void logSumExp(boolean f64, MemorySegment x, long xOff, long xStride, MemorySegment out, long outOff,
                          long rows, long cols) {
        int st;
        try {
            st = f64 ? (int) LOGSUMEXP_F64.invokeExact(at(x, xOff, 8), xStride, at(out, outOff, 8), rows, cols, isa)
                     : (int) LOGSUMEXP_F32.invokeExact(at(x, xOff, 4), xStride, at(out, outOff, 4), rows, cols, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "logsumexp");
    }

    @Override
    public void softmaxEx(boolean f64, MemorySegment x, long xOff, long xStride, MemorySegment y, long yOff, long yStride,
                          long rows, long cols, double temperature, MemorySegment mask, long maskOff, long maskStride,
                          MemorySegment bias, long biasOff, long biasStride, int flags) {
        int st;
        try {
            st = f64 ? (int) SOFTMAX_EX_F64.invokeExact(at(x, xOff, 8), xStride, at(y, yOff, 8), yStride, rows, cols,
                            temperature, opt(mask, maskOff, 1), maskStride, opt(bias, biasOff, 8), biasStride, flags, isa)
                     : (int) SOFTMAX_EX_F32.invokeExact(at(x, xOff, 4), xStride, at(y, yOff, 4), yStride, rows, cols,
                            (float) temperature, opt(mask, maskOff, 1), maskStride, opt(bias, biasOff, 4), biasStride, flags, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax_ex");
    }

    @Override
    public void softmaxBackward(boolean f64, MemorySegment p, long pOff, long pStride, MemorySegment dy, long dyOff,
                                long dyStride, MemorySegment dx, long dxOff, long dxStride, long rows, long cols) {
        int st;
        try {
            st = f64 ? (int) BACKWARD_F64.invokeExact(at(p, pOff, 8), pStride, at(dy, dyOff, 8), dyStride,
                            at(dx, dxOff, 8), dxStride, rows, cols, isa)
                     : (int) BACKWARD_F32.invokeExact(at(p, pOff, 4), pStride, at(dy, dyOff, 4), dyStride,
                            at(dx, dxOff, 4), dxStride, rows, cols, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "softmax_backward");
    }

    @Override
    public void logSoftmaxBackward(boolean f64, MemorySegment logp, long lOff, long lStride, MemorySegment dy, long dyOff,
                                   long dyStride, MemorySegment dx, long dxOff, long dxStride, long rows, long cols) {
        int st;
        try {
            st = f64 ? (int) LOG_BACKWARD_F64.invokeExact(at(logp, lOff, 8), lStride, at(dy, dyOff, 8), dyStride,
                            at(dx, dxOff, 8), dxStride, rows, cols, isa)
                     : (int) LOG_BACKWARD_F32.invokeExact(at(logp, lOff, 4), lStride, at(dy, dyOff, 4), dyStride,
                            at(dx, dxOff, 4), dxStride, rows, cols, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax_backward");
    }

    @Override
    public void logSoftmaxJvp(boolean f64, MemorySegment logp, long lOff, long lStride, MemorySegment v, long vOff,
                              long vStride, MemorySegment out, long outOff, long outStride, long rows, long cols) {
        int st;
        try {
            st = f64 ? (int) LOG_JVP_F64.invokeExact(at(logp, lOff, 8), lStride, at(v, vOff, 8), vStride,
                            at(out, outOff, 8), outStride, rows, cols, isa)
                     : (int) LOG_JVP_F32.invokeExact(at(logp, lOff, 4), lStride, at(v, vOff, 4), vStride,
                            at(out, outOff, 4), outStride, rows, cols, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "log_softmax_jvp");
    }

    @Override
    public void jacobian(boolean f64, MemorySegment x, long xOff, long xStride, MemorySegment jac, long jacOff,
                         long rows, long cols, int flags) {
        int st;
        try {
            st = f64 ? (int) JACOBIAN_F64.invokeExact(at(x, xOff, 8), xStride, at(jac, jacOff, 8), rows, cols, flags, isa)
                     : (int) JACOBIAN_F32.invokeExact(at(x, xOff, 4), xStride, at(jac, jacOff, 4), rows, cols, flags, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "jacobian");
    }

    @Override
    public void jacobianMatmul(boolean f64, MemorySegment p, long pOff, long n, MemorySegment v, long vOff, long vStride,
                               MemorySegment out, long outOff, long outStride, long k, int flags) {
        int st;
        try {
            st = f64 ? (int) JAC_MATMUL_F64.invokeExact(at(p, pOff, 8), n, at(v, vOff, 8), vStride,
                            at(out, outOff, 8), outStride, k, flags, isa)
                     : (int) JAC_MATMUL_F32.invokeExact(at(p, pOff, 4), n, at(v, vOff, 4), vStride,
                            at(out, outOff, 4), outStride, k, flags, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "jacobian_matmul");
    }

    @Override
    public void crossEntropy(boolean f64, MemorySegment logits, long xOff, long xStride, MemorySegment labels,
                             long labelsOff, MemorySegment target, long tOff, long tStride, MemorySegment grad, long gOff,
                             long gStride, MemorySegment loss, long lossOff, long rows, long cols, long ignoreIndex,
                             double labelSmoothing, int reduction) {
        int st;
        try {
            st = f64 ? (int) CROSS_ENTROPY_F64.invokeExact(at(logits, xOff, 8), xStride, opt(labels, labelsOff, 8),
                            opt(target, tOff, 8), tStride, opt(grad, gOff, 8), gStride, at(loss, lossOff, 8),
                            rows, cols, ignoreIndex, labelSmoothing, reduction, isa)
                     : (int) CROSS_ENTROPY_F32.invokeExact(at(logits, xOff, 4), xStride, opt(labels, labelsOff, 8),
                            opt(target, tOff, 4), tStride, opt(grad, gOff, 4), gStride, at(loss, lossOff, 4),
                            rows, cols, ignoreIndex, (float) labelSmoothing, reduction, isa);
        } catch (Throwable t) {
            throw rethrow(t);
        }
        check(st, "cross_entropy");
    }
}
