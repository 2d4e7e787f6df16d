package org.panmax.internal;

import org.panmax.HeadOptions;
import org.panmax.HeadOutputs;
import org.panmax.Matrix;
import org.panmax.SampleOptions;
import org.panmax.SampleOutputs;
import org.panmax.TopKOptions;

/**
 * The internal SPI of the inference operations (argmax, top-k, sampling, classifier heads), beside {@link Kernels}:
 * native ({@link NativeInference}, one per ISA) and pure Java ({@link JavaInference}, the reference the determinism
 * tests compare every native ISA with). The facade has validated every argument (types, shapes, overlaps, option
 * domains, token ids, banned rows); implementations only {@code assert}. {@code rows >= 1} here. The shapes and rules
 * are those of the inference section of {@code native/include/panmax.h}.
 */
public interface Inference {

    /** The name of the {@link Kernels} backend this serves ("native-avx2", "java-scalar", ...). */
    String name();

    /** out[r] = the best index of row r (ties to the lowest), -1 for a row with NaN. out: I64 vector of x.rows(). */
    void argmax(Matrix x, Matrix out);

    /** The k best entries of each row: indices (I64, rows x k) and optionally values (x's type, rows x k). */
    void topK(Matrix x, Matrix indices, Matrix values, TopKOptions o);

    /** One token per row of logits (see {@link SampleOptions}). */
    void sample(Matrix logits, SampleOutputs out, SampleOptions o);

    /** softmax((x wᵀ + bias) / T) and/or its top-k (see {@link HeadOptions}). */
    void head(Matrix x, Matrix w, HeadOutputs out, HeadOptions o);
}
