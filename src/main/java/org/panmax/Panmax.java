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
     * lowered by {@code PANMAX_ISA}). It is chosen once, the first time it is asked for.
     *
     * @return the default backend, the same instance on every call
     * @throws IllegalStateException on every call while the configuration is wrong, naming the setting and its value:
     *         {@code -Dpanmax.backend} naming no backend present, {@code -Dpanmax.native} other than {@code auto},
     *         {@code required} or {@code disabled} (or {@code required} and the native library failed to load), or
     *         {@code PANMAX_ISA} naming an ISA this CPU lacks
     */
    public static Panmax get() {
        if (Default.ERROR != null) {
            throw new IllegalStateException(Default.ERROR);
        }
        return Default.INSTANCE;
    }

    /**
     * A backend by name, whatever the default is.
     *
     * @param name one of {@link #backends()}: {@code native-avx512}, {@code native-avx2}, {@code native-scalar},
     *             {@code java-vector}, {@code java-scalar}; also {@code java-vector-libexp}, a benchmark variant of
     *             {@code java-vector} with the JDK's exp, which is never listed nor chosen by default
     * @return a facade on that backend (every facade on one backend shares its kernels)
     * @throws NullPointerException     if {@code name} is null
     * @throws IllegalArgumentException if no backend of that name is present in this JVM; the message lists those
     *                                  present and, for a native name, the native library's status
     */
    public static Panmax backend(String name) {
        Objects.requireNonNull(name, "name");
        return Backends.byName(name).map(Panmax::new).orElseThrow(() -> new IllegalArgumentException(
                "no backend named '" + name + "'; present: " + names()
                        + (name.startsWith("native") ? "; " + NativeBackends.status().describe() : "")));
    }

    /**
     * The backends present in this JVM, fastest first: the native ones this CPU runs (none without the native
     * library), {@code java-vector} when the module {@code jdk.incubator.vector} is in the boot layer, and
     * {@code java-scalar}, which is always there.
     *
     * @return an unmodifiable, never empty list of names for {@link #backend(String)}
     */
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

    /**
     * One line on the native library, for logs and bug reports.
     *
     * @return where it was loaded from, its version, the active ISA, the CPU features checked and the BLAS in use; or,
     *         when it is absent, why (platform, {@code -Dpanmax.native=disabled}, a load failure)
     */
    public static String nativeStatus() {
        return NativeBackends.status().describe();
    }

    /**
     * This backend's name.
     *
     * @return one of {@link #backends()} (or {@code java-vector-libexp})
     */
    public String name() {
        return k.name();
    }

    /**
     * Whether the kernels are the C library's (the names starting with {@code native}).
     *
     * @return true for {@code native-avx512}, {@code native-avx2} and {@code native-scalar}
     */
    public boolean isNative() {
        return k.name().startsWith("native");
    }

    @Override
    public String toString() {
        return "Panmax[" + k.name() + "]";
    }

    // ------------------------------------------------------------------------------------------------------
    // one-row shortcuts: no view is made

    /**
     * {@code y = softmax(x)} over one row of {@code x.length} elements, without making a view. The first
     * {@code x.length} elements of {@code y} are written, the rest of it is left alone; {@code y} may be {@code x}
     * itself (in place). Non-finite entries follow the rules of the class comment.
     *
     * @param x the row, at least one element
     * @param y the output, at least {@code x.length} elements; may be {@code x}
     * @throws NullPointerException     if {@code x} or {@code y} is null
     * @throws IllegalArgumentException if {@code x} is empty or {@code y} is shorter than {@code x}
     */
    public void softmax(float[] x, float[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(false, x, y);
    }

    /**
     * {@code y = softmax(x)} over one row of {@code x.length} elements, without making a view. The first
     * {@code x.length} elements of {@code y} are written, the rest of it is left alone; {@code y} may be {@code x}
     * itself (in place). Non-finite entries follow the rules of the class comment.
     *
     * @param x the row, at least one element
     * @param y the output, at least {@code x.length} elements; may be {@code x}
     * @throws NullPointerException     if {@code x} or {@code y} is null
     * @throws IllegalArgumentException if {@code x} is empty or {@code y} is shorter than {@code x}
     */
    public void softmax(double[] x, double[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(false, x, y);
    }

    /**
     * {@code y = log_softmax(x)} over one row of {@code x.length} elements, without making a view. The first
     * {@code x.length} elements of {@code y} are written, the rest of it is left alone; {@code y} may be {@code x}
     * itself (in place). Non-finite entries follow the rules of the class comment.
     *
     * @param x the row, at least one element
     * @param y the output, at least {@code x.length} elements; may be {@code x}
     * @throws NullPointerException     if {@code x} or {@code y} is null
     * @throws IllegalArgumentException if {@code x} is empty or {@code y} is shorter than {@code x}
     */
    public void logSoftmax(float[] x, float[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(true, x, y);
    }

    /**
     * {@code y = log_softmax(x)} over one row of {@code x.length} elements, without making a view. The first
     * {@code x.length} elements of {@code y} are written, the rest of it is left alone; {@code y} may be {@code x}
     * itself (in place). Non-finite entries follow the rules of the class comment.
     *
     * @param x the row, at least one element
     * @param y the output, at least {@code x.length} elements; may be {@code x}
     * @throws NullPointerException     if {@code x} or {@code y} is null
     * @throws IllegalArgumentException if {@code x} is empty or {@code y} is shorter than {@code x}
     */
    public void logSoftmax(double[] x, double[] y) {
        row("x", Objects.requireNonNull(x, "x").length, "y", Objects.requireNonNull(y, "y").length);
        k.softmaxRow(true, x, y);
    }

    /**
     * The softmax VJP over one row, without making a view: {@code dx = p * (dy − ⟨p, dy⟩)} (see
     * {@link #softmaxBackward(Matrix, Matrix, Matrix)}). The row has {@code p.length} elements; the first
     * {@code p.length} of {@code dx} are written. {@code dx} may be {@code p} or {@code dy} itself (in place).
     *
     * @param p  the softmax output, at least one element
     * @param dy the gradient with respect to the softmax output, at least {@code p.length} elements
     * @param dx the gradient with respect to the logits (output), at least {@code p.length} elements; may be {@code p}
     *           or {@code dy}
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code p} is empty, or {@code dy} or {@code dx} is shorter than {@code p}
     */
    public void softmaxBackward(float[] p, float[] dy, float[] dx) {
        row("p", Objects.requireNonNull(p, "p").length, "dy", Objects.requireNonNull(dy, "dy").length);
        row("p", p.length, "dx", Objects.requireNonNull(dx, "dx").length);
        k.softmaxBackwardRow(p, dy, dx);
    }

    /**
     * The softmax VJP over one row, without making a view: {@code dx = p * (dy − ⟨p, dy⟩)} (see
     * {@link #softmaxBackward(Matrix, Matrix, Matrix)}). The row has {@code p.length} elements; the first
     * {@code p.length} of {@code dx} are written. {@code dx} may be {@code p} or {@code dy} itself (in place).
     *
     * @param p  the softmax output, at least one element
     * @param dy the gradient with respect to the softmax output, at least {@code p.length} elements
     * @param dx the gradient with respect to the logits (output), at least {@code p.length} elements; may be {@code p}
     *           or {@code dy}
     * @throws NullPointerException     if an argument is null
     * @throws IllegalArgumentException if {@code p} is empty, or {@code dy} or {@code dx} is shorter than {@code p}
     */
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

    /**
     * {@code y[r,:] = softmax(x[r,:])} for every row: {@code exp(x − max) / Σ exp(x − max)}, max-shifted so that no
     * finite row overflows. The same as {@link #softmax(Matrix, Matrix, SoftmaxOptions)} with
     * {@link SoftmaxOptions#DEFAULT}.
     *
     * <p>Non-finite entries: a row with NaN gives NaN everywhere in that row; a row of all −inf gives 0 everywhere; k
     * entries at +inf get 1/k each and the others 0. Other rows are unaffected.
     *
     * @param x logits, F32 or F64, {@code rows x cols} (a broadcast row is not allowed); 0 rows is a no-op
     * @param y output of x's type and shape; may be exactly x (same memory, start and stride: in place), must
     *          not overlap it otherwise
     * @throws NullPointerException     if {@code x} or {@code y} is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64, y's type or shape differs from x's, either is a
     *                                  broadcast view, y is read-only, or y overlaps x other than exactly in place
     */
    public void softmax(Matrix x, Matrix y) {
        softmax(x, y, SoftmaxOptions.DEFAULT);
    }

    /**
     * {@code y[r,:] = log_softmax(x[r,:])} for every row: {@code x − max − log Σ exp(x − max)}, never
     * {@code log(softmax(x))} (which underflows to −inf). The same as
     * {@link #softmax(Matrix, Matrix, SoftmaxOptions)} with {@link SoftmaxOptions#LOG}.
     *
     * <p>Non-finite entries: a row with NaN gives NaN everywhere in that row; a row of all −inf gives −inf everywhere;
     * k entries at +inf give −log k there and −inf elsewhere. Other rows are unaffected.
     *
     * @param x logits, F32 or F64, {@code rows x cols} (a broadcast row is not allowed); 0 rows is a no-op
     * @param y output of x's type and shape; may be exactly x (in place), must not overlap it otherwise
     * @throws NullPointerException     if {@code x} or {@code y} is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64, y's type or shape differs from x's, either is a
     *                                  broadcast view, y is read-only, or y overlaps x other than exactly in place
     */
    public void logSoftmax(Matrix x, Matrix y) {
        softmax(x, y, SoftmaxOptions.LOG);
    }

    /**
     * The general forward: {@code y = softmax(z / T)}, or its logarithm with {@link SoftmaxOptions#log()}, where
     * {@code z = x + bias} where {@code mask != 0} and {@code z = −inf} where {@code mask == 0} (x is not read there);
     * see {@link SoftmaxOptions}. A fully masked row follows the all −inf rule: probabilities 0, log-probabilities
     * −inf. NaN and +inf in z follow the rules of {@link #softmax(Matrix, Matrix)} and
     * {@link #logSoftmax(Matrix, Matrix)}. Every finite input and temperature gives {@code softmax(z / T)} without
     * overflow, even where {@code z − max} exceeds the type's range.
     *
     * @param x logits, F32 or F64, {@code rows x cols} (a broadcast row is not allowed); 0 rows is a no-op
     * @param y output of x's type and shape; may be exactly x (in place), must not overlap it otherwise, nor the mask
     *          or the bias
     * @param o temperature, mask ({@link DType#U8}, x's shape or one broadcast row), bias (x's type, x's shape or one
     *          broadcast row), log, exact
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64, y's type or shape differs from x's, y is read-only or a
     *                                  broadcast view, y overlaps x other than exactly in place, the mask is not U8 or
     *                                  the bias not of x's type, either is neither x's shape nor one broadcast row, y
     *                                  overlaps either, or the temperature is not a normal number of x's type
     *                                  ({@code Float.MIN_NORMAL} to {@code Float.MAX_VALUE} for F32)
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

    /**
     * {@code out[r] = logsumexp(x[r,:]) = max + log Σ exp(x − max)} for every row.
     *
     * <p>Non-finite entries: a row with NaN gives NaN, a row of all −inf gives −inf, a row with +inf gives +inf.
     *
     * @param x   logits, F32 or F64, {@code rows x cols} (a broadcast row is not allowed)
     * @param out output vector of {@code x.rows()} values of x's type ({@code 1 x rows}, or {@code rows x 1} with
     *            stride 1); must not overlap x
     * @throws NullPointerException     if {@code x} or {@code out} is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64 or is a broadcast view, out is not a vector of
     *                                  {@code x.rows()} values of x's type, is read-only, or overlaps x
     */
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

    /**
     * The softmax VJP per row, without forming the Jacobian: {@code dx = p * (dy − ⟨p, dy⟩)}, p being the softmax
     * output. The Jacobian {@code diag(p) − p pᵀ} is symmetric, so this is also the JVP: pass the tangent as
     * {@code dy}. The formula is evaluated in IEEE arithmetic as written on whatever p holds (nothing checks it is a
     * probability row): a NaN in a row of p or dy makes that row of dx NaN, other rows are unaffected.
     *
     * @param p  the softmax output, F32 or F64, {@code rows x cols}; 0 rows is a no-op
     * @param dy the gradient with respect to the softmax output, of p's type and shape
     * @param dx output, the gradient with respect to the logits, of p's type and shape; may be exactly p or dy (in
     *           place), must not overlap either otherwise
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if p is not F32 or F64, dy or dx differs from p in type or shape, any of
     *                                  them is a broadcast view, dx is read-only, or dx overlaps an input other
     *                                  than exactly in place
     */
    public void softmaxBackward(Matrix p, Matrix dy, Matrix dx) {
        binary("p", p, "dy", dy, "dx", dx);
        if (p.rows() > 0) {
            k.softmaxBackward(p, dy, dx);
        }
    }

    /**
     * The log-softmax VJP per row: {@code dx = dy − exp(logp) * Σ dy}, logp being the log-softmax output (a logp of
     * −inf contributes 0). Evaluated in IEEE arithmetic as written: a NaN in a row of dy makes that row of dx NaN; a
     * NaN in logp makes only its own entry NaN.
     *
     * @param logp the log-softmax output, F32 or F64, {@code rows x cols}; 0 rows is a no-op
     * @param dy   the gradient with respect to the log-softmax output, of logp's type and shape
     * @param dx   output, the gradient with respect to the logits, of logp's type and shape; may be exactly logp or dy
     *             (in place), must not overlap either otherwise
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if logp is not F32 or F64, dy or dx differs from logp in type or shape, any of
     *                                  them is a broadcast view, dx is read-only, or dx overlaps an input other
     *                                  than exactly in place
     */
    public void logSoftmaxBackward(Matrix logp, Matrix dy, Matrix dx) {
        binary("logp", logp, "dy", dy, "dx", dx);
        if (logp.rows() > 0) {
            k.logSoftmaxBackward(logp, dy, dx);
        }
    }

    /**
     * The log-softmax JVP per row: {@code out = v − ⟨exp(logp), v⟩}, the product of {@code J = I − 1 pᵀ} (not
     * symmetric, hence a separate call from {@link #logSoftmaxBackward}) with the tangent v. Evaluated in IEEE
     * arithmetic as written: a NaN in a row of logp or v makes that row of out NaN.
     *
     * @param logp the log-softmax output, F32 or F64, {@code rows x cols}; 0 rows is a no-op
     * @param v    the tangent (a perturbation of the logits), of logp's type and shape
     * @param out  output, of logp's type and shape; may be exactly logp or v (in place), must not overlap either
     *             otherwise
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if logp is not F32 or F64, v or out differs from logp in type or shape, any of
     *                                  them is a broadcast view, out is read-only, or out overlaps an input other
     *                                  than exactly in place
     */
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
     * The Jacobian of every row of x, written out: row r's {@code cols x cols} matrix fills rows
     * {@code [r * cols, (r + 1) * cols)} of jac. softmax: {@code J[i][j] = p_i (δ_ij − p_j)} ({@code diag(p) − p pᵀ});
     * with {@link JacobianOptions#log()}: {@code δ_ij − p_j} ({@code I − 1 pᵀ}). x holds probabilities, or logits with
     * {@link JacobianOptions#fromLogits()} (softmax is taken first, with its rules for non-finite rows).
     *
     * <p>Each entry is the formula evaluated in IEEE arithmetic on whatever the rows hold (nothing checks they are
     * probabilities): a NaN gives NaN in its row and column of J; {@code p = {inf, 0.5, 0}} gives
     * {@code J00 = −inf}, {@code J01 = J10 = −inf} and {@code J02 = J20 = NaN} ({@code inf * 0}); an off-diagonal
     * zero may be −0.
     *
     * @param x   probability rows (or logits), F32 or F64, {@code rows x cols} (a broadcast row is not allowed)
     * @param jac output of x's type: a contiguous {@code (rows * cols) x cols} view (stride cols), not overlapping x
     * @param o   log, fromLogits
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64 or is a broadcast view, jac is not of x's type, not a
     *                                  contiguous {@code (rows * cols) x cols} view, is read-only or overlaps x, or
     *                                  {@code rows * cols * cols} elements overflow a long
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
     * {@code out = J V} for one probability row p of n values and an {@code n x k} matrix V, without forming J
     * (OpenBLAS gemv and a rank-1 update on the native backends): softmax {@code diag(p) V − p (pᵀ V)}, with
     * {@link JacobianOptions#log()} {@code V − 1 (pᵀ V)}. Evaluated in IEEE arithmetic on whatever p and V hold. Not
     * split by {@link #withExecutor}.
     *
     * @param p   the probability row, F32 or F64: a vector of n values ({@code 1 x n}, or {@code n x 1} with stride 1)
     * @param v   V, of p's type, {@code n x k} (a broadcast row is not allowed)
     * @param out output of p's type, {@code n x k}, overlapping neither p nor v
     * @param o   log; {@link JacobianOptions#fromLogits()} must be false (p holds probabilities)
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if {@code o.fromLogits()} is set, p is not an F32 or F64 vector, v or out is not
     *                                  of p's type or not {@code n x k}, either is a broadcast view, out is read-only,
     *                                  or out overlaps p or v
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
     * Cross-entropy of softmax(logits) against targets, fused with its gradient, one pass per row, PyTorch's
     * {@code cross_entropy} rules (see {@link CrossEntropyOptions} for the formulas, smoothing, weights and
     * reductions). Labels and class weights are checked before any work, so a bad one writes nothing.
     *
     * <p>Non-finite logits: a NaN in a row gives that row NaN loss and gradient; +inf logits are the limit as they
     * grow together (p = 1/k on the k entries at +inf): a label on one of them gives loss {@code log k}, a label
     * elsewhere +inf (so does label smoothing, unless every logit is +inf); the gradient is
     * {@code p Σ_j u_j − u} as for finite rows. Target entries of 0 count 0 even where a logit is −inf.
     *
     * @param logits  {@code rows x cols}, F32 or F64 (a broadcast row is not allowed)
     * @param targets class labels (an {@link DType#I64} vector of rows values, each in {@code [0, cols)} or the
     *                ignore index) or soft targets (probability rows of the logits' shape and type, used as given)
     * @param grad    optional ({@code null}) output of the logits' shape and type: the gradient of the (reduced) loss
     *                with respect to the logits; it may be exactly the logits (in place), must not overlap them
     *                otherwise, nor the targets, the loss or the weights
     * @param loss    output vector of the logits' type: rows values ({@link Reduction#NONE}; ignored rows get 0) or
     *                one (SUM: 0 for no rows; MEAN: NaN for no counted rows); must not overlap any other argument
     * @param o       reduction, ignore index, label smoothing, class weights
     * @throws NullPointerException     if logits, targets, loss or o is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if logits is not F32 or F64 or is a broadcast view; targets are neither an I64
     *                                  vector of rows labels nor of the logits' type and shape; a label is outside
     *                                  {@code [0, cols)} and not the ignore index; grad or loss has the wrong type or
     *                                  shape, is read-only, or overlaps another argument (grad may be exactly the
     *                                  logits); the weights are not a vector of cols values of the logits' type, or
     *                                  one of them is negative, NaN or infinite
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

    /**
     * {@code out[r]} = the index of the largest entry of row r. Ties go to the lowest index; +inf ranks above every
     * finite value and −inf below (a row of all −inf gives 0); a row with NaN has no largest entry and gets
     * {@link SampleOutputs#NO_TOKEN} (−1).
     *
     * @param x   F32 or F64, {@code rows x cols} (a broadcast row is not allowed); 0 rows is a no-op
     * @param out output, an {@link DType#I64} vector of {@code x.rows()} values, not overlapping x
     * @throws NullPointerException     if {@code x} or {@code out} is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64 or is a broadcast view, or out is not an I64 vector of
     *                                  {@code x.rows()} values, is read-only, or overlaps x
     */
    public void argmax(Matrix x, Matrix out) {
        InferArgs.argmax(x, out);
        if (x.rows() > 0) {
            inf.argmax(x, out);
        }
    }

    /**
     * The {@code o.k()} best entries of every row, best first, by selection (no sort of the row). Rank order is
     * {@link #argmax}'s: larger first, ties to the lowest index, +inf above every finite value, −inf below. A row
     * with NaN gets indices −1 ({@link SampleOutputs#NO_TOKEN}) and values NaN; other rows are unaffected.
     *
     * @param x       F32 or F64, {@code rows x cols} (a broadcast row is not allowed); 0 rows is a no-op
     * @param indices output, {@link DType#I64}, {@code rows x k}
     * @param values  optional ({@code null}) output of x's type, {@code rows x k}: the entries themselves, or the
     *                row's softmax or log-softmax at them (with softmax's rules for −inf and +inf rows), as
     *                {@link TopKOptions#values()} says
     * @param o       k (at most {@code x.cols()}) and what values holds
     * @throws NullPointerException     if x, indices or o is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64 or is a broadcast view, {@code o.k() > x.cols()},
     *                                  indices or values has the wrong type or shape, is read-only or a broadcast
     *                                  view, or an output overlaps x or the other output
     */
    public void topK(Matrix x, Matrix indices, Matrix values, TopKOptions o) {
        InferArgs.topK(x, indices, values, o);
        if (x.rows() > 0) {
            inf.topK(x, indices, values, o);
        }
    }

    /**
     * One token per row of logits, written to {@code tokens}; the same as
     * {@link #sample(Matrix, SampleOutputs, SampleOptions)} with {@link SampleOutputs#of(Matrix)}, whose rules and
     * exceptions apply.
     *
     * @param logits F32 or F64, {@code rows x cols} (a broadcast row is not allowed); 0 rows is a no-op
     * @param tokens output, an {@link DType#I64} vector of rows values: each row's token, or
     *               {@link SampleOutputs#NO_TOKEN} for a row with NaN or with no finite logit left
     * @param o      the sampling steps, seed and step
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException as {@link #sample(Matrix, SampleOutputs, SampleOptions)} says
     */
    public void sample(Matrix logits, Matrix tokens, SampleOptions o) {
        sample(logits, SampleOutputs.of(tokens), o);
    }

    /**
     * One token per row of logits, drawn as {@link SampleOptions} describes (penalties, bias and ban mask,
     * temperature, top-k, top-p, min-p, a counter-based draw), without sorting a row; optionally its scores and the
     * best tokens' log-probabilities ({@link SampleOutputs}). The same (logits, options, seed, step) give the same
     * token on every backend, ISA, thread and batch position.
     *
     * <p>Non-finite logits: a row with NaN, or with no finite logit left after the penalties, bias and mask, gets
     * {@link SampleOutputs#NO_TOKEN} and NaN scores; other rows are unaffected. +inf logits share the mass, as in
     * softmax. A token whose weight is below {@code 2^-(S+1)} of the best one's is never drawn (see
     * {@link SampleOptions}).
     *
     * @param logits F32 or F64, {@code rows x cols} (a broadcast row is not allowed); 0 rows is a no-op
     * @param out    where to write: tokens (required), scores, top indices and their log-probabilities
     * @param o      the sampling steps and the draw
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException before any work, nothing written, naming the argument: logits not F32 or F64
     *                                  or a broadcast view; an output of the wrong type or shape, read-only, or
     *                                  overlapping an input or another output; more top indices than cols; a history,
     *                                  bias, mask, seeds, steps or uniforms of the wrong type or shape; a temperature
     *                                  that is not 0 or a normal number of the logits' type; a history id outside
     *                                  {@code [-1, cols)}; a mask row that bans every token; a uniform outside
     *                                  {@code [0, 1)}
     */
    public void sample(Matrix logits, SampleOutputs out, SampleOptions o) {
        InferArgs.sample(logits, out, o);
        if (logits.rows() > 0) {
            inf.sample(logits, out, o);
        }
    }

    /**
     * A classifier head in one call: {@code z = x wᵀ + bias}, then {@code softmax(z / T)} (or log-softmax), for x of
     * {@code B x d} and w of {@code K x d} ({@code d x K} with {@link HeadOptions#transposed()}). On the native
     * backends the product runs through OpenBLAS in chunks of classes that stay in cache, each normalised while hot;
     * with only the top-k asked ({@link HeadOutputs#top(Matrix, Matrix)}) no {@code B x K} matrix is written. Rows of
     * z with NaN, +inf or no finite logit follow softmax's rules (top-k of a NaN row: −1 and NaN).
     *
     * @param x   the features, F32 or F64, {@code B x d} (a broadcast row is not allowed); 0 rows is a no-op
     * @param w   the weights, of x's type, {@code K x d}, or {@code d x K} with {@link HeadOptions#transposed()}
     * @param out what to write: logits and probabilities ({@code B x K}), top indices (I64, {@code B x k},
     *            {@code k <= K}) and top values ({@code B x k}); each of x's type but the indices
     * @param o   temperature, class bias (a vector of K values of x's type), transposed, log
     * @throws NullPointerException     if an argument is null
     * @throws IllegalStateException    if a segment's arena is closed or the segment is confined to another thread
     * @throws IllegalArgumentException if x is not F32 or F64 or is a broadcast view; w or the bias is not of x's type
     *                                  or shape; a dimension ({@code B}, d, K) or a stride of x, w, logits or
     *                                  probabilities does not fit in an int (OpenBLAS's interface); an output has the
     *                                  wrong type or shape, is read-only or a broadcast view, or overlaps an input or
     *                                  another output; the top indices have more columns than K; the temperature is
     *                                  not a normal number of x's type
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
     * the first and waiting for the others. Results are bit-identical to the single-threaded call. Split: softmax,
     * logSumExp, the backward passes and JVP, jacobian, crossEntropy with {@link Reduction#NONE}, argmax, topK,
     * sample, head (at multiples of the native gemm row block). Not split: jacobianMatmul, crossEntropy with SUM or
     * MEAN, the one-row array shortcuts. A split call allocates a few small objects per piece (the tasks and
     * sub-views). Arguments are checked on the calling thread before any piece starts.
     *
     * @param executor runs the pieces after the first; panmax starts no thread of its own
     * @param tasks    the most pieces one call is split into, {@code >= 1} (1: never split)
     * @return a new facade on the same backend; this one is unchanged
     * @throws NullPointerException     if {@code executor} is null
     * @throws IllegalArgumentException if {@code tasks < 1}
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
     * panmax loads OpenBLAS single-threaded unless {@code -Dpanmax.blas.threads=N} (or, without that property,
     * {@code OPENBLAS_NUM_THREADS}) says otherwise, so a service's own thread pools are not oversubscribed; raising it
     * here starts OpenBLAS's worker threads. No effect without the native library.
     *
     * @param threads the thread count, {@code >= 1}
     * @throws IllegalArgumentException if {@code threads < 1}
     */
    public static void setBlasThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        if (NativeBackends.status().loaded()) {
            panmax_h.panmax_set_blas_threads(threads);
        }
    }

    /**
     * OpenBLAS's thread count for the process.
     *
     * @return the count that OpenBLAS runs with, or 1 without the native library
     */
    public static int blasThreads() {
        return NativeBackends.status().loaded() ? panmax_h.panmax_blas_threads() : 1;
    }
}
