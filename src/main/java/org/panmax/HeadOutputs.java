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
    /** Checks that something is asked and that topValues comes with topIndices. */
    public HeadOutputs {
        if (logits == null && probabilities == null && topIndices == null) {
            throw new IllegalArgumentException("a head needs at least one output: logits, probabilities or topIndices");
        }
        if (topValues != null && topIndices == null) {
            throw new IllegalArgumentException("topValues needs topIndices (the classes they belong to)");
        }
    }

    /** The full {@code B x K} probabilities only. */
    public static HeadOutputs probabilities(Matrix probabilities) {
        return new HeadOutputs(null, probabilities, null, null);
    }

    /** The top-k only: indices and (optionally, {@code null}) their probabilities. */
    public static HeadOutputs top(Matrix topIndices, Matrix topValues) {
        return new HeadOutputs(null, null, topIndices, topValues);
    }

    /** A copy that also writes the logits. */
    public HeadOutputs withLogits(Matrix logits) {
        return new HeadOutputs(logits, probabilities, topIndices, topValues);
    }

    /** A copy that also writes the probabilities. */
    public HeadOutputs withProbabilities(Matrix probabilities) {
        return new HeadOutputs(logits, probabilities, topIndices, topValues);
    }

    /** A copy that also writes the top-k. */
    public HeadOutputs withTop(Matrix topIndices, Matrix topValues) {
        return new HeadOutputs(logits, probabilities, topIndices, topValues);
    }
}
