package org.panmax.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.bindings.panmax_h;
import org.panmax.internal.NativeKernels;

/**
 * Softmax over rows x cols, every contender, float32 and float64, heap arrays and off-heap segments.
 *
 * <p>Contenders: the facade on each backend ("native-avx2", "java-vector", "java-scalar", ...), and
 * two raw native calls without the facade: "raw-critical" (the same critical handle the facade uses,
 * called directly: the facade's added cost is the difference) and "raw-jextract" (the generated,
 * non-critical jextract method on off-heap segments). Two outside contenders (issue 13): "onnxruntime", ONNX
 * Runtime's CPU Softmax on a one-node model with pinned input and output tensors ({@link OnnxSoftmax}), and
 * "floor-c2pass", a minimal two-pass AVX2 C kernel (bench/native/floor.c) through a critical downcall over the same
 * segments as "raw-critical" ({@link FloorC}). Each checks its output against the reference in {@code @Setup}, as
 * every contender does.
 *
 * <p>Memory: "heap" (views of float[]/double[] arrays), "offheap" (views of Arena segments), both made once in
 * {@code @Setup} as the API asks, so a call allocates nothing; "row" (one row only) the one-row array shortcut
 * {@code softmax(float[], float[])}, which makes no view at all. "raw-jextract" and "onnxruntime" always run on
 * off-heap segments: memory=heap is mapped to them (ORT tensors wrap direct buffers; ORT copies a heap array into
 * one when the tensor is made, so there is no heap variant of its call to time), and "onnxruntime" refuses
 * memory=row (a facade shortcut). "floor-c2pass" runs on heap segments with heap and row, off-heap ones with offheap.
 *
 * <p>Average time per call; 3 warm-up iterations let C2 compile the Java backends fully (they are
 * loops over MemorySegment accessors that need the inlining of the final tier); one fork per
 * configuration, every contender with the same JVM flags (run.sh may add more forks).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class SoftmaxBenchmark {
    @Param({"native-avx2"})
    public String contender;

    @Param({"1x1024"})
    public String shape;

    @Param({"f32"})
    public String dtype;

    @Param({"heap"})
    public String memory;

    int rows;
    int cols;
    boolean f64;
    Panmax pm;
    float[] xf;
    float[] yf;
    double[] xd;
    double[] yd;
    MemorySegment xs;
    MemorySegment ys;
    Matrix xv;
    Matrix yv;
    Arena arena;
    OnnxSoftmax onnx;

    @Setup(Level.Trial)
    public void setup() {
        int[] s = Inputs.shape(shape);
        rows = s[0];
        cols = s[1];
        f64 = dtype.equals("f64");
        boolean ort = contender.equals("onnxruntime");
        boolean floor = contender.equals("floor-c2pass");
        boolean facade = !(contender.startsWith("raw") || ort || floor);
        if (ort && memory.equals("row")) {
            throw new IllegalArgumentException("contender=onnxruntime takes memory=heap or offheap (both run on off-heap"
                    + " tensors: ORT tensors wrap direct buffers), not row (the facade's one-row shortcut)");
        }
        if (floor) {
            FloorC.require();
        }
        Panmax.backends(); // loads libpanmax.so for the raw contenders too
        pm = facade ? Panmax.backend(contender) : null;
        double[] x = Inputs.logits(rows * cols, 42);
        arena = Arena.ofShared();
        boolean offheap = memory.equals("offheap") || contender.equals("raw-jextract") || ort;
        if (f64) {
            xd = x;
            yd = new double[x.length];
            xs = offheap ? arena.allocateFrom(ValueLayout.JAVA_DOUBLE, xd) : MemorySegment.ofArray(xd);
            ys = offheap ? arena.allocate(ValueLayout.JAVA_DOUBLE, x.length) : MemorySegment.ofArray(yd);
        } else {
            xf = Inputs.floats(x);
            yf = new float[x.length];
            xs = offheap ? arena.allocateFrom(ValueLayout.JAVA_FLOAT, xf) : MemorySegment.ofArray(xf);
            ys = offheap ? arena.allocate(ValueLayout.JAVA_FLOAT, x.length) : MemorySegment.ofArray(yf);
        }
        if (memory.equals("row") && rows != 1) {
            throw new IllegalArgumentException("memory=row is the one-row shortcut: shape must be 1xN, was " + shape);
        }
        DType t = f64 ? DType.F64 : DType.F32;
        if (memory.equals("offheap")) {
            xv = Matrix.of(t, xs, rows, cols);
            yv = Matrix.of(t, ys, rows, cols);
        } else {
            xv = f64 ? Matrix.of(xd, rows, cols) : Matrix.of(xf, rows, cols);
            yv = f64 ? Matrix.of(yd, rows, cols) : Matrix.of(yf, rows, cols);
        }
        if (ort) {
            try {
                onnx = new OnnxSoftmax(xs, ys, rows, cols, f64);
                onnx.runChecked();
            } catch (ai.onnxruntime.OrtException e) {
                throw new IllegalStateException("onnxruntime " + shape + " " + dtype + ": " + e.getMessage(), e);
            }
        }
        run();
        double[] y = f64 ? ys.toArray(ValueLayout.JAVA_DOUBLE) : Inputs.widen(ys.toArray(ValueLayout.JAVA_FLOAT));
        double[] xin = f64 ? xd : Inputs.widen(xf);
        String what = contender + " " + shape + " " + dtype;
        double tol = f64 ? 1e-12 : 1e-5;
        // ONNX Runtime (MLAS) sums float32 exps in float lanes: measured 2.6e-5 relative at n = 4 194 304, above the
        // 1e-5 that the sums widened to double meet. 1e-4 for it still rejects any wrong model (a wrong axis, type or
        // shape is off by orders of magnitude); what it reached is printed when above the common bound.
        double err = Inputs.checkSoftmax(xin, y, rows, cols, ort && !f64 ? 1e-4 : tol, what);
        if (err > tol) {
            System.out.printf(java.util.Locale.ROOT, "%s: max relative error %.2g, above the %.0e the other contenders"
                    + " are held to%n", what, err, tol);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (onnx != null) {
            onnx.close();
        }
        arena.close();
    }

    @Benchmark
    public Object softmax() {
        return run();
    }

    Object run() {
        try {
            switch (contender) {
                case "raw-jextract" -> {
                    return f64 ? panmax_h.panmax_softmax_f64(xs, cols, ys, cols, rows, cols, -1)
                               : panmax_h.panmax_softmax_f32(xs, cols, ys, cols, rows, cols, -1);
                }
                case "raw-critical" -> {
                    return f64 ? (int) NativeKernels.SOFTMAX_F64.invokeExact(xs, (long) cols, ys, (long) cols, (long) rows, (long) cols, -1)
                               : (int) NativeKernels.SOFTMAX_F32.invokeExact(xs, (long) cols, ys, (long) cols, (long) rows, (long) cols, -1);
                }
                case "onnxruntime" -> {
                    return onnx.run();
                }
                case "floor-c2pass" -> {
                    if (f64) {
                        FloorC.SOFTMAX_F64.invokeExact(xs, ys, (long) rows, (long) cols);
                    } else {
                        FloorC.SOFTMAX_F32.invokeExact(xs, ys, (long) rows, (long) cols);
                    }
                    return ys;
                }
                default -> {
                    if (memory.equals("row")) {
                        if (f64) {
                            pm.softmax(xd, yd);
                            return yd;
                        }
                        pm.softmax(xf, yf);
                        return yf;
                    }
                    pm.softmax(xv, yv);
                    return yv;
                }
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
