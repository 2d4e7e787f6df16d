package org.panmax.internal;

import org.panmax.CrossEntropyOptions;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.SoftmaxOptions;

/**
 * The internal SPI every backend implements: native (one instance per ISA) and the pure-Java driver
 * ({@link JavaKernels}) over a scalar or a Vector API row-kernel set. It has the shape of the C library: one
 * method per operation, arguments as views ({@link Matrix}) and options records.
 *
 * <p>The facade ({@code org.panmax.Panmax}) has validated every argument before it calls here: element types
 * agree, shapes match, outputs are writable and do not overlap inputs other than exact in-place use, segments
 * are alive and accessible, option values are in their domains. Implementations only {@code assert}.
 *
 * <p>Conventions (the header's, {@code native/include/panmax.h}): element (r, j) of a view is
 * {@code offset + r * stride + j} of its buffer; {@code rows >= 1} here (the facade returns early on 0 rows
 * where nothing is written); vector arguments (logsumexp's out, labels, loss, weights) are contiguous. NaN
 * poisons its row only; an all −inf (or fully masked) row gives softmax 0 and log-softmax/logsumexp −inf; k
 * entries at +inf share the mass (1/k), log-softmax −log k there and −inf elsewhere, logsumexp +inf.
 */
public interface Kernels {

    /** Stable name: "native-avx512", "native-avx2", "native-scalar", "java-vector", "java-scalar". */
    String name();

    /** y = softmax(z / T) (or log-softmax) with z = x + bias where mask != 0, −inf where mask == 0. */
    void softmax(Matrix x, Matrix y, SoftmaxOptions o);

    /** out[r] = logsumexp(x[r, :]); out is a vector of x.rows() elements. */
    void logSumExp(Matrix x, Matrix out);

    /** Softmax VJP (= JVP, J symmetric): dx = p * (dy − ⟨p, dy⟩) per row. */
    void softmaxBackward(Matrix p, Matrix dy, Matrix dx);

    /** Log-softmax VJP: dx = dy − exp(logp) * Σ dy per row. */
    void logSoftmaxBackward(Matrix logp, Matrix dy, Matrix dx);

    /** Log-softmax JVP: out = v − ⟨exp(logp), v⟩ per row. */
    void logSoftmaxJvp(Matrix logp, Matrix v, Matrix out);

    /**
     * Per input row r, the cols x cols Jacobian in rows [r * cols, (r + 1) * cols) of jac (contiguous,
     * x.rows() * x.cols() rows of x.cols()): diag(p) − p pᵀ, or I − 1 pᵀ with log; input rows are
     * probabilities, or logits with fromLogits.
     */
    void jacobian(Matrix x, Matrix jac, JacobianOptions o);

    /** out (n x k) = J V for one probability row p (a vector of n) and V (n x k), without forming J. */
    void jacobianMatmul(Matrix p, Matrix v, Matrix out, JacobianOptions o);

    /**
     * Cross-entropy fused with its gradient. targets is an {@code I64} vector of labels (one per row) or a
     * probability matrix of the logits' shape and type; grad may be null; loss is a vector of rows values
     * (NONE) or one (SUM, MEAN). (rows == 0 never comes here: the facade writes SUM's 0 and MEAN's NaN itself.)
     */
    void crossEntropy(Matrix logits, Matrix targets, Matrix grad, Matrix loss, CrossEntropyOptions o);

    /** One-row shortcuts (no view is made): y = softmax(x) or log_softmax(x) over x.length elements. */
    void softmaxRow(boolean log, float[] x, float[] y);

    /** As {@link #softmaxRow(boolean, float[], float[])}. */
    void softmaxRow(boolean log, double[] x, double[] y);

    /** One-row shortcut: dx = p * (dy − ⟨p, dy⟩) over p.length elements. */
    void softmaxBackwardRow(float[] p, float[] dy, float[] dx);

    /** As {@link #softmaxBackwardRow(float[], float[], float[])}. */
    void softmaxBackwardRow(double[] p, double[] dy, double[] dx);
}
