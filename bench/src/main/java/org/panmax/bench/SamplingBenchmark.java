package org.panmax.bench;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.SampleOptions;
import org.panmax.SampleOutputs;

/**
 * One token from one row of V logits (issue 14): panmax's sampler against panmax's own softmax pass over the same
 * row (the yardstick: targets are top-p <= 1.5x one softmax pass, no cliff with top-k off) and against a plain Java
 * sampler written the way public Java LLM engines write one (softmax, sort the indices by probability, cumulative
 * sum, draw: {@link #javaFullSort}).
 *
 * <p>Contenders: "panmax" (the default backend, native when present), "java-scalar" (panmax's pure-Java reference),
 * "softmax" (panmax.softmax over the row: one pass of the normaliser), "java-fullsort". Configs: "topp" (top-p 0.9,
 * top-k off), "topp-topk40", "minp" (min-p 0.05), "topk40", "plain" (no filter). Rows: "peaked" (LLM-like: a bulk
 * of N(0, 2.5^2) logits and 50 tokens 14-22 above it, so top-p keeps tens of tokens) and "flat" (N(0, 1) only:
 * top-p keeps most of the vocabulary, the hard case). The step advances every call, so each call draws anew.
 *
 * <p>Setup checks panmax's token against the pure-Java reference for 32 steps (a wrong fast path is not fast).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class SamplingBenchmark {
    @Param({"panmax", "java-scalar", "softmax", "java-fullsort"})
    public String contender;

    @Param({"32000", "128256", "256000"})
    public int v;

    @Param({"topp", "topp-topk40", "minp"})
    public String config;

    @Param({"peaked"})
    public String rows;

    Panmax pm;
    float[] logits;
    float[] probs;
    Matrix x;
    Matrix y;
    long[] token;
    SampleOutputs out;
    SampleOptions options;
    long step;
    Integer[] order;
    SplittableRandom rnd;

    @Setup(Level.Trial)
    public void setup() {
        pm = contender.equals("java-scalar") ? Panmax.backend("java-scalar") : Panmax.get();
        logits = logits(v, rows.equals("peaked"), 7);
        probs = new float[v];
        x = Matrix.of(logits);
        y = Matrix.of(probs);
        token = new long[1];
        out = SampleOutputs.of(Matrix.of(token));
        options = options(config).withSeed(2024);
        order = new Integer[v];
        rnd = new SplittableRandom(3);
        // a wrong fast path is not fast: the default backend's tokens must be the pure-Java reference's
        Panmax ref = Panmax.backend("java-scalar");
        long[] a = new long[1], b = new long[1];
        for (int s = 0; s < 32; s++) {
            pm.sample(x, Matrix.of(a), options.withStep(s));
            ref.sample(x, Matrix.of(b), options.withStep(s));
            if (a[0] != b[0]) {
                throw new IllegalStateException(pm.name() + " drew " + a[0] + ", the reference " + b[0] + " at step " + s);
            }
        }
    }

    static float[] logits(int v, boolean peaked, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] z = new float[v];
        for (int j = 0; j < v; j++) {
            z[j] = (float) ((peaked ? 2.5 : 1.0) * gauss(r));
        }
        for (int i = 0; peaked && i < 50; i++) {
            z[r.nextInt(v)] += (float) (14 + 8 * r.nextDouble());
        }
        return z;
    }

    static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    static SampleOptions options(String config) {
        return switch (config) {
            case "topp" -> SampleOptions.DEFAULT.withTopP(0.9);
            case "topp-topk40" -> SampleOptions.DEFAULT.withTopP(0.9).withTopK(40);
            case "minp" -> SampleOptions.DEFAULT.withMinP(0.05);
            case "topk40" -> SampleOptions.DEFAULT.withTopK(40);
            case "plain" -> SampleOptions.DEFAULT;
            default -> throw new IllegalArgumentException("config " + config);
        };
    }

    @Benchmark
    public long sample() {
        switch (contender) {
            case "softmax" -> {
                pm.softmax(x, y);
                return Float.floatToRawIntBits(probs[0]);
            }
            case "java-fullsort" -> {
                return javaFullSort(logits, probs, order, options, rnd.nextDouble());
            }
            default -> {
                pm.sample(x, out, options.withStep(step++));
                return token[0];
            }
        }
    }

    /**
     * The sampler of a typical Java LLM engine: softmax over the row with Math.exp, sort every index by probability
     * (boxed, with a comparator), keep the top-k and the top-p prefix, drop tokens below min-p, draw from the
     * cumulative sum.
     */
    static int javaFullSort(float[] logits, float[] p, Integer[] order, SampleOptions o, double u) {
        int n = logits.length;
        float max = Float.NEGATIVE_INFINITY;
        for (float z : logits) {
            max = Math.max(max, z);
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            p[i] = (float) Math.exp((logits[i] - max) / o.temperature());
            sum += p[i];
        }
        for (int i = 0; i < n; i++) {
            p[i] /= (float) sum;
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(p[b], p[a]));
        int keep = o.topK() > 0 ? (int) Math.min(o.topK(), n) : n;
        double cum = 0;
        int cut = keep;
        for (int i = 0; i < keep; i++) {
            cum += p[order[i]];
            if (cum >= o.topP()) {
                cut = i + 1;
                break;
            }
        }
        float floor = (float) (o.minP() * p[order[0]]);
        double total = 0;
        int last = 0;
        for (int i = 0; i < cut && p[order[i]] >= floor; i++) {
            total += p[order[i]];
            last = i;
        }
        double target = u * total, run = 0;
        for (int i = 0; i <= last; i++) {
            run += p[order[i]];
            if (run > target) {
                return order[i];
            }
        }
        return order[last];
    }
}
