package org.panmax.internal;

import java.lang.foreign.MemorySegment;

/**
 * The internal SPI every backend implements: native (one instance per ISA), pure-Java scalar and
 * pure-Java Vector API. The public facade ({@code org.panmax.Panmax}) has already validated every
 * argument before it calls here, so implementations only {@code assert}.
 *
 * <p>Conventions shared by all methods (they mirror {@code native/include/panmax.h}):
 * <ul>
 *   <li>A matrix argument is a buffer, an element offset into it and a row stride in elements:
 *       element (r, j) of x is at element index {@code xOff + r * xStride + j} of {@code x}.
 *       A buffer is a {@link MemorySegment} (heap or native) or, from the facade's array overloads,
 *       the caller's {@code float[]}/{@code double[]}/{@code long[]}/{@code byte[]} itself, not yet
 *       wrapped: a backend wraps it where it uses it (NativeKernels next to its downcall, the Java
 *       backends with {@link #segment}). A wrapper made by the facade and passed down here escapes
 *       whenever one method on the way is not inlined (C2 refuses a callee it has already compiled
 *       on its own into more than InlineSmallCode bytes, which depends on compile order), and then
 *       costs 72 bytes per array per call; made next to the native downcall, whose linkage is always
 *       inlined, escape analysis removes it. (The Java backends' row kernels are compiled on their
 *       own, so their wrappers do escape.)</li>
 *   <li>{@code f64} selects double elements; otherwise float.</li>
 *   <li>In-place use follows the header: an output may be the same segment region as an input
 *       with the same stride where documented.</li>
 *   <li>Non-finite rules are the header's: NaN poisons its row only; an all -inf (or fully
 *       masked) row gives softmax 0 and log-softmax/logsumexp -inf; k entries at +inf share the
 *       mass (1/k), log-softmax -log(k) there and -inf elsewhere, logsumexp +inf.</li>
 * </ul>
 */
public interface Kernels {

    /** Flags, identical to the C enum {@code panmax_flags}. */
    int FLAG_LOG = 1;
    int FLAG_EXACT = 2;
    int FLAG_FROM_LOGITS = 4;

    /** Reductions, identical to the C enum {@code panmax_reduction}. */
    int REDUCTION_NONE = 0;
    int REDUCTION_SUM = 1;
    int REDUCTION_MEAN = 2;

    /** Stable name: "native-avx512", "native-avx2", "native-scalar", "java-vector", "java-scalar". */
    String name();

    /** y = softmax(x) per row. */
    void softmax(boolean f64, Object x, long xOff, long xStride,
                 Object y, long yOff, long yStride, long rows, long cols);

    /** y = log_softmax(x) per row. */
    void logSoftmax(boolean f64, Object x, long xOff, long xStride,
                    Object y, long yOff, long yStride, long rows, long cols);

    /** out[outOff + r] = logsumexp(x[r, :]). */
    void logSumExp(boolean f64, Object x, long xOff, long xStride,
                   Object out, long outOff, long rows, long cols);

    /**
     * The general forward (see {@code panmax_softmax_ex_*}): z = x + bias where mask != 0, -inf
     * where mask == 0 (x not read there); y = softmax(z / temperature), or log-softmax with
     * FLAG_LOG. mask (bytes) and bias (same dtype as x) may be null; their stride may be 0
     * (one row broadcast to all rows). FLAG_EXACT asks for the extra-precision path (Java
     * backends may already be exact).
     */
    void softmaxEx(boolean f64, Object x, long xOff, long xStride,
                   Object y, long yOff, long yStride, long rows, long cols,
                   double temperature,
                   Object mask, long maskOff, long maskStride,
                   Object bias, long biasOff, long biasStride, int flags);

    /** Softmax VJP (= JVP, J symmetric): dx = p * (dy - dot(p, dy)) per row. */
    void softmaxBackward(boolean f64, Object p, long pOff, long pStride,
                         Object dy, long dyOff, long dyStride,
                         Object dx, long dxOff, long dxStride, long rows, long cols);

    /** Log-softmax VJP: dx = dy - exp(logp) * sum(dy) per row. */
    void logSoftmaxBackward(boolean f64, Object logp, long lOff, long lStride,
                            Object dy, long dyOff, long dyStride,
                            Object dx, long dxOff, long dxStride, long rows, long cols);

    /** Log-softmax JVP: out = v - dot(exp(logp), v) per row. */
    void logSoftmaxJvp(boolean f64, Object logp, long lOff, long lStride,
                       Object v, long vOff, long vStride,
                       Object out, long outOff, long outStride, long rows, long cols);

    /**
     * Per input row r, the cols x cols row-major Jacobian at element jacOff + r*cols*cols:
     * diag(p) - p p^T, or I - 1 p^T with FLAG_LOG; input rows are probabilities, or logits with
     * FLAG_FROM_LOGITS.
     */
    void jacobian(boolean f64, Object x, long xOff, long xStride,
                  Object jac, long jacOff, long rows, long cols, int flags);

    /**
     * out (n x k, row stride outStride) = J V for one probability row p (n elements) and V (n x k,
     * row stride vStride), without forming J. FLAG_LOG: J = I - 1 p^T.
     */
    void jacobianMatmul(boolean f64, Object p, long pOff, long n,
                        Object v, long vOff, long vStride,
                        Object out, long outOff, long outStride, long k, int flags);

    /**
     * Cross-entropy fused with its gradient (see {@code panmax_cross_entropy_*}). Exactly one of
     * labels (int64 class indices, one per row; == ignoreIndex means ignored) and target
     * (probability rows) is non-null. grad may be null. loss receives rows values for
     * REDUCTION_NONE, one for SUM/MEAN. Loss per row = sum(t) * lse - sum(t * z) with t after label
     * smoothing ((1 - s) t + s / cols); grad = p * sum(t) - t, divided by the count for MEAN.
     */
    void crossEntropy(boolean f64, Object logits, long xOff, long xStride,
                      Object labels, long labelsOff,
                      Object target, long tOff, long tStride,
                      Object grad, long gOff, long gStride,
                      Object loss, long lossOff, long rows, long cols,
                      long ignoreIndex, double labelSmoothing, int reduction);
}
