package org.panmax.internal;

import java.lang.foreign.MemorySegment;

/**
 * The internal SPI every backend implements: native (one instance per ISA), pure-Java scalar and
 * pure-Java Vector API. The public facade ({@code org.panmax.Panmax}) has already validated every
 * argument before it calls here, so implementations only {@code assert}.
 *
 * <p>Conventions shared by all methods (they mirror {@code native/include/panmax.h}):
 * <ul>
 *   <li>A matrix argument is a segment, an element offset into it and a row stride in elements:
 *       element (r, j) of x is at element index {@code xOff + r * xStride + j} of {@code x}.
 *       Segments may be heap (float[]/double[]/long[]/byte[] backed) or native.</li>
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
    void softmax(boolean f64, MemorySegment x, long xOff, long xStride,
                 MemorySegment y, long yOff, long yStride, long rows, long cols);

    /** y = log_softmax(x) per row. */
    void logSoftmax(boolean f64, MemorySegment x, long xOff, long xStride,
                    MemorySegment y, long yOff, long yStride, long rows, long cols);

    /** out[outOff + r] = logsumexp(x[r, :]). */
    void logSumExp(boolean f64, MemorySegment x, long xOff, long xStride,
                   MemorySegment out, long outOff, long rows, long cols);

    /**
     * The general forward (see {@code panmax_softmax_ex_*}): z = x + bias where mask != 0, -inf
     * where mask == 0 (x not read there); y = softmax(z / temperature), or log-softmax with
     * FLAG_LOG. mask (bytes) and bias (same dtype as x) may be null; their stride may be 0
     * (one row broadcast to all rows). FLAG_EXACT asks for the extra-precision path (Java
     * backends may already be exact).
     */
    void softmaxEx(boolean f64, MemorySegment x, long xOff, long xStride,
                   MemorySegment y, long yOff, long yStride, long rows, long cols,
                   double temperature,
                   MemorySegment mask, long maskOff, long maskStride,
                   MemorySegment bias, long biasOff, long biasStride, int flags);

    /** Softmax VJP (= JVP, J symmetric): dx = p * (dy - dot(p, dy)) per row. */
    void softmaxBackward(boolean f64, MemorySegment p, long pOff, long pStride,
                         MemorySegment dy, long dyOff, long dyStride,
                         MemorySegment dx, long dxOff, long dxStride, long rows, long cols);

    /** Log-softmax VJP: dx = dy - exp(logp) * sum(dy) per row. */
    void logSoftmaxBackward(boolean f64, MemorySegment logp, long lOff, long lStride,
                            MemorySegment dy, long dyOff, long dyStride,
                            MemorySegment dx, long dxOff, long dxStride, long rows, long cols);

    /** Log-softmax JVP: out = v - dot(exp(logp), v) per row. */
    void logSoftmaxJvp(boolean f64, MemorySegment logp, long lOff, long lStride,
                       MemorySegment v, long vOff, long vStride,
                       MemorySegment out, long outOff, long outStride, long rows, long cols);

    /**
     * Per input row r, the cols x cols row-major Jacobian at element jacOff + r*cols*cols:
     * diag(p) - p p^T, or I - 1 p^T with FLAG_LOG; input rows are probabilities, or logits with
     * FLAG_FROM_LOGITS.
     */
    void jacobian(boolean f64, MemorySegment x, long xOff, long xStride,
                  MemorySegment jac, long jacOff, long rows, long cols, int flags);

    /**
     * out (n x k, row stride outStride) = J V for one probability row p (n elements) and V (n x k,
     * row stride vStride), without forming J. FLAG_LOG: J = I - 1 p^T.
     */
    void jacobianMatmul(boolean f64, MemorySegment p, long pOff, long n,
                        MemorySegment v, long vOff, long vStride,
                        MemorySegment out, long outOff, long outStride, long k, int flags);

    /**
     * Cross-entropy fused with its gradient (see {@code panmax_cross_entropy_*}). Exactly one of
     * labels (int64 class indices, one per row; == ignoreIndex means ignored) and target
     * (probability rows) is non-null. grad may be null. loss receives rows values for
     * REDUCTION_NONE, one for SUM/MEAN. Loss per row = sum(t) * lse - sum(t * z) with t after label
     * smoothing ((1 - s) t + s / cols); grad = p * sum(t) - t, divided by the count for MEAN.
     */
    void crossEntropy(boolean f64, MemorySegment logits, long xOff, long xStride,
                      MemorySegment labels, long labelsOff,
                      MemorySegment target, long tOff, long tStride,
                      MemorySegment grad, long gOff, long gStride,
                      MemorySegment loss, long lossOff, long rows, long cols,
                      long ignoreIndex, double labelSmoothing, int reduction);
}
