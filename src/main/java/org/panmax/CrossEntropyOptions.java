package org.panmax;

import java.util.Objects;

/**
 * Options of {@link Panmax#crossEntropy}: the rules of PyTorch's {@code cross_entropy}.
 *
 * <p>With targets t (a row's one-hot label, or its probability row), smoothed to {@code t' = (1 − s) t + s / cols},
 * and class weights w (all 1 when absent), the effective targets are {@code u_j = w_j t'_j}; the row's loss is
 * {@code Σ_j u_j (logsumexp(z) − z_j)} and its gradient {@code softmax(z) Σ_j u_j − u}.
 *
 * @param reduction      {@link Reduction#NONE} (one loss per row), {@link Reduction#SUM} or {@link Reduction#MEAN}.
 *                       MEAN divides by the sum of {@code w[label]} over the rows counted (class labels; without
 *                       weights, the number of rows not ignored), or by the number of rows (soft targets); an empty
 *                       mean is NaN. The gradient is scaled by the same divisor.
 * @param ignoreIndex    a label equal to it marks a row that has loss 0, gradient 0 and does not count (labels only)
 * @param labelSmoothing s in [0, 1]
 * @param weight         optional ({@code null}) class weights: a vector of {@code cols} values of the logits' type,
 *                       each finite and {@code >= 0}
 */
public record CrossEntropyOptions(Reduction reduction, long ignoreIndex, double labelSmoothing, Matrix weight) {
    /** PyTorch's defaults: MEAN, ignore index −100, no smoothing, no weights. */
    public static final CrossEntropyOptions DEFAULT = new CrossEntropyOptions(Reduction.MEAN, -100, 0, null);

    /**
     * Checks what does not depend on the logits (the weights' type, shape and values are checked at the call).
     *
     * @throws NullPointerException if {@code reduction} is null
     * @throws IllegalArgumentException if {@code labelSmoothing} is not in [0, 1] (NaN included)
     */
    public CrossEntropyOptions {
        Objects.requireNonNull(reduction, "reduction");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) {
            throw new IllegalArgumentException("labelSmoothing must be in [0, 1], was " + labelSmoothing);
        }
    }

    /**
     * A copy with this reduction.
     *
     * @param reduction NONE, SUM or MEAN, not {@code null}
     * @return a new options object; this one is unchanged
     * @throws NullPointerException if {@code reduction} is {@code null}
     */
    public CrossEntropyOptions withReduction(Reduction reduction) {
        return new CrossEntropyOptions(reduction, ignoreIndex, labelSmoothing, weight);
    }

    /**
     * A copy with this ignore index.
     *
     * @param ignoreIndex the label that marks a row as ignored (labels only)
     * @return a new options object; this one is unchanged
     */
    public CrossEntropyOptions withIgnoreIndex(long ignoreIndex) {
        return new CrossEntropyOptions(reduction, ignoreIndex, labelSmoothing, weight);
    }

    /**
     * A copy with this label smoothing.
     *
     * @param labelSmoothing s in [0, 1]
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if {@code labelSmoothing} is not in [0, 1]
     */
    public CrossEntropyOptions withLabelSmoothing(double labelSmoothing) {
        return new CrossEntropyOptions(reduction, ignoreIndex, labelSmoothing, weight);
    }

    /**
     * A copy with these class weights ({@code null}: none).
     *
     * @param weight a vector of {@code cols} class weights of the logits' type, each finite and {@code >= 0};
     *               {@code null}: none
     * @return a new options object; this one is unchanged
     */
    public CrossEntropyOptions withWeight(Matrix weight) {
        return new CrossEntropyOptions(reduction, ignoreIndex, labelSmoothing, weight);
    }
}
