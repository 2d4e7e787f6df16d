package org.panmax.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.lang.foreign.MemorySegment;
import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;

/**
 * The "onnxruntime" contender of {@link SoftmaxBenchmark}: ONNX Runtime's CPU Softmax kernel on the one-node model
 * of {@link OnnxModel}, the native-inference engine a JVM user would otherwise pick.
 *
 * <p>Session: one intra-op and one inter-op thread (the caller's thread does the work, as with panmax), sequential
 * execution, optimisation level ALL_OPT. Input and output are pinned: both tensors wrap the benchmark's off-heap
 * segments (direct buffers, which ORT reports it did not copy) and are made once; the output is passed to
 * {@code OrtSession.run(inputs, pinnedOutputs)}, so ORT writes into the caller's memory and no tensor is made or
 * copied per call.
 *
 * <p>What ORT's Java API (1.23.2) still allocates on the Java heap per call, inside {@code run}: the arrays it
 * hands to JNI (input names and handles, output names, the pinned OnnxValue[] and their handles), the iterators
 * over the two maps, a boolean[] of ownership flags made by the JNI code, and the {@code OrtSession.Result} (with
 * its LinkedHashMap and ArrayList); closing the Result leaves the pinned output open. SoftmaxBenchmark's
 * {@code -prof gc} row shows the total: 352 B/op at n = 16 and 1024 once compiled (2 x 1 s of warm-up; a run
 * without warm-up shows 1.4-3.6 KB/op, the interpreter's and the harness's share). Native-side allocations inside
 * ORT's Run are not seen by the gc profiler.
 */
final class OnnxSoftmax implements AutoCloseable {
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final OnnxTensor x;
    private final OnnxTensor y;
    private final Map<String, OnnxTensor> inputs;
    private final Map<String, OnnxTensor> outputs;

    /** xs and ys: off-heap segments of rows x cols floats (doubles with f64), contiguous. */
    OnnxSoftmax(MemorySegment xs, MemorySegment ys, int rows, int cols, boolean f64) throws OrtException {
        if (!xs.isNative() || !ys.isNative()) {
            throw new IllegalArgumentException("onnxruntime: x and y must be off-heap segments (ORT tensors wrap direct"
                    + " buffers)");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "panmax-bench");
        long[] shape = {rows, cols};
        options = new OrtSession.SessionOptions();
        OrtSession s = null;
        OnnxTensor tx = null;
        OnnxTensor ty = null;
        try {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            s = env.createSession(OnnxModel.softmax(rows, cols, f64), options);
            checkSignature(s.getInputInfo().get(OnnxModel.INPUT), f64, shape);
            checkSignature(s.getOutputInfo().get(OnnxModel.OUTPUT), f64, shape);
            Buffer bx = f64 ? xs.asByteBuffer().order(ByteOrder.nativeOrder()).asDoubleBuffer()
                            : xs.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
            Buffer by = f64 ? ys.asByteBuffer().order(ByteOrder.nativeOrder()).asDoubleBuffer()
                            : ys.asByteBuffer().order(ByteOrder.nativeOrder()).asFloatBuffer();
            tx = tensor(env, bx, shape, f64);
            ty = tensor(env, by, shape, f64);
        } catch (OrtException | RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[] {ty, tx, s}) {
                closeQuietly(c, e);
            }
            options.close();
            throw e;
        }
        session = s;
        x = tx;
        y = ty;
        inputs = Map.of(OnnxModel.INPUT, x);
        outputs = Map.of(OnnxModel.OUTPUT, y);
    }

    /**
     * ORT wraps a direct buffer in place ({@code ownsBuffer()} is false: no copy was made); a copy would make the
     * pinned output land in ORT's memory instead of ys.
     */
    private static OnnxTensor tensor(OrtEnvironment env, Buffer b, long[] shape, boolean f64) throws OrtException {
        OnnxTensor t = f64 ? OnnxTensor.createTensor(env, (DoubleBuffer) b, shape)
                           : OnnxTensor.createTensor(env, (FloatBuffer) b, shape);
        if (t.ownsBuffer()) {
            t.close();
            throw new IllegalStateException("onnxruntime copied the tensor's buffer instead of wrapping it: the benchmark"
                    + " would time the wrong memory");
        }
        return t;
    }

    /** The model as ORT parsed it: a float32/float64 tensor of exactly [rows, cols] (tests the hand-written encoder). */
    private static void checkSignature(NodeInfo info, boolean f64, long[] shape) {
        if (info == null || !(info.getInfo() instanceof TensorInfo t) || !Arrays.equals(t.getShape(), shape)
                || t.type != (f64 ? OnnxJavaType.DOUBLE : OnnxJavaType.FLOAT)) {
            throw new IllegalStateException("onnxruntime parsed the hand-written model as " + (info == null ? "no such value"
                    : info.getName() + ": " + info.getInfo()) + ", expected a " + (f64 ? "DOUBLE" : "FLOAT") + " tensor of "
                    + Arrays.toString(shape));
        }
    }

    private static void closeQuietly(AutoCloseable c, Exception cause) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                cause.addSuppressed(e);
            }
        }
    }

    /** One inference into the pinned output; checks once that the output really is the pinned tensor. */
    void runChecked() throws OrtException {
        try (OrtSession.Result r = session.run(inputs, outputs)) {
            if (r.size() != 1 || r.get(0) != y || r.isResultOwner(0)) {
                throw new IllegalStateException("onnxruntime did not write into the pinned output tensor");
            }
        }
    }

    /** The timed call. */
    Object run() throws OrtException {
        try (OrtSession.Result r = session.run(inputs, outputs)) {
            return r;
        }
    }

    @Override
    public void close() throws OrtException {
        x.close();
        y.close();
        session.close();
        options.close();
    }
}
