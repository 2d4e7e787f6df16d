package org.panmax;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executor;
import org.panmax.bindings.panmax_h;
import org.panmax.internal.Backends;
import org.panmax.internal.Inference;
import org.panmax.internal.InferenceBackends;
import org.panmax.internal.Kernels;
import org.panmax.internal.NativeBackends;
import org.panmax.internal.SplitInference;
import org.panmax.internal.SplitKernels;

/**
 * The softmax family on one backend, over {@link Matrix} views of heap arrays and {@link java.lang.foreign.MemorySegment}s.
 *
 * <p>Get the fastest backend with {@link #get()}, or a named one with {@link #backend(String)}
 * ({@link #backends()} lists them: {@code native-avx512}, {@code native-avx2}, {@code native-scalar},
 * {@code java-vector}, {@code java-scalar}, those present). Instances are immutable and thread-safe.
 *
 * <p>Every operation has one shape: its arguments are views, its options a record. A view is made once per
 * buffer and reused; an options record likewise; a call then allocates nothing.
 * <pre>{@code
 * Panmax pm = Panmax.get();
 * Matrix x = Matrix.of(logits, 256, 1000), y = Matrix.of(probs, 256, 1000);
 * pm.softmax(x, y);                                                    // 256 rows of 1000
 * pm.softmax(x, y, SoftmaxOptions.DEFAULT.withTemperature(0.7).withMask(mask));
 * pm.crossEntropy(x, Matrix.of(labels), grad, Matrix.of(loss), CrossEntropyOptions.DEFAULT);
 * pm.softmax(row, out);                                                // one float[] row, no view
 * }</pre>
 *
 * <p>Every call checks all its arguments before any work and throws, writing nothing, when one breaks a rule:
 * {@link NullPointerException} (a required argument is null), {@link IllegalStateException} (a segment's arena is
 * closed or the segment is confined to another thread), {@link IllegalArgumentException} (an element type, shape,
 * read-only output, overlap, temperature, label or weight rule). Messages name the argument, the rule and the
 * values. (Bounds and alignment were checked when the views were made.)
 *
 * <p>Non-finite logits (identical on every backend): NaN poisons its row only; a row of all −inf (or fully masked)
 * gives softmax 0 and log-softmax/logsumexp −inf; k entries at +inf share the mass (1/k each; log-softmax −log k
 * there, −inf elsewhere; logsumexp +inf). Results below the smallest normal number are returned as IEEE arithmetic
 * gives them (gradual underflow), never flushed to 0.
 *
 * <p>In place: softmax, log-softmax and the backward passes accept an output that is exactly an input (same
 * memory, start and stride); any other overlap is rejected.
 *
 * <p>Concurrency and lifetimes: inputs must not be written by another thread during a call (values read twice
 * could differ; panmax never reads outside the views whatever they hold, and a label that changes during a call
 * gives that row NaN). A shared arena cannot be closed while a native call uses its segments (the close fails);
 * on the Java backends a close that lands during the call makes it throw {@link IllegalStateException} naming the
 * argument, with the output partly written. A mapped file must keep its size while mapped (see {@link Matrix}).
 */
public final class Panmax {
    private final Kernels k;
    private final Inference inf;

    private Panmax(Kernels k) {
        this(k, InferenceBackends.of(k));
    }

    private Panmax(Kernels k, Inference inf) {
        this.k = k;
        this.inf = inf;
    }

    /** The default backend, or the configuration error that prevents choosing one (re-thrown on every call). */
    private static final class Default {
        static final Panmax INSTANCE;
        static final String ERROR;

        static {
            Panmax chosen = null;
            String error = null;
            String wanted = System.getProperty("panmax.backend");
            String config = NativeBackends.status().configError();
            if (wanted != null && !wanted.isBlank()) {
                var named = Backends.byName(wanted.trim());
                if (named.isPresent()) {
                    chosen = new Panmax(named.get());
                } else {
                    error = "-Dpanmax.backend=" + wanted + " names no backend; present: " + names()
                            + (wanted.startsWith("native") ? "; " + NativeBackends.status().describe() : "");
                }
            } else if (config != null) {
                error = config;
            } else if (NativeBackends.status().isaError() != null) {
                error = NativeBackends.status().isaError() + "; unset it or choose one of " + NativeBackends.status().isas();
            } else {
                chosen = new Panmax(Backends.best());
            }
            if (chosen != null && chosen.isNative() && NativeBackends.status().configError() != null) {
                error = config;
                chosen = null;
            }
            INSTANCE = chosen;
            ERROR = error;
        }
    }

    /**
     * The default backend: the one {@code -Dpanmax.backend} names, else the fastest present (native first, its ISA
     * lowered by {@code PANMAX_ISA}). A configuration error ({@code -Dpanmax.backend} naming no backend,
     * {@code -Dpanmax.native} not auto/required/disabled or required but failed, {@code PANMAX_ISA} naming an ISA this
     * CPU lacks) throws {@link IllegalStateException} naming the setting and its value, on every call.
     */
    public static Panmax get() {
        if (Default.ERROR != null) {
            throw new IllegalStateException(Default.ERROR);
        }
        return Default.INSTANCE;
    }

    /** The backend named {@code name}; {@link IllegalArgumentException} listing the names if absent. */
    public static Panmax backend(String name) {
        Objects.requireNonNull(name, "name");
        return Backends.byName(name).map(Panmax::new).orElseThrow(() -> new IllegalArgumentException(
                "no backend named '" + name + "'; present: " + names()
                        + (name.startsWith("native") ? "; " + NativeBackends.status().describe() : "")));
    }

    /** Names of the backends present in this JVM, fastest first. */
    public static List<String> backends() {
        return names();
    }

    private static List<String> names() {
        List<String> names = new ArrayList<>();
        for (Kernels b : Backends.available()) {
            names.add(b.name());
        }
        return List.copyOf(names);
    }

    /** One line on the native library: where it was loaded from, its ISAs and BLAS, or why it is absent. */
    public static String nativeStatus() {
        return NativeBackends.status().describe();
    }

    /** This backend's name. */
    public String name() {
        return k.name();
    }

    /** True for the native backends. */
    public boolean isNative() {
        return k.name().startsWith("native");
    }

    @Override
    public String toString() {
        return "Panmax[" + k.name() + "]";
    }

    // ------------------------------------------------------------------------------------------------------
    // one-row shortcuts: no view is made

    /** y = softmax(x) over one row of {@code x.length} elements; y needs as many (it may be x itself). */
    public void softmax(float[] x, float[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(false, x, y);
    }

    /** y = softmax(x) over one row; y may be x itself. */
    public void softmax(double[] x, double[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(false, x, y);
    }

    /** y = log_softmax(x) over one row; y may be x itself. */
    public void logSoftmax(float[] x, float[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(true, x, y);
    }

    /** y = log_softmax(x) over one row; y may be x itself. */
    public void logSoftmax(double[] x, double[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(true, x, y);
    }

    /** Softmax VJP over one row: dx = p * (dy − ⟨p, dy⟩); dx may be p or dy itself. */
    public void softmaxBackward(float[] p, float[] dy, float[] dx) {
        row("p", Objects.requireNonNull(p, "p").length, "dy", Objects.requireNonNull(dy, "dy").length);
        row("p", p.length, "dx", Objects.requireNonNull(dx, "dx").length);
        k.softmaxBackwardRow(p, dy, dx);
    }

    /** Softmax VJP over one row; dx may be p or dy itself. */
    public void softmaxBackward(double[] p, double[] dy, double[] dx) {
        row("p", Objects.requireNonNull(p, "p").length, "dy", Objects.requireNonNull(dy, "dy").length);
        row("p", p.length, "dx", Objects.requireNonNull(dx, "dx").length);
        k.softmaxBackwardRow(p, dy, dx);
    }

    private static void row(String in, int n, String out, int m) {
        if (n < 1 || m < n) {
            throw new IllegalArgumentException(n < 1 ? in + ": a row needs at least 1 element, has 0"
                    : out + ": needs at least " + n + " elements (the length of " + in + "), has " + m);
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // forward

    /** y[r,:] = softmax(x[r,:]) for every row; y has x's shape and type and may be x itself. */
    public void softmax(Matrix x, Matrix y) {
        softmax(x, y, SoftmaxOptions.DEFAULT);
    }

    /** y[r,:] = log_softmax(x[r,:]) for every row; y may be x itself. */
    public void logSoftmax(Matrix x, Matrix y) {
        softmax(x, y, SoftmaxOptions.LOG);
    }

    /**
     * The general forward: y = softmax(z / T), or log-softmax, with z = x + bias where mask != 0 and −inf where
     * mask == 0 (see {@link SoftmaxOptions}). y has x's shape and type and may be x itself; the mask is
     * {@link DType#U8}, the bias of x's type, each of x's shape or one broadcast row.
     */
    public void softmax(Matrix x, Matrix y, SoftmaxOptions o) {
        Objects.requireNonNull(o, "options");
        unary("x", x, "y", y, true);
        Matrix mask = o.mask();
        Matrix bias = o.bias();
        if (mask != null) {
            Args.usable("mask", mask);
            Args.type("mask", mask, DType.U8, "a keep-mask");
            Args.shape("mask", mask, x.rows(), x.cols(), true, "x's shape, or one broadcast row");
            Args.noOverlap("y", y, "mask", mask, false);
        }
        if (bias != null) {
            Args.usable("bias", bias);
            Args.type("bias", bias, x.dtype(), "x");
            Args.shape("bias", bias, x.rows(), x.cols(), true, "x's shape, or one broadcast row");
            Args.noOverlap("y", y, "bias", bias, false);
        }
        if (o.temperature() != 1) {
            Args.temperature(o.temperature(), x.dtype());
        }
        if (x.rows() > 0) {
            k.softmax(x, y, o);
        }
    }

    /** Checks a floating x and an output y of its shape; y may be exactly x when {@code inPlace}. */
    private static void unary(String xn, Matrix x, String yn, Matrix y, boolean inPlace) {
        Args.usable(xn, x);
        Args.usable(yn, y);
        Args.floating(xn, x);
        Args.type(yn, y, x.dtype(), xn);
        Args.shape(xn, x, x.rows(), x.cols(), false, "a matrix");
        Args.sameShape(yn, y, x.rows(), x.cols(), xn);
        Args.writable(yn, y);
        Args.noOverlap(yn, y, xn, x, inPlace);
    }

    /** out[r] = logsumexp(x[r,:]); out is a vector of x.rows() elements of x's type, not overlapping x. */
    public void logSumExp(Matrix x, Matrix out) {
        Args.usable("x", x);
        Args.usable("out", out);
        Args.floating("x", x);
        Args.shape("x", x, x.rows(), x.cols(), false, "a matrix");
        Args.type("out", out, x.dtype(), "x");
        Args.vector("out", out, x.rows(), "one value per row of x");
        Args.writable("out", out);
        Args.noOverlap("out", out, "x", x, false);
        if (x.rows() > 0) {
            k.logSumExp(x, out);
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // backward

    /** Softmax VJP (and JVP: J is symmetric) per row: dx = p * (dy − ⟨p, dy⟩); dx may be exactly p or dy. */
    public void softmaxBackward(Matrix p, Matrix dy, Matrix dx) {
        binary("p", p, "dy", dy, "dx", dx);
        if (p.rows() > 0) {
            k.softmaxBackward(p, dy, dx);
        }
    }

    /** Log-softmax VJP per row: dx = dy − exp(logp) * Σ dy, logp being the log-softmax output; dx may be exactly an input. */
    public void logSoftmaxBackward(Matrix logp, Matrix dy, Matrix dx) {
        binary("logp", logp, "dy", dy, "dx", dx);
        if (logp.rows() > 0) {
            k.logSoftmaxBackward(logp, dy, dx);
        }
    }

    /** Log-softmax JVP per row: out = v − ⟨exp(logp), v⟩ (J = I − 1 pᵀ is not symmetric); out may be exactly an input. */
    public void logSoftmaxJvp(Matrix logp, Matrix v, Matrix out) {
        binary("logp", logp, "v", v, "out", out);
        if (logp.rows() > 0) {
            k.logSoftmaxJvp(logp, v, out);
        }
    }

    private static void binary(String an, Matrix a, String bn, Matrix b, String on, Matrix o) {
        unary(an, a, on, o, true);
        Args.usable(bn, b);
        Args.type(bn, b, a.dtype(), an);
        Args.sameShape(bn, b, a.rows(), a.cols(), an);
        Args.noOverlap(on, o, bn, b, true);
    }

    // ------------------------------------------------------------------------------------------------------
    // Jacobians

    /**
     * The Jacobian of every row of x: row r's {@code cols x cols} matrix fills rows {@code [r * cols, (r + 1) * cols)}
     * of jac, which is a contiguous {@code (rows * cols) x cols} view of x's type (it must not overlap x).
     * softmax: {@code J[i][j] = p_i (δ_ij − p_j)}; with {@code log}: {@code δ_ij − p_j}; x holds probabilities, or
     * logits with {@code fromLogits}. The formula is evaluated in IEEE arithmetic as written (so a probability of
     * +inf gives J_ii = −inf).
     */
    public void jacobian(Matrix x, Matrix jac, JacobianOptions o) {
        Objects.requireNonNull(o, "options");
        Args.usable("x", x);
        Args.usable("jac", jac);
        Args.floating("x", x);
        Args.shape("x", x, x.rows(), x.cols(), false, "a matrix");
        Args.type("jac", jac, x.dtype(), "x");
        long n = x.cols();
        long jr;
        try {
            jr = Math.multiplyExact(x.rows(), n);
            Math.multiplyExact(Math.multiplyExact(jr, n), 8L);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("jac: " + x.rows() + " x " + n + " x " + n + " elements overflow a long", e);
        }
        if (jac.rows() != jr || jac.cols() != n || (jac.stride() != n && jr > 1)) {
            throw new IllegalArgumentException("jac: must be a contiguous " + jr + " x " + n
                    + " view (rows * cols x cols, stride cols), was " + jac.rows() + " x " + jac.cols() + " with stride "
                    + jac.stride());
        }
        Args.writable("jac", jac);
        Args.noOverlap("jac", jac, "x", x, false);
        if (x.rows() > 0) {
            k.jacobian(x, jac, o);
        }
    }

    /**
     * out = J V for one probability row p (a vector of n) and an {@code n x k} matrix V, without forming J (OpenBLAS
     * on the native backends): {@code diag(p) V − p (pᵀ V)}, or {@code V − 1 (pᵀ V)} with {@code log}. out is
     * {@code n x k}, overlapping neither input; {@code fromLogits} is not supported here.
     */
    public void jacobianMatmul(Matrix p, Matrix v, Matrix out, JacobianOptions o) {
        Objects.requireNonNull(o, "options");
        Args.usable("p", p);
        Args.usable("v", v);
        Args.usable("out", out);
        Args.floating("p", p);
        if (o.fromLogits()) {
            throw new IllegalArgumentException("options: fromLogits is not supported by jacobianMatmul (p must hold probabilities)");
        }
        long n = p.rows() == 1 ? p.cols() : p.rows();
        Args.vector("p", p, n, "one probability row");
        Args.type("v", v, p.dtype(), "p");
        Args.type("out", out, p.dtype(), "p");
        Args.shape("v", v, n, v.cols(), false, "n x k, n being p's length");
        Args.shape("out", out, n, v.cols(), false, "v's shape");
        Args.writable("out", out);
        Args.noOverlap("out", out, "p", p, false);
        Args.noOverlap("out", out, "v", v, false);
        k.jacobianMatmul(p, v, out, o);
    }

    // ------------------------------------------------------------------------------------------------------
    // cross-entropy

    /**
     * Cross-entropy of softmax(logits) against targets, fused with its gradient, one pass per row
     * (see {@link CrossEntropyOptions} for the formulas, weights and reductions).
     *
     * @param logits  {@code rows x cols}, F32 or F64
     * @param targets class labels (an {@link DType#I64} vector of rows values, each in {@code [0, cols)} or the
     *                ignore index) or soft targets (probability rows of the logits' shape and type)
     * @param grad    optional ({@code null}) output of the logits' shape: the gradient of the (reduced) loss; it may
     *                be exactly the logits
     * @param loss    output vector: rows values ({@link Reduction#NONE}) or one (SUM: 0 for no rows, MEAN: NaN)
     * @param o       reduction, ignore index, label smoothing, class weights
     */
    public void crossEntropy(Matrix logits, Matrix targets, Matrix grad, Matrix loss, CrossEntropyOptions o) {
        Objects.requireNonNull(o, "options");
        Args.usable("logits", logits);
        Args.usable("targets", targets);
        Args.usable("loss", loss);
        Args.floating("logits", logits);
        DType t = logits.dtype();
        long rows = logits.rows();
        long cols = logits.cols();
        Args.shape("logits", logits, rows, cols, false, "a matrix");
        boolean labels = targets(targets, t, rows, cols);
        long nLoss = o.reduction() == Reduction.NONE ? rows : 1;
        Args.type("loss", loss, t, "logits");
        Args.vector("loss", loss, nLoss, o.reduction() == Reduction.NONE ? "one loss per row" : "one value");
        Args.writable("loss", loss);
        if (grad != null) {
            gradient(grad, logits, targets, loss);
        }
        Args.noOverlap("loss", loss, "logits", logits, false);
        Args.noOverlap("loss", loss, "targets", targets, false);
        Matrix w = o.weight();
        if (w != null) {
            weights(w, t, cols, loss, grad);
        }
        if (labels) {
            labels(targets, cols, o.ignoreIndex());
        }
        if (rows == 0) {
            if (nLoss == 1) {
                Elements.store(loss, o.reduction() == Reduction.SUM ? 0 : Double.NaN);
            }
            return;
        }
        k.crossEntropy(logits, targets, grad, loss, o);
    }

    /* crossEntropy's checks in pieces: its public method stays under C2's inlining limit for hot methods
     * (FreqInlineSize, 325 bytecode bytes; InlineBudgetTest holds it there). */

    /** Class labels (I64, one per row; returns true) or soft targets of logits' type and shape. */
    private static boolean targets(Matrix targets, DType t, long rows, long cols) {
        if (targets.dtype() == DType.I64) {
            Args.vector("targets", targets, rows, "one label per row of logits");
            return true;
        }
        Args.type("targets", targets, t, "logits, or I64 labels");
        Args.shape("targets", targets, rows, cols, false, "logits' shape");
        return false;
    }

    private static void gradient(Matrix grad, Matrix logits, Matrix targets, Matrix loss) {
        Args.usable("grad", grad);
        Args.type("grad", grad, logits.dtype(), "logits");
        Args.shape("grad", grad, logits.rows(), logits.cols(), false, "logits' shape");
        Args.writable("grad", grad);
        Args.noOverlap("grad", grad, "logits", logits, true);
        Args.noOverlap("grad", grad, "targets", targets, false);
        Args.noOverlap("loss", loss, "grad", grad, false);
    }

    private static void weights(Matrix w, DType t, long cols, Matrix loss, Matrix grad) {
        Args.usable("weight", w);
        Args.type("weight", w, t, "logits");
        Args.vector("weight", w, cols, "one weight per class");
        Args.noOverlap("loss", loss, "weight", w, false);
        Args.noOverlap("grad", grad, "weight", w, false);
        for (long j = 0; j < cols; j++) {
            double v = Elements.load(w, j);
            if (!(v >= 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("weight[" + j + "] = " + v + ": class weights must be finite and >= 0");
            }
        }
    }

    private static void labels(Matrix labels, long cols, long ignoreIndex) {
        long n = labels.rows() == 1 ? labels.cols() : labels.rows();
        for (long r = 0; r < n; r++) {
            long label = Elements.loadLong(labels, r);
            if ((label < 0 || label >= cols) && label != ignoreIndex) {
                throw new IllegalArgumentException("targets[" + r + "] = " + label + " is outside [0, " + cols
                        + ") and is not the ignore index " + ignoreIndex);
            }
        }
    }
    // ------------------------------------------------------------------------------------------------------
    // inference: argmax, top-k, token sampling, classifier heads; Executor-split batches; BLAS threads

    /** out[r] = the index of the largest entry of row r (ties to the lowest index; -1 for a row with NaN). */
    public void argmax(Matrix x, Matrix out) {
        InferArgs.argmax(x, out);
        if (x.rows() > 0) {
            inf.argmax(x, out);
        }
    }

    /**
     * The {@code o.k()} best entries of every row, best first, ties to the lowest index, by selection (no sort of
     * the row): {@code indices} is an I64 {@code rows x k} view, {@code values} (optional, x's type, {@code rows x k})
     * gets the entries or the row's (log-)softmax at them ({@link TopKOptions.Values}). A row with NaN gets indices -1
     * and values NaN. Outputs must not overlap x or each other.
     */
    public void topK(Matrix x, Matrix indices, Matrix values, TopKOptions o) {
        InferArgs.topK(x, indices, values, o);
        if (x.rows() > 0) {
            inf.topK(x, indices, values, o);
        }
    }

    /** One token per row of logits into the I64 vector {@code tokens}; see {@link #sample(Matrix, SampleOutputs, SampleOptions)}. */
    public void sample(Matrix logits, Matrix tokens, SampleOptions o) {
        sample(logits, SampleOutputs.of(tokens), o);
    }

    /**
     * One token per row of logits, drawn as {@link SampleOptions} describes (penalties, bias and ban, temperature,
     * top-k, top-p, min-p, a counter-based draw), without sorting a row; optionally its scores and the best tokens'
     * log-probabilities ({@link SampleOutputs}). The same (logits, options, seed, step) give the same token on every
     * backend, ISA, thread and batch position.
     *
     * <p>Rejected before any work, nothing written ({@link IllegalArgumentException} naming the argument): option
     * values out of their domain (by the records), a temperature that is not 0 or a normal number of the logits'
     * type, mismatched shapes or types, a history id outside {@code [-1, cols)}, a mask row that bans every token, a
     * uniform outside [0, 1), any overlap of an output with an input or another output.
     */
    public void sample(Matrix logits, SampleOutputs out, SampleOptions o) {
        InferArgs.sample(logits, out, o);
        if (logits.rows() > 0) {
            inf.sample(logits, out, o);
        }
    }

    /**
     * A classifier head in one call: {@code z = x wᵀ + bias}, then softmax(z / T) (or log-softmax), for x of
     * {@code B x d} and w of {@code K x d} ({@code d x K} with {@link HeadOptions#transposed()}). On the native
     * backends the product runs through OpenBLAS in chunks of classes that stay in cache, each normalised while hot;
     * with only the top-k asked ({@link HeadOutputs#top(Matrix, Matrix)}) no {@code B x K} matrix is written.
     * Dimensions and strides must fit in an int (OpenBLAS). Rows with NaN, +inf or no finite logit follow softmax's
     * rules (top-k of a NaN row: -1 and NaN).
     */
    public void head(Matrix x, Matrix w, HeadOutputs out, HeadOptions o) {
        InferArgs.head(x, w, out, o);
        if (x.rows() > 0) {
            inf.head(x, w, out, o);
        }
    }

    /**
     * This backend with its batched calls split by rows across {@code executor}: at most {@code tasks} pieces, each
     * at least 65 536 elements of work (a smaller call runs on the calling thread alone), the calling thread running
     * the first. Results are bit-identical to the single-threaded call. Split: softmax, logSumExp, the backward passes
     * and JVP, jacobian, crossEntropy with {@link Reduction#NONE}, argmax, topK, sample, head (at multiples of the
     * native gemm row block). Not split: jacobianMatmul, crossEntropy with SUM or MEAN, the one-row array shortcuts.
     * A split call allocates a few small objects per piece (the tasks and sub-views).
     */
    public Panmax withExecutor(Executor executor, int tasks) {
        Objects.requireNonNull(executor, "executor");
        if (tasks < 1) {
            throw new IllegalArgumentException("tasks must be >= 1, was " + tasks);
        }
        return new Panmax(new SplitKernels(k, executor, tasks), new SplitInference(inf, executor, tasks));
    }

    /**
     * Sets OpenBLAS's thread count for the process (the native heads and jacobianMatmul use it). Inside the JVM
     * panmax loads OpenBLAS single-threaded unless {@code -Dpanmax.blas.threads=N} (or OPENBLAS_NUM_THREADS) says
     * otherwise, so a service's own thread pools are not oversubscribed; raising it here starts OpenBLAS's worker
     * threads. No effect without the native library.
     */
    public static void setBlasThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        if (NativeBackends.status().loaded()) {
            panmax_h.panmax_set_blas_threads(threads);
        }
    }

    /** OpenBLAS's thread count (1 without the native library). */
    public static int blasThreads() {
        return NativeBackends.status().loaded() ? panmax_h.panmax_blas_threads() : 1;
    }
}
