package org.panmax;

/**
 * Options of {@link Panmax#head(Matrix, Matrix, HeadOutputs, HeadOptions)}: the head computes
 * {@code z = x wᵀ + bias} and {@code softmax(z / temperature)} (or its logarithm).
 *
 * @param temperature finite and {@code > 0} (at the call: a normal number of x's type)
 * @param bias        optional vector of K class biases of x's type
 * @param transposed  w is {@code d x K} (the layout of a {@code Linear(d, K)} weight stored input-major) instead of
 *                    {@code K x d}
 * @param log         log-probabilities instead of probabilities (in the probabilities and top-k values)
 */
public record HeadOptions(double temperature, Matrix bias, boolean transposed, boolean log) {
    /** Temperature 1, no bias, w of {@code K x d}, probabilities. */
    public static final HeadOptions DEFAULT = new HeadOptions(1, null, false, false);

    /**
     * Checks what does not depend on x (at the call the temperature must also be a normal number of x's type, and
     * the bias a vector of K values of x's type).
     *
     * @throws IllegalArgumentException if {@code temperature} is not finite and {@code > 0}
     */
    public HeadOptions {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, was " + temperature);
        }
    }

    /**
     * A copy with this temperature.
     *
     * @param temperature finite and {@code > 0}
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if {@code temperature} is not finite and {@code > 0}
     */
    public HeadOptions withTemperature(double temperature) {
        return new HeadOptions(temperature, bias, transposed, log);
    }

    /**
     * A copy with this class bias ({@code null}: none).
     *
     * @param bias a vector of K class biases of x's type, or {@code null}
     * @return a new options object; this one is unchanged
     */
    public HeadOptions withBias(Matrix bias) {
        return new HeadOptions(temperature, bias, transposed, log);
    }

    /**
     * A copy for a w of {@code d x K} ({@code true}) or {@code K x d}.
     *
     * @param transposed {@code true} for a w of {@code d x K}
     * @return a new options object; this one is unchanged
     */
    public HeadOptions withTransposed(boolean transposed) {
        return new HeadOptions(temperature, bias, transposed, log);
    }

    /**
     * A copy writing log-probabilities ({@code true}) or probabilities.
     *
     * @param log {@code true} for log-probabilities
     * @return a new options object; this one is unchanged
     */
    public HeadOptions withLog(boolean log) {
        return new HeadOptions(temperature, bias, transposed, log);
    }
}
