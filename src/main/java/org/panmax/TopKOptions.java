package org.panmax;

/**
 * Options of {@link Panmax#topK(Matrix, Matrix, Matrix, TopKOptions)}: how many entries per row, and what to write
 * next to their indices.
 *
 * @param k      entries per row, {@code >= 1} (and at most the row length, checked at the call)
 * @param values what the optional values output holds: the entries themselves, or the row's softmax
 *               (log-softmax) at them
 */
public record TopKOptions(long k, Values values) {
    /** What a top-k call writes next to the indices. */
    public enum Values {
        /** The selected entries as given. */
        LOGITS,
        /** softmax of the whole row, at the selected entries (the rules of softmax for -inf and +inf rows). */
        PROBABILITIES,
        /** log-softmax of the whole row, at the selected entries. */
        LOG_PROBABILITIES
    }

    /**
     * Checks what does not depend on the logits (k against the row length is checked at the call).
     *
     * @throws IllegalArgumentException if {@code k < 1}
     * @throws NullPointerException if {@code values} is null
     */
    public TopKOptions {
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1, was " + k);
        }
        java.util.Objects.requireNonNull(values, "values");
    }

    /**
     * The k best entries and their probabilities.
     *
     * @param k entries per row, {@code >= 1}
     * @return options for the k best entries, writing {@link Values#PROBABILITIES} values
     * @throws IllegalArgumentException if {@code k < 1}
     */
    public static TopKOptions of(long k) {
        return new TopKOptions(k, Values.PROBABILITIES);
    }

    /**
     * A copy that writes these values.
     *
     * @param values what the values output holds, not {@code null}
     * @return a new options object; this one is unchanged
     * @throws NullPointerException if {@code values} is {@code null}
     */
    public TopKOptions withValues(Values values) {
        return new TopKOptions(k, values);
    }
}
