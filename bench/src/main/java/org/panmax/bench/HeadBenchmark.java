package org.panmax.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.panmax.DType;
import org.panmax.HeadOptions;
import org.panmax.HeadOutputs;
import org.panmax.Matrix;
import org.panmax.Panmax;

/**
 * Classifier heads (issue 14): softmax(x Wᵀ + b) for x of B x d and W of K x d, against the OpenBLAS product alone
 * on the same thread count (target: total <= 1.10 x the gemm/gemv, and the top-k-only call no slower).
 *
 * <p>Contenders: "gemm" (cblas_sgemm, or cblas_sgemv for B = 1, called directly through FFM on the OpenBLAS that
 * libpanmax loaded: what a user would write by hand), "head-probs" (the full B x K probabilities), "head-top5" (the
 * top 5 classes only: no B x K matrix written), "head-logits+probs". Buffers are off-heap (W is up to 525 MB), so the
 * native calls take the plain, safepoint-friendly downcall. OpenBLAS runs single-threaded (panmax's default inside
 * the JVM); -Dpanmax.blas.threads=N in jvmArgsAppend measures N.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 4, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class HeadBenchmark {
    @Param({"gemm", "head-probs", "head-top5"})
    public String contender;

    @Param({"1", "8", "64"})
    public int b;

    @Param({"768", "1024"})
    public int d;

    @Param({"1000", "32000", "128256"})
    public int k;

    Arena arena;
    Matrix x, w, probs, logits, topIdx, topVal;
    MemorySegment xs, ws, zs;
    Panmax pm;
    MethodHandle sgemm, sgemv;
    HeadOptions options;

    @Setup(Level.Trial)
    public void setup() {
        pm = Panmax.get();
        arena = Arena.ofShared();
        SplittableRandom r = new SplittableRandom(5);
        xs = arena.allocate((long) b * d * 4, 64);
        ws = arena.allocate((long) k * d * 4, 64);
        zs = arena.allocate((long) b * k * 4, 64);
        for (long i = 0; i < (long) b * d; i++) {
            xs.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (2 * r.nextDouble() - 1));
        }
        for (long i = 0; i < (long) k * d; i++) {
            ws.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) ((2 * r.nextDouble() - 1) / Math.sqrt(d)));
        }
        x = Matrix.of(DType.F32, xs, b, d);
        w = Matrix.of(DType.F32, ws, k, d);
        probs = Matrix.of(DType.F32, zs, b, k);
        logits = Matrix.of(DType.F32, arena.allocate((long) b * k * 4, 64), b, k);
        topIdx = Matrix.of(DType.I64, arena.allocate((long) b * 5 * 8, 64), b, 5);
        topVal = Matrix.of(DType.F32, arena.allocate((long) b * 5 * 4, 64), b, 5);
        options = HeadOptions.DEFAULT;
        SymbolLookup blas = SymbolLookup.libraryLookup("libopenblas.so.0", arena);
        Linker l = Linker.nativeLinker();
        ValueLayout I = ValueLayout.JAVA_INT, F = ValueLayout.JAVA_FLOAT, A = ValueLayout.ADDRESS;
        sgemm = l.downcallHandle(blas.findOrThrow("cblas_sgemm"),
                FunctionDescriptor.ofVoid(I, I, I, I, I, I, F, A, I, A, I, F, A, I));
        sgemv = l.downcallHandle(blas.findOrThrow("cblas_sgemv"),
                FunctionDescriptor.ofVoid(I, I, I, I, F, A, I, A, I, F, A, I));
        // check once: the head's top class is the argmax of the product
        pm.head(x, w, new HeadOutputs(logits, probs, topIdx, topVal), options);
        long best = 0;
        for (int c = 1; c < k; c++) {
            if (logits.segment().getAtIndex(ValueLayout.JAVA_FLOAT, c) > logits.segment().getAtIndex(ValueLayout.JAVA_FLOAT, best)) {
                best = c;
            }
        }
        if (topIdx.segment().getAtIndex(ValueLayout.JAVA_LONG, 0) != best) {
            throw new IllegalStateException("head top-1 " + topIdx.segment().getAtIndex(ValueLayout.JAVA_LONG, 0) + " != argmax " + best);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    @Benchmark
    public float head() throws Throwable {
        switch (contender) {
            case "gemm" -> {
                if (b == 1) {
                    sgemv.invokeExact(ROW_MAJOR, NO_TRANS, k, d, 1f, ws, d, xs, 1, 0f, zs, 1);
                } else {
                    sgemm.invokeExact(ROW_MAJOR, NO_TRANS, TRANS, b, k, d, 1f, xs, d, ws, d, 0f, zs, k);
                }
            }
            case "head-probs" -> pm.head(x, w, HeadOutputs.probabilities(probs), options);
            case "head-top5" -> pm.head(x, w, HeadOutputs.top(topIdx, topVal), options);
            case "head-logits+probs" -> pm.head(x, w, HeadOutputs.probabilities(probs).withLogits(logits), options);
            default -> throw new IllegalArgumentException(contender);
        }
        return zs.get(ValueLayout.JAVA_FLOAT, 0);
    }
}
