package org.panmax.bench;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.SampleOptions;

/**
 * Batched calls split across an Executor (issue 14): the scaling from 1 task to the core count, for softmax over
 * 256 x 32000 and for sampling 64 rows of 128 256 (top-p 0.9). tasks = 1 is the plain single-threaded call; the
 * pool has {@code tasks - 1} threads (the caller runs a piece itself). Run it with -p tasks=1,2,4,...,cores.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xms2g", "-Xmx2g"})
public class SplitBenchmark {
    @Param({"1", "2"})
    public int tasks;

    @Param({"softmax-256x32000", "sample-64x128256"})
    public String op;

    ExecutorService pool;
    Panmax pm;
    Matrix x, y, tokens;
    SampleOptions options;
    long step;

    @Setup(Level.Trial)
    public void setup() {
        Panmax one = Panmax.get();
        if (tasks > 1) {
            pool = Executors.newFixedThreadPool(tasks - 1);
            pm = one.withExecutor(pool, tasks);
        } else {
            pm = one;
        }
        int rows = op.startsWith("softmax") ? 256 : 64, cols = op.startsWith("softmax") ? 32000 : 128256;
        float[] a = new float[rows * cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(SamplingBenchmark.logits(cols, true, r), 0, a, r * cols, cols);
        }
        x = Matrix.of(a, rows, cols);
        y = Matrix.of(new float[rows * cols], rows, cols);
        tokens = Matrix.of(new long[rows]);
        options = SampleOptions.DEFAULT.withTopP(0.9);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    @Benchmark
    public Object run() {
        if (op.startsWith("softmax")) {
            pm.softmax(x, y);
            return y;
        }
        pm.sample(x, tokens, options.withStep(step++));
        return tokens;
    }
}
