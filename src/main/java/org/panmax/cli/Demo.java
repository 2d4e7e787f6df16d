package org.panmax.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code panmax demo}: a short tour of what the library guarantees, then native vs JVM timings: the
 * demo's JMH suite with a progress line and one summary table when the JMH jar is given
 * ({@code ./panmax demo} gives it), else a quick System.nanoTime table (the jar on its own).
 */
final class Demo {
    private Demo() {}

    static void run(PrintStream out, boolean terminal, Path jmhJar, Path results) throws IOException, InterruptedException {
        String backend = Ops.resolve(null);
        out.println("panmax demo — default backend: " + backend + "; present: " + Ops.backends());
        out.println("  " + Ops.nativeStatus());
        out.println();

        double[][] z = {{2.0, 1.0}};
        Ops.Matrix p = Ops.softmax(null, Dtype.f32, z, 1, false);
        double sigmoid = 1 / (1 + Math.exp(-(z[0][0] - z[0][1])));
        out.printf(Locale.ROOT, "1. binary example z = [2, 1] -> p = %s; p1 = sigmoid(z1 - z2) = %.7f%n", Arrays.toString(p.f()),
                sigmoid);
        Ops.Matrix jac = Ops.jacobian(null, Dtype.f32, z, false);
        float p0 = p.f()[0];
        float p1 = p.f()[1];
        out.printf(Locale.ROOT, "   Jacobian diag(p) - p p^T = [[%.6f, %.6f], [%.6f, %.6f]]  (p1(1-p1) = %.6f, -p1 p2 = %.6f)%n",
                jac.f()[0], jac.f()[1], jac.f()[2], jac.f()[3], p0 * (1 - p0), -p0 * p1);

        double[] x = {1, 2, 3, 4, 1, 2, 3};
        float[] y = Ops.softmax(null, Dtype.f32, new double[][] {x}, 1, false).f();
        double sum = 0;
        for (float v : y) {
            sum += v;
        }
        out.printf(Locale.ROOT, "2. softmax[1, 2, 3, 4, 1, 2, 3] = %s, sum = %.9f%n", Arrays.toString(y), sum);

        double[] shifted = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            shifted[i] = x[i] + 1000;
        }
        float[] y2 = Ops.softmax(null, Dtype.f32, new double[][] {shifted}, 1, false).f();
        double maxDiff = 0;
        for (int i = 0; i < x.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(y[i] - y2[i]));
        }
        out.printf(Locale.ROOT, "3. shift invariance: softmax(x + 1000) differs from softmax(x) by at most %.3g%n", maxDiff);

        double[] big = {1e30f, 1e30f - 1e24f, 88.7f, -1e30f, Double.NEGATIVE_INFINITY};
        float[] yb = Ops.softmax(null, Dtype.f32, new double[][] {big}, 1, false).f();
        out.printf(Locale.ROOT, "4. large logits [1e30, 1e30 - 1e24, 88.7, -1e30, -inf] -> %s (no overflow: exp(z - max),"
                + " never exp(z))%n", Arrays.toString(yb));

        Ops.CrossEntropy ce = Ops.crossEntropy(null, Dtype.f32, new double[][] {{2.0, 0.5, -1.0}}, new long[] {0}, 0);
        out.printf(Locale.ROOT, "5. cross-entropy of [2, 0.5, -1] against class 0: loss = %.6f (= logsumexp - z_0), gradient"
                + " p - t = %s%n", ce.loss().f()[0], Arrays.toString(ce.gradient().f()));
        out.println("   (the same from the shell: ./panmax crossentropy --target 0 2 0.5 -1)");
        out.println();
        out.flush();

        if (jmhJar != null) {
            int rc = Bench.run(Bench.suite("demo"), jmhJar, results, out, terminal);
            if (rc != 0) {
                throw new IllegalStateException("the demo's JMH suite failed (see the line above)");
            }
            return;
        }
        quickTimings(out);
    }

    private static void quickTimings(PrintStream out) {
        int[][] shapes = {{1, 1024}, {256, 1000}};
        List<String> names = Ops.backends();
        out.println("Quick timing, float32 softmax (median of 15 batches; ./panmax demo runs JMH instead):");
        out.printf(Locale.ROOT, "  %-16s %16s %18s%n", "backend", "n=1024 (ns)", "256x1000 (us)");
        double[] scalar = new double[shapes.length];
        double[][] all = new double[names.size()][shapes.length];
        for (int b = 0; b < names.size(); b++) {
            for (int s = 0; s < shapes.length; s++) {
                all[b][s] = Ops.softmaxMedianNanos(names.get(b), shapes[s][0], shapes[s][1],
                        randomLogits(shapes[s][0] * shapes[s][1], 42));
                if (names.get(b).equals("java-scalar")) {
                    scalar[s] = all[b][s];
                }
            }
        }
        for (int b = 0; b < names.size(); b++) {
            out.printf(Locale.ROOT, "  %-16s %10.0f %6s %12.1f %6s%n", names.get(b), all[b][0], ratio(scalar[0], all[b][0]),
                    all[b][1] / 1000, ratio(scalar[1], all[b][1]));
        }
        out.println("  (xN = times faster than java-scalar)");
    }

    private static String ratio(double base, double v) {
        return base > 0 ? String.format(Locale.ROOT, "x%.1f", base / v) : "";
    }

    static float[] randomLogits(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 8 - 4);
        }
        return x;
    }
}
