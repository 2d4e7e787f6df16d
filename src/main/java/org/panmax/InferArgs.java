package org.panmax;

import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * The facade's checks of the inference operations (argmax, top-k, sampling, heads), on top of {@link Args}: each
 * failure names the argument, the rule and the values, and every check (data rules included: token ids, banned rows,
 * uniforms) runs before any work, so a rejected call writes nothing.
 */
final class InferArgs {
    private InferArgs() {}

    /** Limit of OpenBLAS's LP64 interface (int dimensions and strides). */
    private static final long INT_MAX = Integer.MAX_VALUE;

    static void argmax(Matrix x, Matrix out) {
        logitsMatrix("x", x);
        Args.usable("out", out);
        Args.type("out", out, DType.I64, "indices");
        Args.vector("out", out, x.rows(), "one index per row of x");
        Args.writable("out", out);
        Args.noOverlap("out", out, "x", x, false);
    }

    static void topK(Matrix x, Matrix indices, Matrix values, TopKOptions o) {
        Objects.requireNonNull(o, "options");
        logitsMatrix("x", x);
        if (o.k() > x.cols()) {
            throw new IllegalArgumentException("options: k = " + o.k() + " must be <= x's cols (" + x.cols() + ")");
        }
        output("indices", indices, DType.I64, x.rows(), o.k(), "I64 indices, x.rows() x k");
        if (values != null) {
            output("values", values, x.dtype(), x.rows(), o.k(), "x's type, x.rows() x k");
            Args.noOverlap("values", values, "indices", indices, false);
        }
        Args.noOverlap("indices", indices, "x", x, false);
        Args.noOverlap("values", values, "x", x, false);
    }

    static void sample(Matrix logits, SampleOutputs out, SampleOptions o) {
        Objects.requireNonNull(out, "outputs");
        Objects.requireNonNull(o, "options");
        logitsMatrix("logits", logits);
        final long rows = logits.rows(), cols = logits.cols();
        final DType t = logits.dtype();
        Matrix tokens = out.tokens(), scores = out.scores(), ti = out.topIndices(), tl = out.topLogprobs();
        Args.usable("tokens", tokens);
        Args.type("tokens", tokens, DType.I64, "token ids");
        Args.vector("tokens", tokens, rows, "one token per row of logits");
        Args.writable("tokens", tokens);
        if (scores != null) {
            output("scores", scores, t, rows, SampleOutputs.SCORES, "the logits' type, rows x 4");
        }
        if (ti != null) {
            if (ti.cols() > cols) {
                throw new IllegalArgumentException("topIndices: " + ti.cols() + " columns, more than the " + cols
                        + " tokens of a row");
            }
            output("topIndices", ti, DType.I64, rows, ti.cols(), "I64, rows x n");
            if (tl != null) {
                output("topLogprobs", tl, t, rows, ti.cols(), "the logits' type, rows x n (n = topIndices' cols)");
            }
        }
        Matrix h = o.history(), bias = o.bias(), mask = o.mask(), seeds = o.seeds(), steps = o.steps(),
                u = o.uniforms();
        if (h != null) {
            Args.usable("history", h);
            Args.type("history", h, DType.I64, "previous token ids");
            Args.shape("history", h, rows, h.cols(), true, "one row of ids per row of logits, or one broadcast row");
        }
        if (bias != null) {
            Args.usable("bias", bias);
            Args.type("bias", bias, t, "logits");
            Args.shape("bias", bias, rows, cols, true, "the logits' shape, or one broadcast row");
        }
        if (mask != null) {
            Args.usable("mask", mask);
            Args.type("mask", mask, DType.U8, "a keep-mask");
            Args.shape("mask", mask, rows, cols, true, "the logits' shape, or one broadcast row");
        }
        vector("seeds", seeds, DType.I64, rows, "one seed per row");
        vector("steps", steps, DType.I64, rows, "one step per row");
        vector("uniforms", u, DType.F64, rows, "one draw in [0, 1) per row");
        if (o.temperature() != 0) {
            Args.temperature(o.temperature(), t);
        }
        // every output against every input and the other outputs (no arrays: a call allocates nothing)
        sampleOutput("tokens", tokens, logits, h, bias, mask, seeds, steps, u);
        sampleOutput("scores", scores, logits, h, bias, mask, seeds, steps, u);
        sampleOutput("topIndices", ti, logits, h, bias, mask, seeds, steps, u);
        sampleOutput("topLogprobs", tl, logits, h, bias, mask, seeds, steps, u);
        Args.noOverlap("scores", scores, "tokens", tokens, false);
        Args.noOverlap("topIndices", ti, "tokens", tokens, false);
        Args.noOverlap("topIndices", ti, "scores", scores, false);
        Args.noOverlap("topLogprobs", tl, "tokens", tokens, false);
        Args.noOverlap("topLogprobs", tl, "scores", scores, false);
        Args.noOverlap("topLogprobs", tl, "topIndices", ti, false);
        // data rules, all read before anything is written
        if (h != null) {
            long hr = h.stride() == 0 ? Math.min(rows, 1) : rows;
            for (long r = 0; r < hr; r++) {
                for (long i = 0; i < h.cols(); i++) {
                    long id = h.segment().getAtIndex(ValueLayout.JAVA_LONG, r * h.stride() + i);
                    if (id < -1 || id >= cols) {
                        throw new IllegalArgumentException("history[" + r + "][" + i + "] = " + id
                                + ": token ids must be in [0, " + cols + ") (or -1 for padding)");
                    }
                }
            }
        }
        if (mask != null) {
            long mr = mask.stride() == 0 ? Math.min(rows, 1) : rows;
            for (long r = 0; r < mr; r++) {
                long base = r * mask.stride(), j = 0;
                while (j < cols && mask.segment().get(ValueLayout.JAVA_BYTE, base + j) == 0) {
                    j++;
                }
                if (j == cols) {
                    throw new IllegalArgumentException("mask: row " + r + " bans every token (all " + cols
                            + " entries 0); a row needs at least one allowed token");
                }
            }
        }
        if (u != null) {
            for (long r = 0; r < rows; r++) {
                double v = u.segment().getAtIndex(ValueLayout.JAVA_DOUBLE, r);
                if (!(v >= 0 && v < 1)) {
                    throw new IllegalArgumentException("uniforms[" + r + "] = " + v + ": a draw must be in [0, 1)");
                }
            }
        }
    }

    static void head(Matrix x, Matrix w, HeadOutputs out, HeadOptions o) {
        Objects.requireNonNull(out, "outputs");
        Objects.requireNonNull(o, "options");
        logitsMatrix("x", x);
        Args.usable("w", w);
        Args.type("w", w, x.dtype(), "x");
        final long rows = x.rows(), d = x.cols();
        final long classes;
        if (o.transposed()) {
            Args.shape("w", w, d, w.cols(), false, "d x K, d being x's cols (options: transposed)");
            classes = w.cols();
        } else {
            Args.shape("w", w, w.rows(), d, false, "K x d, d being x's cols");
            classes = w.rows();
        }
        if (d > INT_MAX || classes > INT_MAX || rows > INT_MAX || x.stride() > INT_MAX || w.stride() > INT_MAX) {
            throw new IllegalArgumentException("x " + rows + " x " + d + " (stride " + x.stride() + ") and w "
                    + w.rows() + " x " + w.cols() + " (stride " + w.stride() + "): dimensions and strides must fit in "
                    + "an int (OpenBLAS's interface)");
        }
        Matrix b = o.bias();
        if (b != null) {
            Args.usable("bias", b);
            Args.type("bias", b, x.dtype(), "x");
            Args.vector("bias", b, classes, "one bias per class");
        }
        Matrix lg = out.logits(), pr = out.probabilities(), ti = out.topIndices(), tv = out.topValues();
        if (lg != null) {
            output("logits", lg, x.dtype(), rows, classes, "x's type, rows x K");
            intStride("logits", lg);
        }
        if (pr != null) {
            output("probabilities", pr, x.dtype(), rows, classes, "x's type, rows x K");
            intStride("probabilities", pr);
        }
        if (ti != null) {
            if (ti.cols() > classes) {
                throw new IllegalArgumentException("topIndices: k = " + ti.cols() + " columns, more than the " + classes
                        + " classes");
            }
            output("topIndices", ti, DType.I64, rows, ti.cols(), "I64, rows x k");
            if (tv != null) {
                output("topValues", tv, x.dtype(), rows, ti.cols(), "x's type, rows x k (k = topIndices' cols)");
            }
        }
        Args.temperature(o.temperature(), x.dtype());
        headOutput("logits", lg, x, w, b);
        headOutput("probabilities", pr, x, w, b);
        headOutput("topIndices", ti, x, w, b);
        headOutput("topValues", tv, x, w, b);
        Args.noOverlap("probabilities", pr, "logits", lg, false);
        Args.noOverlap("topIndices", ti, "logits", lg, false);
        Args.noOverlap("topIndices", ti, "probabilities", pr, false);
        Args.noOverlap("topValues", tv, "logits", lg, false);
        Args.noOverlap("topValues", tv, "probabilities", pr, false);
        Args.noOverlap("topValues", tv, "topIndices", ti, false);
    }

    private static void sampleOutput(String name, Matrix out, Matrix logits, Matrix h, Matrix bias, Matrix mask,
                                     Matrix seeds, Matrix steps, Matrix u) {
        Args.noOverlap(name, out, "logits", logits, false);
        Args.noOverlap(name, out, "history", h, false);
        Args.noOverlap(name, out, "bias", bias, false);
        Args.noOverlap(name, out, "mask", mask, false);
        Args.noOverlap(name, out, "seeds", seeds, false);
        Args.noOverlap(name, out, "steps", steps, false);
        Args.noOverlap(name, out, "uniforms", u, false);
    }

    private static void headOutput(String name, Matrix out, Matrix x, Matrix w, Matrix b) {
        Args.noOverlap(name, out, "x", x, false);
        Args.noOverlap(name, out, "w", w, false);
        Args.noOverlap(name, out, "bias", b, false);
    }

    private static void logitsMatrix(String name, Matrix x) {
        Args.usable(name, x);
        Args.floating(name, x);
        Args.shape(name, x, x.rows(), x.cols(), false, "a matrix");
    }

    private static void output(String name, Matrix m, DType t, long rows, long cols, String what) {
        Args.usable(name, m);
        Args.type(name, m, t, what);
        Args.shape(name, m, rows, cols, false, what);
        Args.writable(name, m);
    }

    private static void vector(String name, Matrix v, DType t, long n, String why) {
        if (v != null) {
            Args.usable(name, v);
            Args.type(name, v, t, why);
            Args.vector(name, v, n, why);
        }
    }

    private static void intStride(String name, Matrix m) {
        if (m.stride() > INT_MAX) {
            throw new IllegalArgumentException(name + ": stride " + m.stride() + " must fit in an int (OpenBLAS)");
        }
    }
}
