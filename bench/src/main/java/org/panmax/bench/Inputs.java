package org.panmax.bench;

import java.util.SplittableRandom;

/** Fixed-seed inputs and the double reference the benchmarks check themselves against once. */
final class Inputs {
    private Inputs() {}

    /** Logits ~ 3 * U(-1, 1) + N-ish noise: fresh, never zeros, fixed seed. */
    static double[] logits(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] z = new double[n];
        for (int i = 0; i < n; i++) {
            z[i] = 3 * (r.nextDouble() * 2 - 1) + (r.nextDouble() - 0.5);
        }
        return z;
    }

    static float[] floats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    /**
     * Checks y (rows x cols) against softmax of x computed in double: fails loudly where an output is off by more
     * than tol relative (+ 1e-30 absolute); returns the largest relative error among outputs above 1e-30.
     */
    static double checkSoftmax(double[] x, double[] y, int rows, int cols, double tol, String what) {
        double worst = 0;
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < cols; j++) {
                m = Math.max(m, x[r * cols + j]);
            }
            double s = 0;
            for (int j = 0; j < cols; j++) {
                s += Math.exp(x[r * cols + j] - m);
            }
            for (int j = 0; j < cols; j++) {
                double want = Math.exp(x[r * cols + j] - m) / s;
                double got = y[r * cols + j];
                if (!(Math.abs(got - want) <= tol * want + 1e-30)) {
                    throw new IllegalStateException(what + ": wrong result at [" + r + "," + j + "]: " + got + " vs " + want
                            + " — a wrong fast path is not fast");
                }
                if (want > 1e-30) {
                    worst = Math.max(worst, Math.abs(got - want) / want);
                }
            }
        }
        return worst;
    }

    static double[] widen(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** "256x1000" -> {256, 1000}. */
    static int[] shape(String s) {
        String[] p = s.split("x");
        return new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
    }
}
