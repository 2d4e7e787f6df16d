package org.panmax;

/**
 * Options of the forward pass {@link Panmax#softmax(Matrix, Matrix, SoftmaxOptions)}: with
 * {@code z[r,j] = x[r,j] + bias[r,j]} where {@code mask[r,j] != 0} and {@code z[r,j] = -inf} where
 * {@code mask[r,j] == 0} (x is not read there), the output is {@code softmax(z / temperature)}, or its logarithm
 * with {@code log}.
 *
 * <p>Start from {@link #DEFAULT} (or {@link #LOG}) and change what you need with the {@code with...} methods;
 * keep the result and reuse it: a call allocates nothing.
 *
 * @param temperature finite and positive; at the call it must also be a normal number of the logits' type
 *                    ({@code >= Float.MIN_NORMAL} for {@link DType#F32}). 1 means none. Every finite input and
 *                    temperature gives softmax(z / T) without overflow in z − max.
 * @param mask        optional ({@code null}) keep-mask, {@link DType#U8}, the logits' shape or one row broadcast
 *                    ({@link Matrix#broadcast(long)}); a fully masked row gives probabilities 0 (log: −inf)
 * @param bias        optional ({@code null}) additive bias of the logits' type and shape (or one broadcast row),
 *                    e.g. −inf entries for a causal mask
 * @param log         log-softmax instead of softmax
 * @param exact       carry the rounding error of {@code x − max} into exp: float results within 1 ulp of the
 *                    correctly rounded value, at about 2–3× the time
 */
public record SoftmaxOptions(double temperature, Matrix mask, Matrix bias, boolean log, boolean exact) {
    /** Plain softmax: temperature 1, no mask, no bias. */
    public static final SoftmaxOptions DEFAULT = new SoftmaxOptions(1, null, null, false, false);
    /** Plain log-softmax. */
    public static final SoftmaxOptions LOG = new SoftmaxOptions(1, null, null, true, false);

    /**
     * Checks what does not depend on the logits (the mask's and bias's types and shapes, and the temperature's range
     * in the logits' type, are checked at the call).
     *
     * @throws IllegalArgumentException if {@code temperature} is not finite and {@code > 0}
     */
    public SoftmaxOptions {
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be finite and > 0, was " + temperature);
        }
    }

    /**
     * A copy with this temperature.
     *
     * @param temperature finite and {@code > 0}; 1 means none
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if {@code temperature} is not finite and {@code > 0}
     */
    public SoftmaxOptions withTemperature(double temperature) {
        return new SoftmaxOptions(temperature, mask, bias, log, exact);
    }

    /**
     * A copy with this keep-mask ({@code null}: none).
     *
     * @param mask U8 keep-mask, the logits' shape or one broadcast row, or {@code null}
     * @return a new options object; this one is unchanged
     */
    public SoftmaxOptions withMask(Matrix mask) {
        return new SoftmaxOptions(temperature, mask, bias, log, exact);
    }

    /**
     * A copy with this additive bias ({@code null}: none).
     *
     * @param bias additive bias of the logits' type and shape (or one broadcast row), or {@code null}
     * @return a new options object; this one is unchanged
     */
    public SoftmaxOptions withBias(Matrix bias) {
        return new SoftmaxOptions(temperature, mask, bias, log, exact);
    }

    /**
     * A copy that computes log-softmax ({@code true}) or softmax.
     *
     * @param log {@code true} for log-softmax
     * @return a new options object; this one is unchanged
     */
    public SoftmaxOptions withLog(boolean log) {
        return new SoftmaxOptions(temperature, mask, bias, log, exact);
    }

    /**
     * A copy with the exact (one rounding) path on or off.
     *
     * @param exact {@code true} for the exact path (within 1 ulp, slower)
     * @return a new options object; this one is unchanged
     */
    public SoftmaxOptions withExact(boolean exact) {
        return new SoftmaxOptions(temperature, mask, bias, log, exact);
    }

    /**
     * True when only {@code log} may differ from {@link #DEFAULT}: the plain kernels serve the call.
     *
     * @return whether temperature is 1 and there is no mask, bias or exact path
     */
    public boolean isPlain() {
        return temperature == 1 && mask == null && bias == null && !exact;
    }
}
