package org.panmax;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.panmax.internal.Backends;
import org.panmax.internal.Check;
import org.panmax.internal.Kernels;
import org.panmax.internal.NativeBackends;

/**
 * The softmax family over heap arrays and {@link MemorySegment}s, on one backend.
 *
 * <p>Get the fastest backend with {@link #get()}, or a named one with {@link #backend(String)}
 * ({@link #backends()} lists them: {@code native-avx512}, {@code native-avx2}, {@code native-scalar},
 * {@code java-vector}, {@code java-scalar}, those present). Instances are immutable and thread-safe.
 *
 * <p>Shapes: a matrix is a buffer, an element offset and a row stride in elements; element (r, j) is at
 * {@code offset + r * stride + j}. Strides must be {@code >= cols}. {@code rows >= 0} (0 does nothing),
 * {@code cols >= 1}.
 *
 * <p>Every call checks all its arguments before any work and throws, writing nothing, when one breaks a
 * rule: {@link NullPointerException} (a required argument is null), {@link IllegalStateException} (a
 * segment's arena is closed or the segment is confined to another thread),
 * {@link IndexOutOfBoundsException} (a region does not fit its buffer), {@link IllegalArgumentException}
 * (a shape, stride, alignment, read-only output, overlap, flag, temperature, label or smoothing rule).
 * Messages name the argument, the rule and the values.
 *
 * <p>Non-finite logits (identical on every backend): NaN poisons its row only; a row of all -inf (or
 * fully masked) gives softmax 0 and log-softmax/logsumexp -inf; k entries at +inf share the mass
 * (1/k each; log-softmax -log k there, -inf elsewhere; logsumexp +inf).
 *
 * <p>In place: softmax, log-softmax and the backward passes accept the output being exactly an input
 * (same buffer, same offset, same stride); any other overlap is rejected.
 */
public final class Panmax {
    /** Flag: log-softmax instead of softmax ({@link #softmaxEx}, {@link #jacobian}, {@link #jacobianMatmul}). */
    public static final int LOG = Kernels.FLAG_LOG;
    /** Flag of {@link #softmaxEx}: carry the rounding error of x - max into exp (float: about 1 ulp). */
    public static final int EXACT = Kernels.FLAG_EXACT;
    /** Flag of {@link #jacobian}: the input rows are logits rather than probabilities. */
    public static final int FROM_LOGITS = Kernels.FLAG_FROM_LOGITS;
    /** Conventional "no label" value for {@link #crossEntropy}. */
    public static final long DEFAULT_IGNORE_INDEX = -100;

    private final Kernels k;

    private Panmax(Kernels k) {
        this.k = k;
    }

    private static final class Default {
        static final Panmax INSTANCE = choose();

        private static Panmax choose() {
            String wanted = System.getProperty("panmax.backend");
            if (wanted != null && !wanted.isBlank()) {
                return backend(wanted);
            }
            return new Panmax(Backends.best());
        }
    }

    /** The default backend: {@code -Dpanmax.backend} if set, else the fastest present (native first). */
    public static Panmax get() {
        String isaError = NativeBackends.status().isaError();
        if (isaError != null) {
            throw new IllegalStateException(isaError + "; unset it or choose one of " + NativeBackends.status().isas());
        }
        return Default.INSTANCE;
    }

    /** The backend named {@code name}; {@link IllegalArgumentException} listing the names if absent. */
    public static Panmax backend(String name) {
        Objects.requireNonNull(name, "name");
        return Backends.byName(name).map(Panmax::new).orElseThrow(() -> new IllegalArgumentException(
                "no backend named '" + name + "'; present: " + backends()
                        + (name.startsWith("native") ? "; " + NativeBackends.status().describe() : "")));
    }

    /** Names of the backends present in this JVM, fastest first. */
    public static List<String> backends() {
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

    /*
     * Heap arrays are never wrapped here. The private workers below take each buffer as an Object (the
     * caller's MemorySegment, or its float[]/double[]/long[]/byte[] as it is), check it (Check treats an
     * array exactly as its MemorySegment.ofArray) and hand it to the backend, which wraps an array where
     * it uses it (NativeKernels: next to the downcall). A wrapper made up here escaped, and was allocated
     * (72 B per array per call, 144 B for softmax(float[], float[])), whenever C2 did not inline one of
     * the methods it passed through: which ones depends on compile order (a callee compiled on its own
     * first into more than InlineSmallCode bytes is not inlined: "already compiled into a big method").
     */

    private static int bytes(DType t) {
        return Objects.requireNonNull(t, "dtype").bytes();
    }

    // ------------------------------------------------------------------------------------------------
    // softmax and log-softmax

    /** y = softmax(x) for one row of x.length elements; y needs at least as many. */
    public void softmax(float[] x, float[] y) {
        forward(false, false, x, 0, Objects.requireNonNull(x, "x").length, y, 0, x.length, 1, x.length);
    }

    /** y = softmax(x) for one row of x.length elements; y needs at least as many. */
    public void softmax(double[] x, double[] y) {
        forward(false, true, x, 0, Objects.requireNonNull(x, "x").length, y, 0, x.length, 1, x.length);
    }

    /** y[r,:] = softmax(x[r,:]) for rows x cols matrices in arrays. */
    public void softmax(float[] x, int xOffset, int xStride, float[] y, int yOffset, int yStride, int rows, int cols) {
        forward(false, false, x, xOffset, xStride, y, yOffset, yStride, rows, cols);
    }

    /** y[r,:] = softmax(x[r,:]) for rows x cols matrices in arrays. */
    public void softmax(double[] x, int xOffset, int xStride, double[] y, int yOffset, int yStride, int rows, int cols) {
        forward(false, true, x, xOffset, xStride, y, yOffset, yStride, rows, cols);
    }

    /** y = softmax(x) for one row of n elements of type t at the start of both segments. */
    public void softmax(DType t, MemorySegment x, MemorySegment y, long n) {
        forward(false, bytes(t) == 8, x, 0, n, y, 0, n, 1, n);
    }

    /** y[r,:] = softmax(x[r,:]) for rows x cols matrices of type t starting at the segments' first byte. */
    public void softmax(DType t, MemorySegment x, long xStride, MemorySegment y, long yStride, long rows, long cols) {
        forward(false, bytes(t) == 8, x, 0, xStride, y, 0, yStride, rows, cols);
    }

    /** y = log_softmax(x) for one row. */
    public void logSoftmax(float[] x, float[] y) {
        forward(true, false, x, 0, Objects.requireNonNull(x, "x").length, y, 0, x.length, 1, x.length);
    }

    /** y = log_softmax(x) for one row. */
    public void logSoftmax(double[] x, double[] y) {
        forward(true, true, x, 0, Objects.requireNonNull(x, "x").length, y, 0, x.length, 1, x.length);
    }

    /** y[r,:] = log_softmax(x[r,:]). */
    public void logSoftmax(float[] x, int xOffset, int xStride, float[] y, int yOffset, int yStride, int rows, int cols) {
        forward(true, false, x, xOffset, xStride, y, yOffset, yStride, rows, cols);
    }

    /** y[r,:] = log_softmax(x[r,:]). */
    public void logSoftmax(double[] x, int xOffset, int xStride, double[] y, int yOffset, int yStride, int rows, int cols) {
        forward(true, true, x, xOffset, xStride, y, yOffset, yStride, rows, cols);
    }

    /** y = log_softmax(x) for one row of n elements. */
    public void logSoftmax(DType t, MemorySegment x, MemorySegment y, long n) {
        forward(true, bytes(t) == 8, x, 0, n, y, 0, n, 1, n);
    }

    /** y[r,:] = log_softmax(x[r,:]). */
    public void logSoftmax(DType t, MemorySegment x, long xStride, MemorySegment y, long yStride, long rows, long cols) {
        forward(true, bytes(t) == 8, x, 0, xStride, y, 0, yStride, rows, cols);
    }

    private void forward(boolean log, boolean f64, Object x, long xo, long xs, Object y, long yo, long ys,
                         long rows, long cols) {
        int e = f64 ? 8 : 4;
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        Check.shape(rows, cols);
        long xSpan = Check.matrix("x", x, xo, xs, rows, cols, e, false, false);
        long ySpan = Check.matrix("y", y, yo, ys, rows, cols, e, true, false);
        Check.noOverlap("y", y, yo, ys, ySpan, "x", x, xo, xs, xSpan, e, e, true);
        if (rows == 0) {
            return;
        }
        if (log) {
            k.logSoftmax(f64, x, xo, xs, y, yo, ys, rows, cols);
        } else {
            k.softmax(f64, x, xo, xs, y, yo, ys, rows, cols);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // logsumexp

    /** out[outOffset + r] = logsumexp(x[r,:]). */
    public void logSumExp(float[] x, int xOffset, int xStride, float[] out, int outOffset, int rows, int cols) {
        logSumExp(false, x, xOffset, xStride, out, outOffset, rows, cols);
    }

    /** out[outOffset + r] = logsumexp(x[r,:]). */
    public void logSumExp(double[] x, int xOffset, int xStride, double[] out, int outOffset, int rows, int cols) {
        logSumExp(true, x, xOffset, xStride, out, outOffset, rows, cols);
    }

    /** out[r] = logsumexp(x[r,:]) for a matrix of type t; out holds rows elements of type t. */
    public void logSumExp(DType t, MemorySegment x, long xStride, MemorySegment out, long rows, long cols) {
        logSumExp(bytes(t) == 8, x, 0, xStride, out, 0, rows, cols);
    }

    private void logSumExp(boolean f64, Object x, long xo, long xs, Object out, long oo, long rows, long cols) {
        int e = f64 ? 8 : 4;
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(out, "out");
        Check.shape(rows, cols);
        long xSpan = Check.matrix("x", x, xo, xs, rows, cols, e, false, false);
        Check.usable("out", out);
        if (rows > 0) {
            Check.vector("out", out, oo, rows, e, true);
        }
        Check.noOverlap("out", out, oo, rows, rows, "x", x, xo, xs, xSpan, e, e, false);
        if (rows == 0) {
            return;
        }
        k.logSumExp(f64, x, xo, xs, out, oo, rows, cols);
    }

    // ------------------------------------------------------------------------------------------------
    // general forward: temperature, mask, bias, log, exact

    /**
     * The general forward. With z[r,j] = x[r,j] + bias[r,j] where mask[r,j] != 0 and z = -inf where
     * mask[r,j] == 0 (x is not read there): y = softmax(z / temperature), or log-softmax with {@link #LOG}.
     *
     * @param temperature finite, positive, a normal float (>= Float.MIN_NORMAL)
     * @param mask        optional (null) keep-mask bytes, row stride maskStride >= cols or 0 (one row for all)
     * @param bias        optional (null) additive bias, row stride biasStride >= cols or 0
     * @param flags       {@link #LOG} and/or {@link #EXACT}
     */
    public void softmaxEx(float[] x, int xOffset, int xStride, float[] y, int yOffset, int yStride, int rows, int cols,
                          float temperature, byte[] mask, int maskOffset, int maskStride,
                          float[] bias, int biasOffset, int biasStride, int flags) {
        softmaxEx(false, x, xOffset, xStride, y, yOffset, yStride, rows, cols, temperature,
                mask, maskOffset, maskStride, bias, biasOffset, biasStride, flags);
    }

    /** As {@link #softmaxEx(float[], int, int, float[], int, int, int, int, float, byte[], int, int, float[], int, int, int)}. */
    public void softmaxEx(double[] x, int xOffset, int xStride, double[] y, int yOffset, int yStride, int rows, int cols,
                          double temperature, byte[] mask, int maskOffset, int maskStride,
                          double[] bias, int biasOffset, int biasStride, int flags) {
        softmaxEx(true, x, xOffset, xStride, y, yOffset, yStride, rows, cols, temperature,
                mask, maskOffset, maskStride, bias, biasOffset, biasStride, flags);
    }

    /** y = softmax(x / temperature) for one row. */
    public void softmax(float[] x, float[] y, float temperature) {
        softmaxEx(false, x, 0, Objects.requireNonNull(x, "x").length, y, 0, x.length, 1, x.length, temperature,
                null, 0, 0, null, 0, 0, 0);
    }

    /** The general forward on segments of type t (mask: bytes; bias: type t). */
    public void softmaxEx(DType t, MemorySegment x, long xStride, MemorySegment y, long yStride, long rows, long cols,
                          double temperature, MemorySegment mask, long maskStride, MemorySegment bias, long biasStride,
                          int flags) {
        softmaxEx(bytes(t) == 8, x, 0, xStride, y, 0, yStride, rows, cols, temperature, mask, 0, maskStride,
                bias, 0, biasStride, flags);
    }

    private void softmaxEx(boolean f64, Object x, long xo, long xs, Object y, long yo, long ys,
                           long rows, long cols, double temperature, Object mask, long mo, long ms,
                           Object bias, long bo, long bs, int flags) {
        int e = f64 ? 8 : 4;
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        Check.shape(rows, cols);
        long xSpan = Check.matrix("x", x, xo, xs, rows, cols, e, false, false);
        long ySpan = Check.matrix("y", y, yo, ys, rows, cols, e, true, false);
        long mSpan = mask == null ? 0 : Check.matrix("mask", mask, mo, ms, rows, cols, 1, false, true);
        long bSpan = bias == null ? 0 : Check.matrix("bias", bias, bo, bs, rows, cols, e, false, true);
        Check.noOverlap("y", y, yo, ys, ySpan, "x", x, xo, xs, xSpan, e, e, true);
        Check.noOverlap("y", y, yo, ys, ySpan, "mask", mask, mo, ms, mSpan, e, 1, false);
        Check.noOverlap("y", y, yo, ys, ySpan, "bias", bias, bo, bs, bSpan, e, e, false);
        if ((flags & ~(LOG | EXACT)) != 0) {
            throw new IllegalArgumentException("flags: only LOG (1) and EXACT (2) are allowed here, was " + flags);
        }
        Check.temperature(temperature, f64);
        if (rows == 0) {
            return;
        }
        k.softmaxEx(f64, x, xo, xs, y, yo, ys, rows, cols, temperature, mask, mo, ms, bias, bo, bs, flags);
    }

    // ------------------------------------------------------------------------------------------------
    // backward passes

    /** Softmax VJP (and JVP: J is symmetric) for one row: dx = p * (dy - dot(p, dy)). */
    public void softmaxBackward(float[] p, float[] dy, float[] dx) {
        int n = Objects.requireNonNull(p, "p").length;
        backward(0, false, p, 0, n, dy, 0, n, dx, 0, n, 1, n);
    }

    /** Softmax VJP for one row. */
    public void softmaxBackward(double[] p, double[] dy, double[] dx) {
        int n = Objects.requireNonNull(p, "p").length;
        backward(0, true, p, 0, n, dy, 0, n, dx, 0, n, 1, n);
    }

    /** Softmax VJP per row of rows x cols matrices (dx may be exactly p or dy). */
    public void softmaxBackward(float[] p, int pOffset, int pStride, float[] dy, int dyOffset, int dyStride,
                                float[] dx, int dxOffset, int dxStride, int rows, int cols) {
        backward(0, false, p, pOffset, pStride, dy, dyOffset, dyStride, dx, dxOffset,
                dxStride, rows, cols);
    }

    /** Softmax VJP per row. */
    public void softmaxBackward(double[] p, int pOffset, int pStride, double[] dy, int dyOffset, int dyStride,
                                double[] dx, int dxOffset, int dxStride, int rows, int cols) {
        backward(0, true, p, pOffset, pStride, dy, dyOffset, dyStride, dx, dxOffset,
                dxStride, rows, cols);
    }

    /** Softmax VJP per row on segments of type t. */
    public void softmaxBackward(DType t, MemorySegment p, long pStride, MemorySegment dy, long dyStride,
                                MemorySegment dx, long dxStride, long rows, long cols) {
        backward(0, bytes(t) == 8, p, 0, pStride, dy, 0, dyStride, dx, 0, dxStride, rows, cols);
    }

    /** Log-softmax VJP for one row: dx = dy - exp(logp) * sum(dy), logp being the log-softmax output. */
    public void logSoftmaxBackward(float[] logp, float[] dy, float[] dx) {
        int n = Objects.requireNonNull(logp, "logp").length;
        backward(1, false, logp, 0, n, dy, 0, n, dx, 0, n, 1, n);
    }

    /** Log-softmax VJP for one row. */
    public void logSoftmaxBackward(double[] logp, double[] dy, double[] dx) {
        int n = Objects.requireNonNull(logp, "logp").length;
        backward(1, true, logp, 0, n, dy, 0, n, dx, 0, n, 1, n);
    }

    /** Log-softmax VJP per row on segments of type t. */
    public void logSoftmaxBackward(DType t, MemorySegment logp, long logpStride, MemorySegment dy, long dyStride,
                                   MemorySegment dx, long dxStride, long rows, long cols) {
        backward(1, bytes(t) == 8, logp, 0, logpStride, dy, 0, dyStride, dx, 0, dxStride, rows, cols);
    }

    /** Log-softmax VJP per row of rows x cols matrices in arrays. */
    public void logSoftmaxBackward(float[] logp, int lOffset, int lStride, float[] dy, int dyOffset, int dyStride,
                                   float[] dx, int dxOffset, int dxStride, int rows, int cols) {
        backward(1, false, logp, lOffset, lStride, dy, dyOffset, dyStride, dx,
                dxOffset, dxStride, rows, cols);
    }

    /** Log-softmax VJP per row of rows x cols matrices in arrays. */
    public void logSoftmaxBackward(double[] logp, int lOffset, int lStride, double[] dy, int dyOffset, int dyStride,
                                   double[] dx, int dxOffset, int dxStride, int rows, int cols) {
        backward(1, true, logp, lOffset, lStride, dy, dyOffset, dyStride, dx,
                dxOffset, dxStride, rows, cols);
    }

    /** Log-softmax JVP for one row: out = v - dot(exp(logp), v) (J = I - 1 p^T is not symmetric). */
    public void logSoftmaxJvp(float[] logp, float[] v, float[] out) {
        int n = Objects.requireNonNull(logp, "logp").length;
        backward(2, false, logp, 0, n, v, 0, n, out, 0, n, 1, n);
    }

    /** Log-softmax JVP for one row. */
    public void logSoftmaxJvp(double[] logp, double[] v, double[] out) {
        int n = Objects.requireNonNull(logp, "logp").length;
        backward(2, true, logp, 0, n, v, 0, n, out, 0, n, 1, n);
    }

    /** Log-softmax JVP per row on segments of type t. */
    public void logSoftmaxJvp(DType t, MemorySegment logp, long logpStride, MemorySegment v, long vStride,
                              MemorySegment out, long outStride, long rows, long cols) {
        backward(2, bytes(t) == 8, logp, 0, logpStride, v, 0, vStride, out, 0, outStride, rows, cols);
    }

    private static final String[][] BACKWARD_NAMES = {
        {"p", "dy", "dx"}, {"logp", "dy", "dx"}, {"logp", "v", "out"}};

    private void backward(int op, boolean f64, Object a, long ao, long as, Object b, long bo, long bs,
                          Object o, long oo, long os, long rows, long cols) {
        String[] nm = BACKWARD_NAMES[op];
        int e = f64 ? 8 : 4;
        Objects.requireNonNull(a, nm[0]);
        Objects.requireNonNull(b, nm[1]);
        Objects.requireNonNull(o, nm[2]);
        Check.shape(rows, cols);
        long aSpan = Check.matrix(nm[0], a, ao, as, rows, cols, e, false, false);
        long bSpan = Check.matrix(nm[1], b, bo, bs, rows, cols, e, false, false);
        long oSpan = Check.matrix(nm[2], o, oo, os, rows, cols, e, true, false);
        Check.noOverlap(nm[2], o, oo, os, oSpan, nm[0], a, ao, as, aSpan, e, e, true);
        Check.noOverlap(nm[2], o, oo, os, oSpan, nm[1], b, bo, bs, bSpan, e, e, true);
        if (rows == 0) {
            return;
        }
        switch (op) {
            case 0 -> k.softmaxBackward(f64, a, ao, as, b, bo, bs, o, oo, os, rows, cols);
            case 1 -> k.logSoftmaxBackward(f64, a, ao, as, b, bo, bs, o, oo, os, rows, cols);
            default -> k.logSoftmaxJvp(f64, a, ao, as, b, bo, bs, o, oo, os, rows, cols);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Jacobians

    /**
     * The n x n Jacobian of one row (n = x.length) into jac (row-major, at least n*n elements):
     * diag(p) - p p^T, or I - 1 p^T with {@link #LOG}; x holds probabilities, or logits with
     * {@link #FROM_LOGITS}.
     */
    public void jacobian(float[] x, float[] jac, int flags) {
        int n = Objects.requireNonNull(x, "x").length;
        jacobian(false, x, 0, n, jac, 0, 1, n, flags);
    }

    /** As {@link #jacobian(float[], float[], int)}. */
    public void jacobian(double[] x, double[] jac, int flags) {
        int n = Objects.requireNonNull(x, "x").length;
        jacobian(true, x, 0, n, jac, 0, 1, n, flags);
    }

    /** Batched: rows Jacobians of cols x cols, the r-th at element r*cols*cols of jac. */
    public void jacobian(DType t, MemorySegment x, long xStride, MemorySegment jac, long rows, long cols, int flags) {
        jacobian(bytes(t) == 8, x, 0, xStride, jac, 0, rows, cols, flags);
    }

    private void jacobian(boolean f64, Object x, long xo, long xs, Object jac, long jo, long rows, long cols,
                          int flags) {
        int e = f64 ? 8 : 4;
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(jac, "jac");
        Check.shape(rows, cols);
        long nn;
        try {
            nn = Math.multiplyExact(cols, cols);
            Math.multiplyExact(Math.multiplyExact(nn, Math.max(rows, 1)), (long) e);
        } catch (ArithmeticException ex) {
            throw new IllegalArgumentException("jac: " + rows + " x " + cols + " x " + cols + " elements overflow a long", ex);
        }
        long xSpan = Check.matrix("x", x, xo, xs, rows, cols, e, false, false);
        long jSpan = Check.matrix("jac", jac, jo, nn, rows, nn, e, true, false);
        Check.noOverlap("jac", jac, jo, nn, jSpan, "x", x, xo, xs, xSpan, e, e, false);
        if ((flags & ~(LOG | FROM_LOGITS)) != 0) {
            throw new IllegalArgumentException("flags: only LOG (1) and FROM_LOGITS (4) are allowed here, was " + flags);
        }
        if (rows == 0) {
            return;
        }
        k.jacobian(f64, x, xo, xs, jac, jo, rows, cols, flags);
    }

    /**
     * out = J V for one probability row p (n = p.length) and a row-major n x k matrix V (contiguous), without
     * forming J. {@link #LOG} selects J = I - 1 p^T.
     */
    public void jacobianMatmul(float[] p, float[] v, int k, float[] out, int flags) {
        int n = Objects.requireNonNull(p, "p").length;
        jacobianMatmul(false, p, 0, n, v, 0, k, out, 0, k, k, flags);
    }

    /** As {@link #jacobianMatmul(float[], float[], int, float[], int)}. */
    public void jacobianMatmul(double[] p, double[] v, int k, double[] out, int flags) {
        int n = Objects.requireNonNull(p, "p").length;
        jacobianMatmul(true, p, 0, n, v, 0, k, out, 0, k, k, flags);
    }

    /** out (n x k, row stride outStride) = J V (n x k, row stride vStride) for the probability row p (n). */
    public void jacobianMatmul(DType t, MemorySegment p, long n, MemorySegment v, long vStride, MemorySegment out,
                               long outStride, long k, int flags) {
        jacobianMatmul(bytes(t) == 8, p, 0, n, v, 0, vStride, out, 0, outStride, k, flags);
    }

    private void jacobianMatmul(boolean f64, Object p, long po, long n, Object v, long vo, long vs,
                                Object out, long oo, long os, long kk, int flags) {
        int e = f64 ? 8 : 4;
        Objects.requireNonNull(p, "p");
        Objects.requireNonNull(v, "v");
        Objects.requireNonNull(out, "out");
        if (n < 1) {
            throw new IllegalArgumentException("n must be >= 1, was " + n);
        }
        if (kk < 1) {
            throw new IllegalArgumentException("k must be >= 1, was " + kk);
        }
        Check.vector("p", p, po, n, e, false);
        long vSpan = Check.matrix("v", v, vo, vs, n, kk, e, false, false);
        long oSpan = Check.matrix("out", out, oo, os, n, kk, e, true, false);
        Check.noOverlap("out", out, oo, os, oSpan, "p", p, po, n, n, e, e, false);
        Check.noOverlap("out", out, oo, os, oSpan, "v", v, vo, vs, vSpan, e, e, false);
        if ((flags & ~LOG) != 0) {
            throw new IllegalArgumentException("flags: only LOG (1) is allowed here, was " + flags);
        }
        k.jacobianMatmul(f64, p, po, n, v, vo, vs, out, oo, os, kk, flags);
    }

    // ------------------------------------------------------------------------------------------------
    // cross-entropy

    /**
     * Cross-entropy of softmax(logits) against class labels, fused with its gradient, for contiguous
     * rows x cols logits. loss gets rows values ({@link Reduction#NONE}) or one; grad (optional, may be
     * logits itself) gets p - t, scaled for the reduction. Labels equal to ignoreIndex are skipped; any
     * other label outside [0, cols) is rejected.
     */
    public void crossEntropy(float[] logits, int rows, int cols, long[] labels, float[] grad, float[] loss,
                             Reduction reduction, long ignoreIndex, float labelSmoothing) {
        Objects.requireNonNull(labels, "labels");
        crossEntropy(false, logits, 0, cols, labels, 0, null, 0, 0, grad, 0, cols,
                loss, 0, rows, cols, ignoreIndex, labelSmoothing, reduction);
    }

    /** As {@link #crossEntropy(float[], int, int, long[], float[], float[], Reduction, long, float)}. */
    public void crossEntropy(double[] logits, int rows, int cols, long[] labels, double[] grad, double[] loss,
                             Reduction reduction, long ignoreIndex, double labelSmoothing) {
        Objects.requireNonNull(labels, "labels");
        crossEntropy(true, logits, 0, cols, labels, 0, null, 0, 0, grad, 0, cols,
                loss, 0, rows, cols, ignoreIndex, labelSmoothing, reduction);
    }

    /** Cross-entropy against soft targets (probability rows, contiguous rows x cols). */
    public void crossEntropy(float[] logits, int rows, int cols, float[] target, float[] grad, float[] loss,
                             Reduction reduction, float labelSmoothing) {
        Objects.requireNonNull(target, "target");
        crossEntropy(false, logits, 0, cols, null, 0, target, 0, cols, grad, 0, cols,
                loss, 0, rows, cols, DEFAULT_IGNORE_INDEX, labelSmoothing, reduction);
    }

    /** Cross-entropy against soft targets (probability rows, contiguous rows x cols). */
    public void crossEntropy(double[] logits, int rows, int cols, double[] target, double[] grad, double[] loss,
                             Reduction reduction, double labelSmoothing) {
        Objects.requireNonNull(target, "target");
        crossEntropy(true, logits, 0, cols, null, 0, target, 0, cols, grad, 0, cols,
                loss, 0, rows, cols, DEFAULT_IGNORE_INDEX, labelSmoothing, reduction);
    }

    /**
     * The general cross-entropy on segments of type t: exactly one of labels (rows int64 values) and target
     * (rows x cols, stride targetStride) is non-null; grad (stride gradStride) is optional.
     */
    public void crossEntropy(DType t, MemorySegment logits, long logitsStride, MemorySegment labels,
                             MemorySegment target, long targetStride, MemorySegment grad, long gradStride,
                             MemorySegment loss, long rows, long cols, long ignoreIndex, double labelSmoothing,
                             Reduction reduction) {
        crossEntropy(bytes(t) == 8, logits, 0, logitsStride, labels, 0, target, 0, targetStride, grad, 0, gradStride,
                loss, 0, rows, cols, ignoreIndex, labelSmoothing, reduction);
    }

    /* Cross-entropy's checks come in pieces of under 325 bytecodes (C2's FreqInlineSize). */
    private void crossEntropy(boolean f64, Object x, long xo, long xs, Object labels, long lo,
                              Object target, long to, long ts, Object grad, long go, long gs,
                              Object loss, long lossOff, long rows, long cols, long ignoreIndex,
                              double smoothing, Reduction reduction) {
        Objects.requireNonNull(x, "logits");
        Objects.requireNonNull(loss, "loss");
        int e = f64 ? 8 : 4;
        Objects.requireNonNull(reduction, "reduction");
        if ((labels == null) == (target == null)) {
            throw new IllegalArgumentException("exactly one of labels and target must be given, got "
                    + (labels == null ? "neither" : "both"));
        }
        ceCheck(e, x, xo, xs, labels, lo, target, to, ts, grad, go, gs, loss, lossOff, rows, cols, ignoreIndex, smoothing,
                reduction);
        if (rows == 0 && reduction == Reduction.NONE) {
            return;
        }
        k.crossEntropy(f64, x, xo, xs, labels, lo, target, to, ts, grad, go, gs, loss, lossOff, rows, cols, ignoreIndex,
                smoothing, reduction.ordinal());
    }

    private static void ceCheck(int e, Object x, long xo, long xs, Object labels, long lo,
                                Object target, long to, long ts, Object grad, long go, long gs,
                                Object loss, long lossOff, long rows, long cols, long ignoreIndex,
                                double smoothing, Reduction reduction) {
        Check.shape(rows, cols);
        long xSpan = Check.matrix("logits", x, xo, xs, rows, cols, e, false, false);
        long lSpan = labels != null ? ceLabelsSpan(labels, lo, rows) : 0;
        long tSpan = labels == null ? Check.matrix("target", target, to, ts, rows, cols, e, false, false) : 0;
        long gSpan = grad == null ? 0 : Check.matrix("grad", grad, go, gs, rows, cols, e, true, false);
        long nLoss = reduction == Reduction.NONE ? rows : 1;
        Check.usable("loss", loss);
        if (nLoss > 0) {
            Check.vector("loss", loss, lossOff, nLoss, e, true);
        }
        if (grad != null) {
            ceGradOverlaps(x, xo, xs, xSpan, labels, lo, lSpan, target, to, ts, tSpan, grad, go, gs, gSpan, loss, lossOff,
                    nLoss, rows, e);
        }
        ceLossOverlaps(x, xo, xs, xSpan, labels, lo, lSpan, target, to, ts, tSpan, loss, lossOff, nLoss, rows, e);
        if (!(smoothing >= 0 && smoothing <= 1)) {
            throw new IllegalArgumentException("labelSmoothing must be in [0, 1], was " + smoothing);
        }
        if (labels != null) {
            ceLabelsInRange(labels, lo, rows, cols, ignoreIndex);
        }
    }

    private static long ceLabelsSpan(Object labels, long lo, long rows) {
        Check.usable("labels", labels);
        if (rows > 0) {
            Check.vector("labels", labels, lo, rows, 8, false);
        }
        return rows;
    }

    private static void ceGradOverlaps(Object x, long xo, long xs, long xSpan, Object labels, long lo,
                                       long lSpan, Object target, long to, long ts, long tSpan, Object grad,
                                       long go, long gs, long gSpan, Object loss, long lossOff, long nLoss,
                                       long rows, int e) {
        Check.noOverlap("grad", grad, go, gs, gSpan, "logits", x, xo, xs, xSpan, e, e, true);
        Check.noOverlap("grad", grad, go, gs, gSpan, "target", target, to, ts, tSpan, e, e, false);
        Check.noOverlap("grad", grad, go, gs, gSpan, "labels", labels, lo, rows, lSpan, e, 8, false);
        Check.noOverlap("loss", loss, lossOff, nLoss, nLoss, "grad", grad, go, gs, gSpan, e, e, false);
    }

    private static void ceLossOverlaps(Object x, long xo, long xs, long xSpan, Object labels, long lo,
                                       long lSpan, Object target, long to, long ts, long tSpan, Object loss,
                                       long lossOff, long nLoss, long rows, int e) {
        Check.noOverlap("loss", loss, lossOff, nLoss, nLoss, "logits", x, xo, xs, xSpan, e, e, false);
        Check.noOverlap("loss", loss, lossOff, nLoss, nLoss, "target", target, to, ts, tSpan, e, e, false);
        Check.noOverlap("loss", loss, lossOff, nLoss, nLoss, "labels", labels, lo, rows, lSpan, e, 8, false);
    }

    private static void ceLabelsInRange(Object labels, long lo, long rows, long cols, long ignoreIndex) {
        for (long r = 0; r < rows; r++) {
            long label = labels instanceof long[] a ? a[(int) (lo + r)]
                    : ((MemorySegment) labels).getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, lo + r);
            if ((label < 0 || label >= cols) && label != ignoreIndex) {
                throw new IllegalArgumentException("labels[" + r + "] = " + label + " is outside [0, " + cols
                        + ") and is not the ignore index " + ignoreIndex);
            }
        }
    }
}
