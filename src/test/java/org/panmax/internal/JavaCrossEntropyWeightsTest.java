package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.panmax.internal.JavaTestSupport.assertNaNRow;
import static org.panmax.internal.JavaTestSupport.assertRowEquals;
import static org.panmax.internal.JavaTestSupport.close;
import static org.panmax.internal.JavaTestSupport.eps;
import static org.panmax.internal.JavaTestSupport.gauss;
import static org.panmax.internal.JavaTestSupport.get;
import static org.panmax.internal.JavaTestSupport.matrix;
import static org.panmax.internal.JavaTestSupport.round;
import static org.panmax.internal.JavaTestSupport.row;
import static org.panmax.internal.JavaTestSupport.zeros;

import java.lang.foreign.Arena;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.panmax.CrossEntropyOptions;
import org.panmax.Matrix;
import org.panmax.Reduction;
import org.panmax.Reference;

/**
 * Per-class weights of cross-entropy ({@link CrossEntropyOptions#weight()}) on the Java backends, with PyTorch's
 * {@code cross_entropy(weight=...)} semantics: against {@link Reference#crossEntropy} on random calls (labels and
 * soft targets, ignored rows, smoothing, every reduction, zero weights, −inf logits, in-place gradients, arrays
 * and segments), the gradient against central differences of the loss, and the empty or zero divisor.
 */
class JavaCrossEntropyWeightsTest {

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> backendsAndTypes() {
        return JavaTestSupport.backendsAndTypes();
    }

    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void weightedCallsAgreeWithTheReference(Kernels k, boolean f64) {
        SplittableRandom rnd = new SplittableRandom(JavaTestSupport.SEED ^ k.name().hashCode() ^ (f64 ? 7 : 0));
        int[] sizes = {1, 2, 3, 7, 16, 17, 33, 100};
        try (Arena arena = Arena.ofConfined()) {
            for (int trial = 0; trial < 200; trial++) {
                int rows = 1 + rnd.nextInt(5);
                int n = sizes[rnd.nextInt(sizes.length)];
                boolean soft = rnd.nextBoolean();
                Reduction red = Reduction.values()[rnd.nextInt(3)];
                double smoothing = round(f64, new double[] {0, 0.1, 1}[rnd.nextInt(3)]);
                double[][] z = new double[rows][n];
                double[][] t = new double[rows][n];
                long[] labels = new long[rows];
                double[] w = new double[n];
                for (int j = 0; j < n; j++) {
                    w[j] = rnd.nextInt(5) == 0 ? 0 : round(f64, 2 * rnd.nextDouble());
                }
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < n; j++) {
                        z[r][j] = round(f64, 3 * gauss(rnd));
                        t[r][j] = rnd.nextInt(3) == 0 ? 0 : rnd.nextDouble();
                    }
                    double ts = Reference.sum(t[r]);
                    for (int j = 0; j < n; j++) {
                        t[r][j] = round(f64, ts > 0 ? t[r][j] / ts : 0);
                    }
                    labels[r] = rnd.nextInt(4) == 0 ? -100 : rnd.nextInt(n);
                    if (n > 1 && rnd.nextInt(6) == 0) {
                        z[r][rnd.nextInt(n)] = Double.NEGATIVE_INFINITY; // a masked logit
                    }
                }
                boolean withGrad = rnd.nextInt(4) != 0;
                boolean inPlace = withGrad && rnd.nextInt(3) == 0;
                Arena where = rnd.nextBoolean() ? arena : null;
                Matrix x = matrix(z, f64, where, rnd.nextInt(3), rnd.nextInt(3));
                Matrix g = !withGrad ? null : inPlace ? x : matrix(new double[rows][n], f64, where, 0, rnd.nextInt(2));
                Matrix loss = zeros(1, red == Reduction.NONE ? rows : 1, f64, where);
                Matrix targets = soft ? matrix(t, f64, where) : Matrix.of(labels);
                k.crossEntropy(x, targets, g, loss, new CrossEntropyOptions(red, -100, smoothing, row(w, f64, where)));

                Reference.CrossEntropy want = Reference.crossEntropy(z, soft ? null : labels, soft ? t : null, w, smoothing,
                        -100, red);
                String what = k.name() + " trial " + trial + " rows=" + rows + " n=" + n + " soft=" + soft + " " + red
                        + " s=" + smoothing + " grad=" + withGrad + (inPlace ? " in place" : "") + " seed=" + JavaTestSupport.SEED;
                // losses are differences of Σu lse and Σu z: the error scales with their size
                double size = 1;
                for (int r = 0; r < rows; r++) {
                    for (int j = 0; j < n; j++) {
                        size += (w[j] + 1) * (Math.abs(Double.isFinite(z[r][j]) ? z[r][j] : 0) + Math.log(n) + 1);
                    }
                }
                for (int i = 0; i < want.loss().length; i++) {
                    close(want.loss()[i], get(loss, 0, i), 32 * eps(f64) * size, what + " loss " + i);
                }
                if (withGrad) {
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < n; j++) {
                            close(want.grad()[r][j], get(g, r, j), 32 * eps(f64) * (1 + 2 * n), what + " grad [" + r + "," + j + "]");
                        }
                    }
                }
            }
        }
    }

    /** The gradient is the derivative of the (SUM or MEAN) loss: central differences in double. */
    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void gradientIsTheDerivativeOfTheLoss(Kernels k, boolean f64) {
        if (!f64) {
            return; // differences of float losses have no digits left to compare
        }
        SplittableRandom rnd = new SplittableRandom(JavaTestSupport.SEED + 3);
        int rows = 3;
        int n = 5;
        for (boolean soft : new boolean[] {false, true}) {
            for (double smoothing : new double[] {0, 0.2}) {
                for (Reduction red : new Reduction[] {Reduction.SUM, Reduction.MEAN}) {
                    double[][] z = new double[rows][n];
                    double[][] t = new double[rows][n];
                    double[] w = {0.5, 2, 0, 1.25, 1};
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < n; j++) {
                            z[r][j] = 2 * gauss(rnd);
                            t[r][j] = rnd.nextDouble() / n;
                        }
                    }
                    long[] labels = {3, -100, 1};
                    Matrix targets = soft ? matrix(t, true, null) : Matrix.of(labels);
                    CrossEntropyOptions o = new CrossEntropyOptions(red, -100, smoothing, row(w, true, null));
                    Matrix g = zeros(rows, n, true, null);
                    k.crossEntropy(matrix(z, true, null), targets, g, zeros(1, 1, true, null), o);
                    double h = 1e-5;
                    for (int r = 0; r < rows; r++) {
                        for (int j = 0; j < n; j++) {
                            double keep = z[r][j];
                            z[r][j] = keep + h;
                            double up = loss(k, z, targets, o);
                            z[r][j] = keep - h;
                            double down = loss(k, z, targets, o);
                            z[r][j] = keep;
                            double fd = (up - down) / (2 * h);
                            close(fd, get(g, r, j), 1e-7 * (1 + Math.abs(fd)), k.name() + " soft=" + soft + " s=" + smoothing
                                    + " " + red + " dL/dz[" + r + "," + j + "]");
                        }
                    }
                }
            }
        }
    }

    static double loss(Kernels k, double[][] z, Matrix targets, CrossEntropyOptions o) {
        Matrix loss = zeros(1, 1, true, null);
        k.crossEntropy(matrix(z, true, null), targets, null, loss, o);
        return get(loss, 0, 0);
    }

    /**
     * MEAN divides by Σ w[label] over the counted rows: a divisor of 0 (every counted label weighs 0) gives a NaN
     * loss and NaN gradients in the counted rows, as PyTorch; ignored rows keep 0. All rows ignored: NaN, zeros.
     * Soft targets divide by the rows whatever the weights.
     */
    @ParameterizedTest(name = "{0} f64={1}")
    @MethodSource("backendsAndTypes")
    void emptyOrZeroDivisorGivesNaN(Kernels k, boolean f64) {
        double[][] z = {{1, 2, 3}, {0, -1, 4}, {2, 2, 2}};
        double[] w = {0, 1, 3};
        Matrix g = zeros(3, 3, f64, null);
        Matrix loss = zeros(1, 1, f64, null);
        CrossEntropyOptions mean = new CrossEntropyOptions(Reduction.MEAN, -100, 0, row(w, f64, null));
        k.crossEntropy(matrix(z, f64, null), Matrix.of(new long[] {0, -100, 0}), g, loss, mean);
        assertTrue(Double.isNaN(get(loss, 0, 0)), k.name() + " zero divisor: loss " + get(loss, 0, 0));
        assertNaNRow(g, 0, k.name() + " zero divisor, counted row");
        assertRowEquals(0, g, 1, k.name() + " zero divisor, ignored row");
        assertNaNRow(g, 2, k.name() + " zero divisor, counted row");

        k.crossEntropy(matrix(z, f64, null), Matrix.of(new long[] {-100, -100, -100}), g, loss, mean);
        assertTrue(Double.isNaN(get(loss, 0, 0)), k.name() + " all ignored: loss " + get(loss, 0, 0));
        for (int r = 0; r < 3; r++) {
            assertRowEquals(0, g, r, k.name() + " all ignored");
        }

        k.crossEntropy(matrix(z, f64, null), Matrix.of(new long[] {0, -100, 0}), g, loss, mean.withReduction(Reduction.SUM));
        assertEquals(0, get(loss, 0, 0), 0, k.name() + " zero weights, SUM");

        double[][] t = {{0, 0, 1}, {0.5, 0.5, 0}, {1, 0, 0}};
        k.crossEntropy(matrix(z, f64, null), matrix(t, f64, null), g, loss, mean);
        Reference.CrossEntropy want = Reference.crossEntropy(z, null, t, w, 0, -100, Reduction.SUM);
        close(want.loss()[0] / 3, get(loss, 0, 0), 1e-5, k.name() + " soft targets divide by the rows");
    }
}
