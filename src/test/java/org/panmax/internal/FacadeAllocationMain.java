package org.panmax.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.HeadOptions;
import org.panmax.HeadOutputs;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.SampleOptions;
import org.panmax.SampleOutputs;
import org.panmax.SoftmaxOptions;
import org.panmax.TopKOptions;

/**
 * Child JVM of {@link FacadeAllocationTest}: every public facade call on the backend named by the first argument,
 * with views and options made once (as the API asks), run until compiled, then the bytes 200 more calls allocate
 * ("alloc NAME BYTES") and "allocating=[...]". The test starts it with -Xbatch -XX:-TieredCompilation (compilation
 * at fixed counts, so load cannot change the outcome), and once more with -XX:-DoEscapeAnalysis: a facade call
 * must allocate nothing because nothing on its path allocates, not because C2 happened to remove an allocation.
 */
public final class FacadeAllocationMain {
    private FacadeAllocationMain() {}

    public static void main(String[] args) {
        Panmax pm = Panmax.backend(args[0]);
        Map<String, Runnable> calls = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            SplittableRandom rnd = new SplittableRandom(11);
            int rows = 3;
            int n = 37;
            addViews(calls, pm, "heap f32", rnd, rows, n, null);
            addViews(calls, pm, "native f64", rnd, rows, n, arena);
            float[] xf = floats(rnd, n);
            float[] yf = new float[n];
            float[] zf = new float[n];
            double[] xd = doubles(rnd, n);
            double[] yd = new double[n];
            double[] zd = new double[n];
            calls.put("row softmax f32", () -> pm.softmax(xf, yf));
            calls.put("row logSoftmax f32", () -> pm.logSoftmax(xf, yf));
            calls.put("row softmax f32 in place", () -> pm.softmax(yf, yf));
            calls.put("row softmaxBackward f32", () -> pm.softmaxBackward(yf, xf, zf));
            calls.put("row softmax f64", () -> pm.softmax(xd, yd));
            calls.put("row logSoftmax f64", () -> pm.logSoftmax(xd, yd));
            calls.put("row softmaxBackward f64", () -> pm.softmaxBackward(yd, xd, zd));
            Map<String, Long> allocated = new LinkedHashMap<>();
            for (Map.Entry<String, Runnable> c : calls.entrySet()) {
                long bytes = JavaAllocationMain.compiledBytes(c.getValue());
                allocated.put(c.getKey(), bytes);
                System.out.println("alloc " + pm.name() + " " + c.getKey() + " " + bytes);
            }
            List<String> bad = allocated.entrySet().stream().filter(e -> e.getValue() != 0)
                    .map(e -> e.getKey() + ": " + e.getValue()).toList();
            System.out.println("calls=" + calls.size() + " allocating=" + bad);
            System.exit(bad.isEmpty() ? 0 : 1);
        }
    }

    /** Every view-taking call, on heap arrays (arena null) or native segments, float32 or (native) float64. */
    private static void addViews(Map<String, Runnable> calls, Panmax pm, String at, SplittableRandom rnd, int rows,
                                 int n, Arena arena) {
        DType t = arena == null ? DType.F32 : DType.F64;
        Matrix x = view(t, rnd, rows, n, arena, 3);
        Matrix y = view(t, rnd, rows, n, arena, 0);
        Matrix g = view(t, rnd, rows, n, arena, 0);
        Matrix bias = view(t, rnd, 1, n, arena, 1).broadcast(rows);
        byte[] keep = new byte[n];
        Arrays.fill(keep, (byte) 1);
        keep[4] = 0;
        SoftmaxOptions ex = SoftmaxOptions.DEFAULT.withTemperature(0.7).withMask(Matrix.of(keep).broadcast(rows))
                .withBias(bias);
        Matrix lse = view(t, rnd, rows, 1, arena, 0);
        Matrix p = view(t, rnd, rows, n, arena, 0);
        pm.softmax(x, p);
        Matrix jac = view(t, rnd, n, n, arena, 0);
        Matrix v = view(t, rnd, n, 5, arena, 1);
        Matrix jm = view(t, rnd, n, 5, arena, 0);
        Matrix w = view(t, rnd, 1, n, arena, -1); // class weights: >= 0
        Matrix loss = view(t, rnd, 1, 1, arena, 0);
        Matrix lossNone = view(t, rnd, rows, 1, arena, 0);
        Matrix labels = Matrix.of(new long[] {3, 5, 0});
        Matrix soft = p;
        CrossEntropyOptions ce = CrossEntropyOptions.DEFAULT.withLabelSmoothing(0.1);
        CrossEntropyOptions weighted = ce.withWeight(w);
        CrossEntropyOptions none = CrossEntropyOptions.DEFAULT.withReduction(org.panmax.Reduction.NONE);
        Matrix idx = Matrix.of(new long[rows * 4], rows, 4);
        Matrix top = view(t, rnd, rows, 4, arena, 0);
        Matrix am = Matrix.of(new long[rows], rows, 1);
        Matrix tokens = Matrix.of(new long[rows], rows, 1);
        Matrix scores = view(t, rnd, rows, SampleOutputs.SCORES, arena, 0);
        SampleOutputs sout = SampleOutputs.of(tokens).withScores(scores).withTop(idx, top);
        SampleOutputs tout = SampleOutputs.of(tokens);
        SampleOptions nucleus = SampleOptions.DEFAULT.withTemperature(0.8).withTopP(0.9).withSeed(7);
        SampleOptions topk = SampleOptions.DEFAULT.withTopK(5).withMinP(0.05).withSeed(7).withStep(3);
        Matrix wh = view(t, rnd, 11, n, arena, 1);
        Matrix hb = view(t, rnd, 1, 11, arena, 1);
        Matrix probs = view(t, rnd, rows, 11, arena, 0);
        Matrix hidx = Matrix.of(new long[rows * 3], rows, 3);
        Matrix htop = view(t, rnd, rows, 3, arena, 0);
        HeadOutputs hall = HeadOutputs.probabilities(probs);
        HeadOutputs htopOnly = HeadOutputs.top(hidx, htop);
        HeadOptions hopt = HeadOptions.DEFAULT.withBias(hb).withTemperature(0.9);
        TopKOptions k4 = TopKOptions.of(4).withValues(TopKOptions.Values.PROBABILITIES);
        JacobianOptions fromLogits = JacobianOptions.DEFAULT.withFromLogits(true);
        Matrix x0 = x.row(0);
        Matrix p0 = p.row(0);
        at = at + " ";
        calls.put(at + "softmax", () -> pm.softmax(x, y));
        calls.put(at + "logSoftmax", () -> pm.logSoftmax(x, y));
        calls.put(at + "softmax in place", () -> pm.softmax(y, y));
        calls.put(at + "softmax mask bias T", () -> pm.softmax(x, y, ex));
        calls.put(at + "logSumExp", () -> pm.logSumExp(x, lse));
        calls.put(at + "softmaxBackward", () -> pm.softmaxBackward(p, x, g));
        calls.put(at + "logSoftmaxBackward", () -> pm.logSoftmaxBackward(p, x, g));
        calls.put(at + "logSoftmaxJvp", () -> pm.logSoftmaxJvp(p, x, g));
        calls.put(at + "jacobian", () -> pm.jacobian(x0, jac, fromLogits));
        calls.put(at + "jacobianMatmul", () -> pm.jacobianMatmul(p0, v, jm, JacobianOptions.DEFAULT));
        calls.put(at + "crossEntropy labels", () -> pm.crossEntropy(x, labels, g, loss, ce));
        calls.put(at + "crossEntropy weights", () -> pm.crossEntropy(x, labels, g, loss, weighted));
        calls.put(at + "crossEntropy soft none", () -> pm.crossEntropy(x, soft, null, lossNone, none));
        calls.put(at + "argmax", () -> pm.argmax(x, am));
        calls.put(at + "topK", () -> pm.topK(x, idx, top, k4));
        calls.put(at + "sample tokens", () -> pm.sample(x, tout, nucleus));
        calls.put(at + "sample scores top", () -> pm.sample(x, sout, topk));
        calls.put(at + "head probabilities", () -> pm.head(x, wh, hall, hopt));
        calls.put(at + "head top-k only", () -> pm.head(x, wh, htopOnly, HeadOptions.DEFAULT));
    }

    private static Matrix view(DType t, SplittableRandom rnd, int rows, int cols, Arena arena, double scale) {
        int len = rows * cols;
        if (arena == null) {
            float[] a = new float[len];
            for (int i = 0; i < len; i++) {
                a[i] = (float) value(rnd, scale);
            }
            return Matrix.of(a, rows, cols);
        }
        var s = arena.allocate((long) len * t.bytes(), t.bytes());
        for (int i = 0; i < len; i++) {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, value(rnd, scale));
        }
        return Matrix.of(t, s, rows, cols);
    }

    /** scale times a normal draw; scale < 0: its magnitude (non-negative values). */
    private static double value(SplittableRandom rnd, double scale) {
        double v = scale * rnd.nextGaussian();
        return scale < 0 ? Math.abs(v) : v;
    }

    private static float[] floats(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (2 * rnd.nextGaussian());
        }
        return a;
    }

    private static double[] doubles(SplittableRandom rnd, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = 2 * rnd.nextGaussian();
        }
        return a;
    }
}
