package org.panmax.cli;

import java.util.Arrays;
import java.util.List;
import org.panmax.CrossEntropyOptions;
import org.panmax.JacobianOptions;
import org.panmax.Panmax;
import org.panmax.Reduction;
import org.panmax.SampleOptions;
import org.panmax.SampleOutputs;
import org.panmax.SoftmaxOptions;
import org.panmax.TopKOptions;

/**
 * The CLI's only door to the library facade ({@link Panmax}): everything else in {@code org.panmax.cli}
 * (parsing, input, output, the demo, the benchmark runner) goes through here, so a change of the public
 * API is ported in this one class.
 *
 * <p>Inputs are rows of logits as {@code double[][]} (all rows of one length, already checked by the
 * CLI, every value representable in the dtype); results come back as a {@link Matrix} in the dtype the
 * work was done in. {@code backend} is a backend name, or null for the library's default.
 */
final class Ops {
    private Ops() {}

    /** A row-major rows x cols result in one dtype: exactly one of {@code f} (f32) and {@code d} (f64) is set. */
    record Matrix(Dtype dtype, int rows, int cols, float[] f, double[] d) {
        double get(int r, int c) {
            int i = r * cols + c;
            return f != null ? f[i] : d[i];
        }
    }

    /** Cross-entropy per row: loss is rows x 1, gradient (p - t) rows x cols. */
    record CrossEntropy(Matrix loss, Matrix gradient) {}

    /** Names of the backends present, fastest first. */
    static List<String> backends() {
        return Panmax.backends();
    }

    /** One line on the native library: where it came from, its ISAs, or why it is absent. */
    static String nativeStatus() {
        return Panmax.nativeStatus();
    }

    /** The backend that {@code backend} (a name or null) resolves to; IllegalArgumentException listing the names. */
    static String resolve(String backend) {
        return facade(backend).name();
    }

    /** The default backend's name, or "none: why" when the default cannot be had (e.g. a bad PANMAX_ISA). */
    static String defaultBackend() {
        try {
            return Panmax.get().name();
        } catch (IllegalStateException e) {
            return "none: " + e.getMessage();
        }
    }

    private static Panmax facade(String backend) {
        return backend == null ? Panmax.get() : Panmax.backend(backend);
    }

    /** softmax(x / temperature) per row, or log-softmax with {@code log}. */
    static Matrix softmax(String backend, Dtype t, double[][] x, double temperature, boolean log) {
        Panmax pm = facade(backend);
        int rows = x.length;
        int n = x[0].length;
        SoftmaxOptions o = SoftmaxOptions.DEFAULT.withTemperature(temperature).withLog(log);
        if (t == Dtype.f64) {
            double[] in = flatD(x);
            double[] y = new double[in.length];
            pm.softmax(org.panmax.Matrix.of(in, rows, n), org.panmax.Matrix.of(y, rows, n), o);
            return new Matrix(t, rows, n, null, y);
        }
        float[] in = flatF(x);
        float[] y = new float[in.length];
        pm.softmax(org.panmax.Matrix.of(in, rows, n), org.panmax.Matrix.of(y, rows, n), o);
        return new Matrix(t, rows, n, y, null);
    }

    /** logsumexp of each row: rows x 1. */
    static Matrix logSumExp(String backend, Dtype t, double[][] x) {
        Panmax pm = facade(backend);
        int rows = x.length;
        int n = x[0].length;
        if (t == Dtype.f64) {
            double[] out = new double[rows];
            pm.logSumExp(org.panmax.Matrix.of(flatD(x), rows, n), org.panmax.Matrix.of(out));
            return new Matrix(t, rows, 1, null, out);
        }
        float[] out = new float[rows];
        pm.logSumExp(org.panmax.Matrix.of(flatF(x), rows, n), org.panmax.Matrix.of(out));
        return new Matrix(t, rows, 1, out, null);
    }

    /**
     * The n x n Jacobian of softmax (or log-softmax) with respect to the logits of each row, stacked:
     * (rows * n) x n. The caller bounds rows * n * n (see {@code Main.MAX_JACOBIAN_ELEMENTS}).
     */
    static Matrix jacobian(String backend, Dtype t, double[][] x, boolean log) {
        Panmax pm = facade(backend);
        int rows = x.length;
        int n = x[0].length;
        int size = Math.multiplyExact(Math.multiplyExact(rows, n), n);
        JacobianOptions o = JacobianOptions.DEFAULT.withFromLogits(true).withLog(log);
        if (t == Dtype.f64) {
            double[] j = new double[size];
            pm.jacobian(org.panmax.Matrix.of(flatD(x), rows, n), org.panmax.Matrix.of(j, (long) rows * n, n), o);
            return new Matrix(t, rows * n, n, null, j);
        }
        float[] j = new float[size];
        pm.jacobian(org.panmax.Matrix.of(flatF(x), rows, n), org.panmax.Matrix.of(j, (long) rows * n, n), o);
        return new Matrix(t, rows * n, n, j, null);
    }

    /** Cross-entropy of softmax(x[r]) against class targets[r], with label smoothing, and its gradient. */
    static CrossEntropy crossEntropy(String backend, Dtype t, double[][] x, long[] targets, double smoothing) {
        Panmax pm = facade(backend);
        int rows = x.length;
        int n = x[0].length;
        if (t == Dtype.f64) {
            double[] g = new double[rows * n];
            double[] l = new double[rows];
            pm.crossEntropy(org.panmax.Matrix.of(flatD(x), rows, n), labels(targets), org.panmax.Matrix.of(g, rows, n), org.panmax.Matrix.of(l), ce(smoothing));
            return new CrossEntropy(new Matrix(t, rows, 1, null, l), new Matrix(t, rows, n, null, g));
        }
        float[] g = new float[rows * n];
        float[] l = new float[rows];
        pm.crossEntropy(org.panmax.Matrix.of(flatF(x), rows, n), labels(targets), org.panmax.Matrix.of(g, rows, n), org.panmax.Matrix.of(l), ce(smoothing));
        return new CrossEntropy(new Matrix(t, rows, 1, l, null), new Matrix(t, rows, n, g, null));
    }

    /**
     * Median nanoseconds of one float32 softmax over rows x cols on {@code backend} (15 timed batches after
     * at least 250 ms of warm-up: C2 compiles the Java backends and the call path in the background, and a
     * shorter warm-up timed the first native backend at half its speed). The demo's quick table when the
     * JMH suite is not at hand.
     */
    static double softmaxMedianNanos(String backend, int rows, int cols, float[] x) {
        Panmax pm = facade(backend);
        float[] y = new float[rows * cols];
        org.panmax.Matrix xv = org.panmax.Matrix.of(x, rows, cols);
        org.panmax.Matrix yv = org.panmax.Matrix.of(y, rows, cols);
        int reps = Math.max(1, 200_000 / (rows * cols));
        long[] t = new long[15];
        long warmEnd = System.nanoTime() + 250_000_000L;
        for (int w = 0; w < 3 * t.length || System.nanoTime() < warmEnd; w++) {
            for (int i = 0; i < reps; i++) {
                pm.softmax(xv, yv);
            }
        }
        for (int k = 0; k < t.length; k++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                pm.softmax(xv, yv);
            }
            t[k] = (System.nanoTime() - t0) / reps;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }


    /** Tokens and their filtered probability and log-probability: rows x draws each. */
    record Samples(long[][] tokens, double[][] probabilities, double[][] logprobs) {}

    /**
     * {@code draws} tokens per row from steps 0 .. draws - 1 of {@code seed}, with the given filters (topK 0, topP 1,
     * minP 0: off; temperature 0: greedy).
     */
    static Samples sample(String backend, Dtype t, double[][] x, double temperature, long topK, double topP,
                          double minP, long seed, int draws) {
        Panmax pm = facade(backend);
        int rows = x.length;
        int n = x[0].length;
        SampleOptions base = SampleOptions.DEFAULT.withTemperature(temperature).withTopP(topP).withMinP(minP)
                .withSeed(seed);
        if (topK > 0) {
            base = base.withTopK(topK);
        }
        org.panmax.Matrix logits = t == Dtype.f64 ? org.panmax.Matrix.of(flatD(x), rows, n)
                : org.panmax.Matrix.of(flatF(x), rows, n);
        long[] tok = new long[rows];
        double[] sc64 = new double[rows * SampleOutputs.SCORES];
        float[] sc32 = new float[rows * SampleOutputs.SCORES];
        org.panmax.Matrix scores = t == Dtype.f64 ? org.panmax.Matrix.of(sc64, rows, SampleOutputs.SCORES)
                : org.panmax.Matrix.of(sc32, rows, SampleOutputs.SCORES);
        SampleOutputs out = SampleOutputs.of(org.panmax.Matrix.of(tok, 0, rows, 1, 1)).withScores(scores);
        Samples r = new Samples(new long[rows][draws], new double[rows][draws], new double[rows][draws]);
        for (int d = 0; d < draws; d++) {
            pm.sample(logits, out, base.withStep(d));
            for (int i = 0; i < rows; i++) {
                int o = i * SampleOutputs.SCORES;
                r.tokens()[i][d] = tok[i];
                r.probabilities()[i][d] = t == Dtype.f64 ? sc64[o + SampleOutputs.PROBABILITY] : sc32[o + SampleOutputs.PROBABILITY];
                r.logprobs()[i][d] = t == Dtype.f64 ? sc64[o + SampleOutputs.LOGPROB] : sc32[o + SampleOutputs.LOGPROB];
            }
        }
        return r;
    }

    /** The k best entries of every row, best first: indices and probabilities, rows x k each. */
    static Samples topK(String backend, Dtype t, double[][] x, int k) {
        Panmax pm = facade(backend);
        int rows = x.length;
        int n = x[0].length;
        long[] idx = new long[rows * k];
        double[] v64 = new double[rows * k];
        float[] v32 = new float[rows * k];
        if (t == Dtype.f64) {
            pm.topK(org.panmax.Matrix.of(flatD(x), rows, n), org.panmax.Matrix.of(idx, 0, rows, k, k),
                    org.panmax.Matrix.of(v64, rows, k), TopKOptions.of(k));
        } else {
            pm.topK(org.panmax.Matrix.of(flatF(x), rows, n), org.panmax.Matrix.of(idx, 0, rows, k, k),
                    org.panmax.Matrix.of(v32, rows, k), TopKOptions.of(k));
        }
        Samples r = new Samples(new long[rows][k], new double[rows][k], null);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < k; j++) {
                r.tokens()[i][j] = idx[i * k + j];
                r.probabilities()[i][j] = t == Dtype.f64 ? v64[i * k + j] : v32[i * k + j];
            }
        }
        return r;
    }

    /** Labels as a column view (one per row). */
    private static org.panmax.Matrix labels(long[] targets) {
        return org.panmax.Matrix.of(targets, 0, targets.length, 1, 1);
    }

    private static CrossEntropyOptions ce(double smoothing) {
        return CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE).withLabelSmoothing(smoothing);
    }

    private static double[] flatD(double[][] x) {
        int n = x[0].length;
        double[] out = new double[Math.multiplyExact(x.length, n)];
        for (int r = 0; r < x.length; r++) {
            System.arraycopy(x[r], 0, out, r * n, n);
        }
        return out;
    }

    private static float[] flatF(double[][] x) {
        int n = x[0].length;
        float[] out = new float[Math.multiplyExact(x.length, n)];
        for (int r = 0; r < x.length; r++) {
            for (int j = 0; j < n; j++) {
                out[r * n + j] = (float) x[r][j];
            }
        }
        return out;
    }
}
