package org.panmax;

/**
 * How {@link Panmax#sample(Matrix, SampleOutputs, SampleOptions)} draws one token per row of logits. The steps run
 * in this order, each optional:
 * <ol>
 *   <li>penalties over the row's previous tokens ({@code history}): for each distinct id with c occurrences
 *       {@code z = x > 0 ? x / repetition : x * repetition}, then {@code z -= c * frequency + presence} (the rules
 *       llama.cpp, Hugging Face and OpenAI use);</li>
 *   <li>{@code z += bias}; {@code z = -inf} where {@code mask == 0} (a ban);</li>
 *   <li>temperature: {@code softmax(z / T)}; {@code T = 0} takes the best token (ties to the lowest index);</li>
 *   <li>top-k; then top-p: the smallest set of the best tokens whose mass reaches p of theirs; then min-p: of those,
 *       the tokens with {@code p_i >= minP * p_max};</li>
 *   <li>the draw, from 64 random bits: Philox4x32-10 keyed by the seed at counter step (per row: {@code seeds},
 *       {@code steps}, else {@link #seed()}, {@link #step()}), or the caller's {@code uniforms}.</li>
 * </ol>
 * <p><b>Determinism.</b> The same logits, options, seed and step give the same token on every backend (native ISAs
 * and pure Java), thread and batch position: weights come from a fixed polynomial exp in the logits' type, are
 * quantised to integers, and every mass is an exact integer sum, so no summation order, vector width or libm can
 * change a decision. The full rule is in {@code native/include/panmax.h} ({@code panmax_sample_f32}).
 *
 * <p>Start from {@link #DEFAULT} (temperature 1, no filter) or {@link #GREEDY} and change what you need; keep the
 * result and reuse it (a decode loop changes only {@link #withStep(long)}, or passes per-row {@code steps}).
 *
 * <p>The settings, each read by the accessor of the same name:
 * <ul>
 *   <li>{@code temperature}: 0 (greedy) or finite and {@code > 0} (at the call: a normal number of the logits' type);</li>
 *   <li>{@code topK}: 0 (off) or {@code >= 1}; {@code >= cols} keeps every token;</li>
 *   <li>{@code topP}: in (0, 1]; 1 is off;</li>
 *   <li>{@code minP}: in [0, 1]; 0 is off;</li>
 *   <li>{@code repetitionPenalty}: finite and {@code > 0}; 1 is off;</li>
 *   <li>{@code presencePenalty}: finite and {@code >= 0}; 0 is off;</li>
 *   <li>{@code frequencyPenalty}: finite and {@code >= 0}; 0 is off;</li>
 *   <li>{@code seed}: Philox key of every row without its own seed;</li>
 *   <li>{@code step}: Philox counter of every row without its own step;</li>
 *   <li>{@code history}: optional I64 previous token ids, {@code rows x H} or one broadcast row; -1 entries are padding, every other id must be in {@code [0, cols)};</li>
 *   <li>{@code bias}: optional additive bias of the logits' type, the logits' shape or one broadcast row;</li>
 *   <li>{@code mask}: optional U8 keep-mask (0 bans), the logits' shape or one broadcast row; a row that bans every token is an error;</li>
 *   <li>{@code seeds}: optional I64 vector, one seed per row;</li>
 *   <li>{@code steps}: optional I64 vector, one step per row;</li>
 *   <li>{@code uniforms}: optional F64 vector of draws in [0, 1), one per row, in place of seeds and steps;</li>
 * </ul>
 */
public final class SampleOptions {
    private final double temperature;
    private final long topK;
    private final double topP;
    private final double minP;
    private final double repetitionPenalty;
    private final double presencePenalty;
    private final double frequencyPenalty;
    private final long seed;
    private final long step;
    private final Matrix history;
    private final Matrix bias;
    private final Matrix mask;
    private final Matrix seeds;
    private final Matrix steps;
    private final Matrix uniforms;

    /** Temperature 1, no penalty and no filter, seed 0, step 0. */
    public static final SampleOptions DEFAULT =
            new SampleOptions(1, 0, 1, 0, 1, 0, 0, 0, 0, null, null, null, null, null, null);
    /** The best token of every row (after penalties, bias and mask). */
    public static final SampleOptions GREEDY = DEFAULT.withTemperature(0);

    /* Not a record: fifteen settings would make its canonical constructor a public fifteen-parameter call. */
    private SampleOptions(double temperature, long topK, double topP, double minP, double repetitionPenalty, double presencePenalty, double frequencyPenalty, long seed, long step, Matrix history, Matrix bias, Matrix mask, Matrix seeds, Matrix steps, Matrix uniforms) {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature must be 0 (greedy) or finite and > 0, was " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be >= 1 (or 0 for off: withoutTopK()), was " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1] (1 is off), was " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("minP must be in [0, 1] (0 is off), was " + minP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            throw new IllegalArgumentException("repetitionPenalty must be finite and > 0 (1 is off), was "
                    + repetitionPenalty);
        }
        if (!(presencePenalty >= 0) || Double.isInfinite(presencePenalty)) {
            throw new IllegalArgumentException("presencePenalty must be finite and >= 0 (0 is off), was "
                    + presencePenalty);
        }
        if (!(frequencyPenalty >= 0) || Double.isInfinite(frequencyPenalty)) {
            throw new IllegalArgumentException("frequencyPenalty must be finite and >= 0 (0 is off), was "
                    + frequencyPenalty);
        }
        if (uniforms != null && (seeds != null || steps != null)) {
            throw new IllegalArgumentException("uniforms replace seeds and steps: give one or the other, not both");
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.minP = minP;
        this.repetitionPenalty = repetitionPenalty;
        this.presencePenalty = presencePenalty;
        this.frequencyPenalty = frequencyPenalty;
        this.seed = seed;
        this.step = step;
        this.history = history;
        this.bias = bias;
        this.mask = mask;
        this.seeds = seeds;
        this.steps = steps;
        this.uniforms = uniforms;
    }

    /**
     * A copy with this temperature (0: greedy).
     *
     * @param temperature 0 (greedy) or finite and {@code > 0}
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if {@code temperature} is negative, NaN or infinite
     */
    public SampleOptions withTemperature(double temperature) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy keeping the k best tokens, {@code k >= 1}.
     *
     * @param k the number of best tokens kept, {@code >= 1}; {@code >= cols} keeps every token
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if {@code k < 1}
     */
    public SampleOptions withTopK(long k) {
        if (k < 1) {
            throw new IllegalArgumentException("topK must be >= 1, was " + k + " (withoutTopK() turns it off)");
        }
        return new SampleOptions(temperature, k, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy without top-k.
     *
     * @return a new options object with {@code topK} 0; this one is unchanged
     */
    public SampleOptions withoutTopK() {
        return new SampleOptions(temperature, 0, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy with top-p (nucleus) p in (0, 1]; 1 turns it off.
     *
     * @param p the probability mass kept, in (0, 1]
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if {@code p} is not in (0, 1]
     */
    public SampleOptions withTopP(double p) {
        return new SampleOptions(temperature, topK, p, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy with min-p in [0, 1]; 0 turns it off.
     *
     * @param minP the minimum probability relative to the best token, in [0, 1]
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if {@code minP} is not in [0, 1]
     */
    public SampleOptions withMinP(double minP) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy with these penalties over {@code history} (repetition 1, presence 0, frequency 0: none).
     *
     * @param history I64 previous token ids, {@code rows x H} or one broadcast row, -1 for padding; {@code null}: none
     * @param repetition repetition penalty, finite and {@code > 0}; 1 is off
     * @param presence presence penalty, finite and {@code >= 0}; 0 is off
     * @param frequency frequency penalty, finite and {@code >= 0}; 0 is off
     * @return a new options object; this one is unchanged
     * @throws IllegalArgumentException if a penalty is out of its range
     */
    public SampleOptions withPenalties(Matrix history, double repetition, double presence, double frequency) {
        return new SampleOptions(temperature, topK, topP, minP, repetition, presence, frequency, seed, step, history,
                bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy with this additive bias ({@code null}: none).
     *
     * @param bias additive bias of the logits' type, the logits' shape or one broadcast row; {@code null}: none
     * @return a new options object; this one is unchanged
     */
    public SampleOptions withBias(Matrix bias) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy with this keep-mask ({@code null}: none).
     *
     * @param mask U8 keep-mask (0 bans), the logits' shape or one broadcast row; {@code null}: none
     * @return a new options object; this one is unchanged
     */
    public SampleOptions withMask(Matrix mask) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy drawing every row from this seed.
     *
     * @param seed the Philox key of every row without its own seed
     * @return a new options object; this one is unchanged
     */
    public SampleOptions withSeed(long seed) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy at this step of the seed.
     *
     * @param step the Philox counter of every row without its own step
     * @return a new options object; this one is unchanged
     */
    public SampleOptions withStep(long step) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, uniforms);
    }

    /**
     * A copy with per-row seeds and steps (I64 vectors; either may be {@code null}: then seed() or step()). It
     * draws from seeds: any uniforms are dropped.
     *
     * @param seeds I64 vector, one seed per row, or {@code null}
     * @param steps I64 vector, one step per row, or {@code null}
     * @return a new options object; this one is unchanged
     */
    public SampleOptions withRowDraws(Matrix seeds, Matrix steps) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, seeds, steps, null);
    }

    /**
     * A copy drawing row r at {@code uniforms[r]} (an F64 vector; each value must be in [0, 1), checked at the call)
     * instead of from a seed: any per-row seeds and steps are dropped.
     *
     * @param uniforms F64 vector of draws in [0, 1), one per row, or {@code null}: draw from seeds
     * @return a new options object; this one is unchanged
     */
    public SampleOptions withUniforms(Matrix uniforms) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, history, bias, mask, null, null, uniforms);
    }

    /**
     * The {@code temperature} setting.
     *
     * @return 0 (greedy) or finite and {@code > 0} (at the call: a normal number of the logits' type)
     */
    public double temperature() {
        return temperature;
    }

    /**
     * The {@code topK} setting.
     *
     * @return 0 (off) or {@code >= 1}; {@code >= cols} keeps every token
     */
    public long topK() {
        return topK;
    }

    /**
     * The {@code topP} setting.
     *
     * @return in (0, 1]; 1 is off
     */
    public double topP() {
        return topP;
    }

    /**
     * The {@code minP} setting.
     *
     * @return in [0, 1]; 0 is off
     */
    public double minP() {
        return minP;
    }

    /**
     * The {@code repetitionPenalty} setting.
     *
     * @return finite and {@code > 0}; 1 is off
     */
    public double repetitionPenalty() {
        return repetitionPenalty;
    }

    /**
     * The {@code presencePenalty} setting.
     *
     * @return finite and {@code >= 0}; 0 is off
     */
    public double presencePenalty() {
        return presencePenalty;
    }

    /**
     * The {@code frequencyPenalty} setting.
     *
     * @return finite and {@code >= 0}; 0 is off
     */
    public double frequencyPenalty() {
        return frequencyPenalty;
    }

    /**
     * The {@code seed} setting.
     *
     * @return Philox key of every row without its own seed
     */
    public long seed() {
        return seed;
    }

    /**
     * The {@code step} setting.
     *
     * @return Philox counter of every row without its own step
     */
    public long step() {
        return step;
    }

    /**
     * The {@code history} setting.
     *
     * @return I64 previous token ids, {@code rows x H} or one broadcast row; -1 entries are padding, every other id must be in {@code [0, cols)}; {@code null} if unset
     */
    public Matrix history() {
        return history;
    }

    /**
     * The {@code bias} setting.
     *
     * @return additive bias of the logits' type, the logits' shape or one broadcast row; {@code null} if unset
     */
    public Matrix bias() {
        return bias;
    }

    /**
     * The {@code mask} setting.
     *
     * @return U8 keep-mask (0 bans), the logits' shape or one broadcast row; a row that bans every token is an error; {@code null} if unset
     */
    public Matrix mask() {
        return mask;
    }

    /**
     * The {@code seeds} setting.
     *
     * @return I64 vector, one seed per row; {@code null} if unset
     */
    public Matrix seeds() {
        return seeds;
    }

    /**
     * The {@code steps} setting.
     *
     * @return I64 vector, one step per row; {@code null} if unset
     */
    public Matrix steps() {
        return steps;
    }

    /**
     * The {@code uniforms} setting.
     *
     * @return F64 vector of draws in [0, 1), one per row, in place of seeds and steps; {@code null} if unset
     */
    public Matrix uniforms() {
        return uniforms;
    }

    /**
     * The options for rows {@code [from, to)} of a batch: the per-row inputs (history, bias, mask, seeds, steps, uniforms) sliced alike, broadcast rows kept. Used to split a batch across threads.
     *
     * @param from first row, inclusive, {@code >= 0}
     * @param to last row, exclusive, {@code from <= to <= rows}
     * @return a new options object for that row range; the scalar settings are shared
     * @throws IndexOutOfBoundsException if {@code [from, to)} is not within the rows of a per-row input
     */
    public SampleOptions rows(long from, long to) {
        return new SampleOptions(temperature, topK, topP, minP, repetitionPenalty, presencePenalty, frequencyPenalty,
                seed, step, org.panmax.internal.Split.rows(history, from, to),
                org.panmax.internal.Split.rows(bias, from, to), org.panmax.internal.Split.rows(mask, from, to),
                org.panmax.internal.Split.slice(seeds, from, to), org.panmax.internal.Split.slice(steps, from, to),
                org.panmax.internal.Split.slice(uniforms, from, to));
    }

    @Override
    public String toString() {
        return "SampleOptions[temperature=" + temperature + ", topK=" + topK + ", topP=" + topP + ", minP=" + minP
                + ", repetition=" + repetitionPenalty + ", presence=" + presencePenalty + ", frequency="
                + frequencyPenalty + ", seed=" + seed + ", step=" + step + "]";
    }
}
