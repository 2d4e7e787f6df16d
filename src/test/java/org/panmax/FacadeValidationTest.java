package org.panmax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every rejected call or view names the argument and the rule, throws the documented exception type, and
 * writes nothing (outputs are poisoned first and compared afterwards). What cannot change after a view is made
 * (bounds, alignment, the element type a buffer can hold, negative sizes, overflow) is rejected by
 * {@link Matrix#of}; the rest by the call, on every backend: the checks live in the facade, so they must be
 * identical everywhere.
 */
class FacadeValidationTest {
    static final float POISON = -12345.5f;

    static Stream<String> backends() {
        return Panmax.backends().stream();
    }

    static float[] poisoned(int n) {
        float[] a = new float[n];
        Arrays.fill(a, POISON);
        return a;
    }

    static <T extends Throwable> T rejects(Class<T> type, String fragment, float[] out, Executable call) {
        float[] before = out == null ? null : out.clone();
        T e = assertThrows(type, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(fragment),
                () -> "message '" + e.getMessage() + "' should contain '" + fragment + "'");
        if (out != null) {
            assertArrayEquals(before, out, "a rejected call wrote to its output");
        }
        return e;
    }

    @Test
    void viewsRejectBadShapesBoundsAndOverflowWhenMade() {
        float[] x = {1, 2, 3, 4, 5, 6};
        rejects(NullPointerException.class, "array", null, () -> Matrix.of((float[]) null));
        rejects(NullPointerException.class, "segment", null, () -> Matrix.of(DType.F32, null));
        rejects(NullPointerException.class, "dtype", null, () -> Matrix.of(null, MemorySegment.ofArray(x)));
        rejects(IllegalArgumentException.class, "cols must be >= 1", null, () -> Matrix.of(x, 0, 1, 0, 0));
        rejects(IllegalArgumentException.class, "cols must be >= 1", null, () -> Matrix.of(new float[0]));
        rejects(IllegalArgumentException.class, "rows must be >= 0, was -1", null, () -> Matrix.of(x, 0, -1, 3, 3));
        rejects(IllegalArgumentException.class, "stride must be >= cols (or 0 to repeat one row), was stride 2 < cols 3",
                null, () -> Matrix.of(x, 0, 2, 3, 2));
        rejects(IndexOutOfBoundsException.class, "3 rows x 3 cols with stride 3 from element 0 need 9 F32 elements, "
                + "but the array has 6", null, () -> Matrix.of(x, 3, 3));
        rejects(IndexOutOfBoundsException.class, "from element 1 need 7", null, () -> Matrix.of(x, 1, 2, 3, 3));
        rejects(IndexOutOfBoundsException.class, "offset must be >= 0, was -1", null, () -> Matrix.of(x, -1, 1, 3, 3));
        rejects(IllegalArgumentException.class, "overflow a long", null,
                () -> Matrix.of(DType.F32, MemorySegment.ofArray(x), 0, 3, 3, Long.MAX_VALUE / 2));
        rejects(IndexOutOfBoundsException.class, "but the segment has 6", null,
                () -> Matrix.of(DType.F32, MemorySegment.ofArray(x), 0, 2, 3, 4));
        // A view of 0 rows is fine, a broadcast row of a one-row view too.
        assertEquals(0, Matrix.of(x, 0, 0, 3, 3).rows());
        assertEquals(0, Matrix.of(x).row(0).broadcast(4).stride());
        rejects(IllegalArgumentException.class, "broadcast needs a view of one row, this one has 2", null,
                () -> Matrix.of(x, 2, 3).broadcast(4));
        rejects(IndexOutOfBoundsException.class, "rows [1, 3) of a view of 2 rows", null, () -> Matrix.of(x, 2, 3).rows(1, 3));
    }

    @Test
    void viewsRejectMisalignedClosedAndUnderAlignedHeapSegmentsWhenMade() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(64, 16);
            rejects(IllegalArgumentException.class, "is not aligned to 4 bytes (F32)", null,
                    () -> Matrix.of(DType.F32, s.asSlice(2), 1, 8));
            rejects(IllegalArgumentException.class, "is not aligned to 8 bytes (F64)", null,
                    () -> Matrix.of(DType.F64, s.asSlice(4), 1, 4));
            rejects(IllegalArgumentException.class, "element 1 at address", null, () -> Matrix.of(DType.F64, s.asSlice(4), 1, 1, 2, 2));
        }
        // Heap segments over arrays whose elements are less aligned than the element type: the JDK would refuse
        // the access, so the view is refused up front, naming the rule.
        rejects(IllegalArgumentException.class, "a heap segment over an array of 1-byte elements cannot hold F32", null,
                () -> Matrix.of(DType.F32, MemorySegment.ofArray(new byte[64])));
        rejects(IllegalArgumentException.class, "a heap segment over an array of 4-byte elements cannot hold F64", null,
                () -> Matrix.of(DType.F64, MemorySegment.ofArray(new int[16])));
        rejects(IllegalArgumentException.class, "cannot hold F32", null,
                () -> Matrix.of(DType.F32, MemorySegment.ofBuffer(java.nio.ByteBuffer.allocate(64))));
        assertEquals(16, Matrix.of(DType.F32, MemorySegment.ofArray(new int[16])).cols(), "int[] holds F32");
        assertEquals(8, Matrix.of(DType.F64, MemorySegment.ofArray(new long[8])).cols(), "long[] holds F64");
        Arena closed = Arena.ofShared();
        MemorySegment c = closed.allocate(32, 8);
        closed.close();
        rejects(IllegalStateException.class, "segment: its arena is already closed", null, () -> Matrix.of(DType.F32, c));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void callsRejectNullsShapesAndTypes(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] x = {1, 2, 3, 4, 5, 6};
        float[] y = poisoned(9);
        Matrix xv = Matrix.of(x, 2, 3);
        Matrix yv = Matrix.of(y, 2, 3);
        rejects(NullPointerException.class, "x", y, () -> pm.softmax((Matrix) null, yv));
        rejects(NullPointerException.class, "y", null, () -> pm.softmax(xv, null));
        rejects(NullPointerException.class, "options", y, () -> pm.softmax(xv, yv, null));
        rejects(NullPointerException.class, "x", y, () -> pm.softmax((float[]) null, y));
        rejects(NullPointerException.class, "y", null, () -> pm.softmax(x, (float[]) null));
        rejects(IllegalArgumentException.class, "y: must be 2 x 3 (x's shape), was 3 x 3 with stride 3", y,
                () -> pm.softmax(xv, Matrix.of(y, 3, 3)));
        rejects(IllegalArgumentException.class, "y: must be 2 x 3 (x's shape), was 2 x 2", y,
                () -> pm.softmax(xv, Matrix.of(y, 0, 2, 2, 3)));
        rejects(IllegalArgumentException.class, "y: must have the element type of x (F32), was F64", null,
                () -> pm.softmax(xv, Matrix.of(new double[6], 2, 3)));
        rejects(IllegalArgumentException.class, "x: must be F32 or F64, was I64", y,
                () -> pm.softmax(Matrix.of(new long[6], 0, 2, 3, 3), yv));
        rejects(IllegalArgumentException.class, "y: a broadcast row (stride 0) is not allowed here", y,
                () -> pm.softmax(xv, Matrix.of(y, 0, 1, 3, 3).broadcast(2)));
        rejects(IllegalArgumentException.class, "x: a broadcast row (stride 0) is not allowed here", y,
                () -> pm.softmax(Matrix.of(x, 0, 1, 3, 3).broadcast(2), yv));
        rejects(IllegalArgumentException.class, "out: must be a vector of 2 elements", null,
                () -> pm.logSumExp(xv, Matrix.of(new float[3])));
        // One-row shortcuts: y needs x's length.
        float[] small = poisoned(5);
        rejects(IllegalArgumentException.class, "y: needs at least 6 elements (the length of x), has 5", small,
                () -> pm.softmax(x, small));
        rejects(IllegalArgumentException.class, "x: a row needs at least 1 element, has 0", small,
                () -> pm.logSoftmax(new float[0], small));
        rejects(IllegalArgumentException.class, "dx: needs at least 6 elements", small,
                () -> pm.softmaxBackward(x, x, small));
        rejects(IllegalArgumentException.class, "dy: needs at least 6 elements", small,
                () -> pm.softmaxBackward(x, new float[5], poisoned(6)));
        assertEquals(POISON, y[0]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rejectsOverlapButAllowsExactInPlace(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] buf = {1, 2, 3, 4, 5, 6, POISON, POISON};
        float[] before = buf.clone();
        Matrix x = Matrix.of(buf, 0, 2, 3, 3);
        rejects(IllegalArgumentException.class, "y overlaps x: only exact in-place use", null,
                () -> pm.softmax(x, Matrix.of(buf, 1, 2, 3, 3)));
        assertArrayEquals(before, buf);
        rejects(IllegalArgumentException.class, "y overlaps x", null, () -> pm.softmax(x, Matrix.of(buf, 0, 2, 3, 4)));
        assertArrayEquals(before, buf);
        rejects(IllegalArgumentException.class, "out overlaps x: this operation cannot work in place", null,
                () -> pm.logSumExp(x, Matrix.of(buf, 5, 1, 2, 2)));
        assertArrayEquals(before, buf);
        // The same memory reached through a heap segment of the same array is the same memory.
        rejects(IllegalArgumentException.class, "y overlaps x", null,
                () -> pm.softmax(x, Matrix.of(DType.F32, MemorySegment.ofArray(buf), 1, 2, 3, 3)));
        assertArrayEquals(before, buf);
        pm.softmax(x, Matrix.of(buf, 0, 2, 3, 3)); // exact in place is fine
        assertEquals(1.0, buf[0] + buf[1] + buf[2], 1e-6);
        assertEquals(POISON, buf[6]);
        assertEquals(POISON, buf[7]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rejectsReadOnlyOutputsClosedArenasAndForeignThreadSegments(String backend) throws Exception {
        Panmax pm = Panmax.backend(backend);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(64, 16);
            MemorySegment y = arena.allocate(64, 16);
            for (int i = 0; i < 16; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
                y.setAtIndex(ValueLayout.JAVA_FLOAT, i, POISON);
            }
            float[] yBefore = y.toArray(ValueLayout.JAVA_FLOAT);
            Supplier<float[]> yNow = () -> y.toArray(ValueLayout.JAVA_FLOAT);
            Matrix xv = Matrix.of(DType.F32, x, 1, 8);
            Matrix yv = Matrix.of(DType.F32, y, 1, 8);
            IllegalArgumentException ro = assertThrows(IllegalArgumentException.class,
                    () -> pm.softmax(xv, Matrix.of(DType.F32, y.asReadOnly(), 1, 8)));
            assertTrue(ro.getMessage().contains("y: is an output, but its segment is read-only"), ro.getMessage());
            assertArrayEquals(yBefore, yNow.get(), "a rejected call wrote to y");
            pm.softmax(Matrix.of(DType.F32, x.asReadOnly(), 1, 8), yv); // a read-only input is fine
            y.copyFrom(MemorySegment.ofArray(yBefore));

            // A confined segment used from another thread: a clean exception, never a crash.
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<?> f = ex.submit(() -> pm.softmax(xv, yv));
                Exception e = assertThrows(Exception.class, f::get);
                assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
                assertTrue(e.getCause().getMessage().contains("x: the segment is confined to another thread"),
                        e.getCause().getMessage());
            } finally {
                ex.shutdown();
            }
            assertArrayEquals(yBefore, yNow.get(), "a rejected call wrote to y");
        }
        // Views made while the arena was open, used after it closed.
        Arena closing = Arena.ofShared();
        Matrix cx = Matrix.of(DType.F32, closing.allocate(32, 8), 1, 8);
        Matrix cy = Matrix.of(DType.F32, closing.allocate(32, 8), 1, 8);
        float[] heapY = poisoned(8);
        closing.close();
        rejects(IllegalStateException.class, "x: the segment's arena is already closed", null, () -> pm.softmax(cx, cy));
        rejects(IllegalStateException.class, "y: the segment's arena is already closed", heapY,
                () -> pm.softmax(Matrix.of(new float[8]), cy));
        rejects(IllegalStateException.class, "x: the segment's arena is already closed", heapY,
                () -> pm.softmax(cx, Matrix.of(heapY)));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rejectsBadOptionsAndNumericArguments(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] x = {1, 2, 3};
        float[] y = poisoned(3);
        Matrix xv = Matrix.of(x);
        Matrix yv = Matrix.of(y);
        // Non-finite and non-positive temperatures cannot even be put in the options record ...
        for (double t : new double[] {0, -0.0, -1, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
            rejects(IllegalArgumentException.class, "temperature must be finite and > 0, was " + t, y,
                    () -> SoftmaxOptions.DEFAULT.withTemperature(t));
        }
        // ... positive ones outside the normal range of the logits' type are rejected by the call.
        for (double t : new double[] {Float.MIN_VALUE, Float.MIN_NORMAL / 2, 1e39, Double.MAX_VALUE}) {
            rejects(IllegalArgumentException.class, "temperature must be a normal float", y,
                    () -> pm.softmax(xv, yv, SoftmaxOptions.DEFAULT.withTemperature(t)));
        }
        rejects(IllegalArgumentException.class, "temperature must be a normal double", null,
                () -> pm.softmax(Matrix.of(new double[] {1, 2}), Matrix.of(new double[2]),
                        SoftmaxOptions.DEFAULT.withTemperature(Double.MIN_VALUE)));
        rejects(IllegalArgumentException.class, "mask: must have the element type of a keep-mask (U8), was F32", y,
                () -> pm.softmax(xv, yv, SoftmaxOptions.DEFAULT.withMask(Matrix.of(new float[3]))));
        rejects(IllegalArgumentException.class, "mask: must be 1 x 3 (x's shape, or one broadcast row), was 1 x 2", y,
                () -> pm.softmax(xv, yv, SoftmaxOptions.DEFAULT.withMask(Matrix.of(new byte[2]))));
        rejects(IllegalArgumentException.class, "bias: must have the element type of x (F32), was F64", y,
                () -> pm.softmax(xv, yv, SoftmaxOptions.DEFAULT.withBias(Matrix.of(new double[3]))));
        rejects(IllegalArgumentException.class, "y overlaps bias", null,
                () -> pm.softmax(xv, yv, SoftmaxOptions.DEFAULT.withBias(yv)));

        float[] loss = poisoned(2);
        float[] grad = poisoned(6);
        float[] logits = {1, 2, 3, 4, 5, 6};
        Matrix lv = Matrix.of(logits, 2, 3);
        Matrix gv = Matrix.of(grad, 2, 3);
        Matrix lossNone = Matrix.of(loss);
        CrossEntropyOptions none = CrossEntropyOptions.DEFAULT.withReduction(Reduction.NONE);
        rejects(IllegalArgumentException.class, "targets[1] = 3 is outside [0, 3) and is not the ignore index -100", grad,
                () -> pm.crossEntropy(lv, Matrix.of(new long[] {0, 3}), gv, lossNone, none));
        assertEquals(POISON, loss[0]);
        rejects(IllegalArgumentException.class, "labelSmoothing must be in [0, 1], was 1.5", grad,
                () -> none.withLabelSmoothing(1.5));
        rejects(NullPointerException.class, "reduction", grad, () -> none.withReduction(null));
        rejects(IllegalArgumentException.class, "targets: must have the element type of logits, or I64 labels (F32), was F64",
                grad, () -> pm.crossEntropy(lv, Matrix.of(new double[6], 2, 3), gv, lossNone, none));
        rejects(IllegalArgumentException.class, "targets: must be a vector of 2 elements", grad,
                () -> pm.crossEntropy(lv, Matrix.of(new long[] {0, 1, 2}), gv, lossNone, none));
        rejects(IllegalArgumentException.class, "loss: must be a vector of 1 elements", grad,
                () -> pm.crossEntropy(lv, Matrix.of(new long[] {0, 1}), gv, lossNone, CrossEntropyOptions.DEFAULT));
        float[] shared = {1, 2, 3, 4, 5, 6, 7};
        float[] sharedBefore = shared.clone();
        rejects(IllegalArgumentException.class, "grad overlaps logits: only exact in-place use", null,
                () -> pm.crossEntropy(Matrix.of(shared, 0, 2, 3, 3), Matrix.of(new long[] {0, 1}),
                        Matrix.of(shared, 1, 2, 3, 3), lossNone, none));
        rejects(IllegalArgumentException.class, "loss overlaps logits: this operation cannot work in place", null,
                () -> pm.crossEntropy(Matrix.of(shared, 0, 2, 3, 3), Matrix.of(new long[] {0, 1}), null,
                        Matrix.of(shared, 5, 1, 2, 2), none));
        assertArrayEquals(sharedBefore, shared);
        float[] weights = {1, -1, 2};
        rejects(IllegalArgumentException.class, "weight[1] = -1.0: class weights must be finite and >= 0", grad,
                () -> pm.crossEntropy(lv, Matrix.of(new long[] {0, 1}), gv, lossNone, none.withWeight(Matrix.of(weights))));
        rejects(IllegalArgumentException.class, "weight: must be a vector of 3 elements", grad,
                () -> pm.crossEntropy(lv, Matrix.of(new long[] {0, 1}), gv, lossNone, none.withWeight(Matrix.of(new float[2]))));
        assertEquals(POISON, loss[0]);

        float[] jac = poisoned(8);
        rejects(IllegalArgumentException.class, "jac: must be a contiguous 3 x 3 view", jac,
                () -> pm.jacobian(xv, Matrix.of(jac, 2, 4), JacobianOptions.DEFAULT));
        rejects(NullPointerException.class, "options", jac, () -> pm.jacobian(xv, Matrix.of(jac, 2, 4), null));
        rejects(IllegalArgumentException.class, "options: fromLogits is not supported by jacobianMatmul", jac,
                () -> pm.jacobianMatmul(Matrix.of(new float[] {0.5f, 0.5f}), Matrix.of(new float[4], 2, 2),
                        Matrix.of(jac, 2, 2), JacobianOptions.DEFAULT.withFromLogits(true)));
        // rows * cols * cols overflowing a long: a view that large can only be described, never allocated, so it is
        // one over address 0 (never touched: the call must be rejected before any work).
        MemorySegment huge = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);
        rejects(IllegalArgumentException.class, "jac: 2 x 4294967296 x 4294967296 elements overflow a long", jac,
                () -> pm.jacobian(Matrix.of(DType.F32, huge, 0, 2, 1L << 32, 1L << 32), Matrix.of(jac, 2, 4),
                        JacobianOptions.DEFAULT));
    }

    @Test
    void unknownBackendListsThePresentOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Panmax.backend("gpu"));
        assertTrue(e.getMessage().contains("no backend named 'gpu'") && e.getMessage().contains("java-scalar"),
                e.getMessage());
        List<String> names = Panmax.backends();
        assertTrue(names.contains("java-scalar"), names.toString());
        assertEquals(names.get(0), Panmax.get().name());
    }
}
