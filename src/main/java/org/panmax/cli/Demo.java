package org.panmax.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;
import org.panmax.Panmax;
import org.panmax.Reduction;

/**
 * {@code panmax demo}: a short tour of what the library guarantees, then a quick native-vs-JVM timing
 * table (System.nanoTime medians; the JMH suite in bench/ is the measurement to quote).
 */
final class Demo {
    private Demo() {}

    static void run(PrintStream out) {
        Panmax pm = Panmax.get();
        out.println("panmax demo — default backend: " + pm.name());
        out.println("  " + Panmax.nativeStatus());
        out.println("  backends present: " + Panmax.backends());
        out.println();

        // The binary example of the seed documents: z = [z1, z2].
        float[] z = {2.0f, 1.0f};
        float[] p = new float[2];
        pm.softmax(z, p);
        double sigmoid = 1 / (1 + Math.exp(-(z[0] - z[1])));
        out.printf("1. binary example z = %s -> p = %s; p1 = sigmoid(z1 - z2) = %.7f%n", Arrays.toString(z),
                Arrays.toString(p), sigmoid);
        float[] jac = new float[4];
        pm.jacobian(p, jac, 0);
        out.printf("   Jacobian diag(p) - p p^T = [[%.6f, %.6f], [%.6f, %.6f]]  (p1(1-p1) = %.6f, -p1 p2 = %.6f)%n",
                jac[0], jac[1], jac[2], jac[3], p[0] * (1 - p[0]), -p[0] * p[1]);

        float[] x = {1, 2, 3, 4, 1, 2, 3};
        float[] y = new float[x.length];
        pm.softmax(x, y);
        double sum = 0;
        for (float v : y) {
            sum += v;
        }
        out.printf("2. softmax%s = %s, sum = %.9f%n", Arrays.toString(x), Arrays.toString(y), sum);

        float[] shifted = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            shifted[i] = x[i] + 1000f;
        }
        float[] y2 = new float[x.length];
        pm.softmax(shifted, y2);
        double maxDiff = 0;
        for (int i = 0; i < x.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(y[i] - y2[i]));
        }
        out.printf("3. shift invariance: softmax(x + 1000) differs from softmax(x) by at most %.3g%n", maxDiff);

        float[] big = {1e30f, 1e30f - 1e24f, 88.7f, -1e30f, Float.NEGATIVE_INFINITY};
        float[] yb = new float[big.length];
        pm.softmax(big, yb);
        out.printf("4. large logits %s -> %s (no overflow: exp(z - max), never exp(z))%n", Arrays.toString(big),
                Arrays.toString(yb));

        float[] logits = {2.0f, 0.5f, -1.0f};
        float[] grad = new float[3];
        float[] loss = new float[1];
        pm.crossEntropy(logits, 1, 3, new long[] {0}, grad, loss, Reduction.NONE, Panmax.DEFAULT_IGNORE_INDEX, 0f);
        out.printf("5. cross-entropy of %s against class 0: loss = %.6f (= logsumexp - z_0), gradient p - t = %s%n",
                Arrays.toString(logits), loss[0], Arrays.toString(grad));
        out.println();

        timings(out);
    }

    private static void timings(PrintStream out) {
        int[][] shapes = {{1, 1024}, {256, 1000}};
        List<String> names = Panmax.backends();
        out.println("Quick timing, float32 softmax (median of 15 batches; see bench/ for the JMH report):");
        out.printf("  %-16s %16s %18s%n", "backend", "n=1024 (ns)", "256x1000 (us)");
        double[] scalar = new double[shapes.length];
        double[][] all = new double[names.size()][shapes.length];
        for (int b = 0; b < names.size(); b++) {
            Panmax pm = Panmax.backend(names.get(b));
            for (int s = 0; s < shapes.length; s++) {
                all[b][s] = median(pm, shapes[s][0], shapes[s][1]);
                if (names.get(b).equals("java-scalar")) {
                    scalar[s] = all[b][s];
                }
            }
        }
        for (int b = 0; b < names.size(); b++) {
            out.printf("  %-16s %10.0f %6s %12.1f %6s%n", names.get(b), all[b][0], ratio(scalar[0], all[b][0]),
                    all[b][1] / 1000, ratio(scalar[1], all[b][1]));
        }
        out.println("  (xN = times faster than java-scalar)");
    }

    private static String ratio(double base, double v) {
        return base > 0 ? String.format("x%.1f", base / v) : "";
    }

    private static double median(Panmax pm, int rows, int cols) {
        float[] x = Main.randomLogits(rows * cols, 42);
        float[] y = new float[rows * cols];
        int reps = Math.max(1, 200_000 / (rows * cols));
        long[] t = new long[15];
        // Warm-up, at least 45 batches and 250 ms: C2 compiles the Java backends and the facade's call path
        // in the background, and a shorter warm-up timed the first native backend at half its speed here.
        long warmEnd = System.nanoTime() + 250_000_000L;
        for (int w = 0; w < 3 * t.length || System.nanoTime() < warmEnd; w++) {
            for (int i = 0; i < reps; i++) {
                pm.softmax(x, 0, cols, y, 0, cols, rows, cols);
            }
        }
        for (int k = 0; k < t.length; k++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                pm.softmax(x, 0, cols, y, 0, cols, rows, cols);
            }
            t[k] = (System.nanoTime() - t0) / reps;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }
}
