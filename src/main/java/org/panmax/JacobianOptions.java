package org.panmax;

/**
 * Options of {@link Panmax#jacobian} and {@link Panmax#jacobianMatmul}.
 *
 * @param log        the Jacobian of log-softmax, {@code I − 1 pᵀ}, instead of softmax's {@code diag(p) − p pᵀ}
 * @param fromLogits the input rows are logits (softmax is taken first) rather than probabilities
 *                   ({@link Panmax#jacobian} only)
 */
public record JacobianOptions(boolean log, boolean fromLogits) {
    /** Softmax's Jacobian from probability rows. */
    public static final JacobianOptions DEFAULT = new JacobianOptions(false, false);

    /**
     * A copy for log-softmax ({@code true}) or softmax.
     *
     * @param log {@code true} for log-softmax's Jacobian
     * @return a new options object; this one is unchanged
     */
    public JacobianOptions withLog(boolean log) {
        return new JacobianOptions(log, fromLogits);
    }

    /**
     * A copy whose input rows are logits ({@code true}) or probabilities.
     *
     * @param fromLogits {@code true} when the input rows are logits
     * @return a new options object; this one is unchanged
     */
    public JacobianOptions withFromLogits(boolean fromLogits) {
        return new JacobianOptions(log, fromLogits);
    }
}
