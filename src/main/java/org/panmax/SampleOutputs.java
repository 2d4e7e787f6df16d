package org.panmax;

/**
 * Where {@link Panmax#sample(Matrix, SampleOutputs, SampleOptions)} writes, as views made once and reused.
 *
 * @param tokens      I64 vector of rows: the token of each row, or {@link #NO_TOKEN} for a row that contains NaN
 *                    or has no finite logit left
 * @param scores      optional {@code rows x 4} of the logits' type: columns {@link #PROBABILITY} and
 *                    {@link #LOGPROB} under the filtered distribution (the exact probability the draw used), and
 *                    {@link #RAW_PROBABILITY}, {@link #RAW_LOGPROB} under softmax(z / T) before top-k, top-p and
 *                    min-p (T = 1 when greedy); NaN for a row without a token
 * @param topIndices  optional I64 {@code rows x n}: the n best tokens of each row (what a "logprobs" API returns)
 * @param topLogprobs optional, with topIndices: their raw log-probabilities, {@code rows x n} of the logits' type
 */
public record SampleOutputs(Matrix tokens, Matrix scores, Matrix topIndices, Matrix topLogprobs) {
    /** The token of a row without one. */
    public static final long NO_TOKEN = -1;
    /** Column of {@code scores}: probability under the filtered distribution. */
    public static final int PROBABILITY = 0;
    /** Column of {@code scores}: its log. */
    public static final int LOGPROB = 1;
    /** Column of {@code scores}: probability under softmax(z / T) before the filters. */
    public static final int RAW_PROBABILITY = 2;
    /** Column of {@code scores}: its log. */
    public static final int RAW_LOGPROB = 3;
    /** Columns of {@code scores}. */
    public static final int SCORES = 4;

    /**
     * Checks what does not depend on the logits (types, shapes and overlaps are checked at the call).
     *
     * @throws NullPointerException if {@code tokens} is null
     * @throws IllegalArgumentException if {@code topLogprobs} is given without {@code topIndices}
     */
    public SampleOutputs {
        java.util.Objects.requireNonNull(tokens, "tokens");
        if (topLogprobs != null && topIndices == null) {
            throw new IllegalArgumentException("topLogprobs needs topIndices (the tokens they belong to)");
        }
    }

    /**
     * Tokens only.
     *
     * @param tokens I64 vector with one entry per row, not {@code null}
     * @return outputs writing only the tokens
     * @throws NullPointerException if {@code tokens} is {@code null}
     */
    public static SampleOutputs of(Matrix tokens) {
        return new SampleOutputs(tokens, null, null, null);
    }

    /**
     * A copy that also writes the {@code rows x 4} scores.
     *
     * @param scores {@code rows x 4} of the logits' type, or {@code null}
     * @return a new outputs object; this one is unchanged
     */
    public SampleOutputs withScores(Matrix scores) {
        return new SampleOutputs(tokens, scores, topIndices, topLogprobs);
    }

    /**
     * A copy that also writes the n best tokens and (optionally) their raw log-probabilities.
     *
     * @param topIndices I64 {@code rows x n}, or {@code null}
     * @param topLogprobs {@code rows x n} of the logits' type, or {@code null}; only with topIndices
     * @return a new outputs object; this one is unchanged
     * @throws IllegalArgumentException if {@code topLogprobs} is given without {@code topIndices}
     */
    public SampleOutputs withTop(Matrix topIndices, Matrix topLogprobs) {
        return new SampleOutputs(tokens, scores, topIndices, topLogprobs);
    }
}
