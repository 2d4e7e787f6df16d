package org.panmax;

/**
 * Where {@link Panmax#head(Matrix, Matrix, HeadOutputs, HeadOptions)} writes; each output is optional, but not all.
 * When only the top-k is asked, no {@code B x K} matrix is written anywhere (the logits live in cache-sized chunks).
 *
 * @param logits        optional {@code B x K}: {@code x wᵀ + bias}
 * @param probabilities optional {@code B x K}: the (log-)probabilities
 * @param topIndices    optional I64 {@code B x k}: the k best classes, best first, ties to the lowest index
 *                      ({@link SampleOutputs#NO_TOKEN} for a row with NaN)
 * @param topValues     optional, with topIndices: their (log-)probabilities, {@code B x k}
 */
public record HeadOutputs(Matrix logits, Matrix probabilities, Matrix topIndices, Matrix topValues) {
    /**
     * Checks what does not depend on x (types, shapes and overlaps are checked at the call).
     *
     * @throws IllegalArgumentException if logits, probabilities and topIndices are all null, or {@code topValues} is
     *                                  given without {@code topIndices}
     */
    public HeadOutputs {
        if (logits == null && probabilities == null && topIndices == null) {
            throw new IllegalArgumentException("a head needs at least one output: logits, probabilities or topIndices");
        }
        if (topValues != null && topIndices == null) {
            throw new IllegalArgumentException("topValues needs topIndices (the classes they belong to)");
        }
    }

    /**
     * The full {@code B x K} probabilities only.
     *
     * @param probabilities {@code B x K} output of x's type, not {@code null}
     * @return outputs writing only the probabilities
     * @throws IllegalArgumentException if {@code probabilities} is {@code null}
     */
    public static HeadOutputs probabilities(Matrix probabilities) {
        return new HeadOutputs(null, probabilities, null, null);
    }

    /**
     * The top-k only: indices and (optionally, {@code null}) their probabilities.
     *
     * @param topIndices I64 {@code B x k} output, not {@code null}
     * @param topValues {@code B x k} output of x's type, or {@code null}
     * @return outputs writing only the top-k
     * @throws IllegalArgumentException if {@code topIndices} is {@code null} (with or without {@code topValues})
     */
    public static HeadOutputs top(Matrix topIndices, Matrix topValues) {
        return new HeadOutputs(null, null, topIndices, topValues);
    }

    /**
     * A copy that also writes the logits.
     *
     * @param logits {@code B x K} output of x's type, or {@code null}
     * @return a new outputs object; this one is unchanged
     * @throws IllegalArgumentException if {@code logits} is null and nothing else is asked
     */
    public HeadOutputs withLogits(Matrix logits) {
        return new HeadOutputs(logits, probabilities, topIndices, topValues);
    }

    /**
     * A copy that also writes the probabilities.
     *
     * @param probabilities {@code B x K} output of x's type, or {@code null}
     * @return a new outputs object; this one is unchanged
     * @throws IllegalArgumentException if {@code probabilities} is null and nothing else is asked
     */
    public HeadOutputs withProbabilities(Matrix probabilities) {
        return new HeadOutputs(logits, probabilities, topIndices, topValues);
    }

    /**
     * A copy that also writes the top-k.
     *
     * @param topIndices I64 {@code B x k} output, or {@code null}
     * @param topValues {@code B x k} output of x's type, or {@code null}; only with topIndices
     * @return a new outputs object; this one is unchanged
     * @throws IllegalArgumentException if {@code topValues} is given without {@code topIndices}, or nothing is left to
     *                                  write
     */
    public HeadOutputs withTop(Matrix topIndices, Matrix topValues) {
        return new HeadOutputs(logits, probabilities, topIndices, topValues);
    }
}
