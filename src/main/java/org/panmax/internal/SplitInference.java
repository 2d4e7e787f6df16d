package org.panmax.internal;

import static org.panmax.bindings.panmax_h.panmax_head_row_block;

import java.util.concurrent.Executor;
import org.panmax.HeadOptions;
import org.panmax.HeadOutputs;
import org.panmax.Matrix;
import org.panmax.SampleOptions;
import org.panmax.SampleOutputs;
import org.panmax.TopKOptions;

/**
 * The inference operations split by rows across an {@link Executor} (see {@link Split}), bit-identical to the single
 * call: rows are independent, a row's draw depends only on its own seed and step, and head pieces start at multiples
 * of the native gemm row block, so every piece makes the gemm calls the whole would.
 */
public final class SplitInference implements Inference {
    private final Inference inner;
    private final Executor ex;
    private final int tasks;

    public SplitInference(Inference inner, Executor ex, int tasks) {
        this.inner = inner instanceof SplitInference s ? s.inner : inner;
        this.ex = ex;
        this.tasks = tasks;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public void argmax(Matrix x, Matrix out) {
        Split.rows(ex, tasks, x.rows(), x.cols(), 1, (a, b) -> inner.argmax(x.rows(a, b), Split.slice(out, a, b)));
    }

    @Override
    public void topK(Matrix x, Matrix indices, Matrix values, TopKOptions o) {
        Split.rows(ex, tasks, x.rows(), x.cols(), 1, (a, b) -> inner.topK(x.rows(a, b), indices.rows(a, b),
                values == null ? null : values.rows(a, b), o));
    }

    @Override
    public void sample(Matrix logits, SampleOutputs out, SampleOptions o) {
        Split.rows(ex, tasks, logits.rows(), logits.cols(), 1, (a, b) -> {
            SampleOutputs po = new SampleOutputs(Split.slice(out.tokens(), a, b), Split.rows(out.scores(), a, b),
                    Split.rows(out.topIndices(), a, b), Split.rows(out.topLogprobs(), a, b));
            SampleOptions pp = o.rows(a, b);
            inner.sample(logits.rows(a, b), po, pp);
        });
    }

    @Override
    public void head(Matrix x, Matrix w, HeadOutputs out, HeadOptions o) {
        long classes = o.transposed() ? w.cols() : w.rows();
        long align = inner instanceof NativeInference ? panmax_head_row_block() : 1;
        Split.rows(ex, tasks, x.rows(), x.cols() * classes, align, (a, b) -> inner.head(x.rows(a, b), w,
                new HeadOutputs(Split.rows(out.logits(), a, b), Split.rows(out.probabilities(), a, b),
                        Split.rows(out.topIndices(), a, b), Split.rows(out.topValues(), a, b)), o));
    }
}
