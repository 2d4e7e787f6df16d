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
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every rejected call names the argument and the rule, throws the documented exception type, and writes
 * nothing (outputs are poisoned first and compared afterwards). Run on every backend: the checks live in
 * the facade, so they must be identical everywhere.
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

    static <T extends Throwable> void rejects(Class<T> type, String fragment, float[] out, Runnable call) {
        float[] before = out == null ? null : out.clone();
        T e = assertThrows(type, call::run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(fragment),
                () -> "message '" + e.getMessage() + "' should contain '" + fragment + "'");
        if (out != null) {
            assertArrayEquals(before, out, "a rejected call wrote to its output");
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rejectsBadShapesAndBounds(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] x = {1, 2, 3, 4, 5, 6};
        float[] y = poisoned(6);
        rejects(NullPointerException.class, "x", y, () -> pm.softmax((float[]) null, y));
        rejects(NullPointerException.class, "y", null, () -> pm.softmax(x, (float[]) null));
        rejects(IllegalArgumentException.class, "cols must be >= 1", y, () -> pm.softmax(x, 0, 0, y, 0, 0, 1, 0));
        rejects(IllegalArgumentException.class, "rows must be >= 0", y, () -> pm.softmax(x, 0, 3, y, 0, 3, -1, 3));
        rejects(IllegalArgumentException.class, "x: row stride must be >= cols", y, () -> pm.softmax(x, 0, 2, y, 0, 3, 2, 3));
        rejects(IllegalArgumentException.class, "y: row stride must be >= cols", y, () -> pm.softmax(x, 0, 3, y, 0, 2, 2, 3));
        rejects(IndexOutOfBoundsException.class, "x: 3 rows x 3 cols", y, () -> pm.softmax(x, 0, 3, y, 0, 3, 3, 3));
        rejects(IndexOutOfBoundsException.class, "y: 2 rows x 3 cols", y, () -> pm.softmax(x, 0, 3, y, 1, 3, 2, 3));
        rejects(IndexOutOfBoundsException.class, "x: offset must be >= 0", y, () -> pm.softmax(x, -1, 3, y, 0, 3, 1, 3));
        float[] small = poisoned(5);
        rejects(IndexOutOfBoundsException.class, "y: 1 rows x 6 cols", small, () -> pm.softmax(x, small));
        rejects(IllegalArgumentException.class, "overflows a long", y,
                () -> pm.softmax(DType.F32, MemorySegment.ofArray(x), Long.MAX_VALUE / 2, MemorySegment.ofArray(y), 3, 3, 3));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rejectsOverlapButAllowsExactInPlace(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] buf = {1, 2, 3, 4, 5, 6, POISON, POISON};
        float[] before = buf.clone();
        rejects(IllegalArgumentException.class, "y overlaps x", null, () -> pm.softmax(buf, 0, 3, buf, 1, 3, 2, 3));
        assertArrayEquals(before, buf);
        rejects(IllegalArgumentException.class, "y overlaps x", null, () -> pm.softmax(buf, 0, 3, buf, 0, 4, 2, 3));
        assertArrayEquals(before, buf);
        pm.softmax(buf, 0, 3, buf, 0, 3, 2, 3); // exact in place is fine
        assertEquals(1.0, buf[0] + buf[1] + buf[2], 1e-6);
        assertEquals(POISON, buf[6]);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rejectsReadOnlyMisalignedClosedAndForeignThreadSegments(String backend) throws Exception {
        Panmax pm = Panmax.backend(backend);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocate(64, 16);
            MemorySegment y = arena.allocate(64, 16);
            for (int i = 0; i < 16; i++) {
                x.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
                y.setAtIndex(ValueLayout.JAVA_FLOAT, i, POISON);
            }
            float[] yBefore = y.toArray(ValueLayout.JAVA_FLOAT);
            Consumer<Runnable> untouched = call -> {
                assertArrayEquals(yBefore, y.toArray(ValueLayout.JAVA_FLOAT), "a rejected call wrote to y");
            };
            IllegalArgumentException ro = assertThrows(IllegalArgumentException.class,
                    () -> pm.softmax(DType.F32, x, y.asReadOnly(), 8));
            assertTrue(ro.getMessage().contains("y: the output segment is read-only"), ro.getMessage());
            IllegalArgumentException mis = assertThrows(IllegalArgumentException.class,
                    () -> pm.softmax(DType.F32, x.asSlice(2), y, 8));
            assertTrue(mis.getMessage().contains("x: element offset 0") && mis.getMessage().contains("not aligned to 4"),
                    mis.getMessage());
            untouched.accept(null);

            // A confined segment used from another thread: a clean exception, never a crash.
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<?> f = ex.submit(() -> pm.softmax(DType.F32, x, y, 8));
                Exception e = assertThrows(Exception.class, f::get);
                assertTrue(e.getCause() instanceof IllegalStateException, String.valueOf(e.getCause()));
                assertTrue(e.getCause().getMessage().contains("confined to another thread"), e.getCause().getMessage());
            } finally {
                ex.shutdown();
            }
            untouched.accept(null);
        }
        Arena closed = Arena.ofShared();
        MemorySegment cx = closed.allocate(32, 8);
        MemorySegment cy = closed.allocate(32, 8);
        closed.close();
        IllegalStateException ise = assertThrows(IllegalStateException.class, () -> pm.softmax(DType.F32, cx, cy, 8));
        assertTrue(ise.getMessage().contains("x: the segment's arena is already closed"), ise.getMessage());
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rejectsBadNumericArguments(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] x = {1, 2, 3};
        float[] y = poisoned(3);
        for (float t : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY, Float.MIN_VALUE}) {
            rejects(IllegalArgumentException.class, "temperature must be finite", y, () -> pm.softmax(x, y, t));
        }
        rejects(IllegalArgumentException.class, "flags: only LOG (1) and EXACT (2)", y,
                () -> pm.softmaxEx(x, 0, 3, y, 0, 3, 1, 3, 1f, null, 0, 0, null, 0, 0, 8));
        rejects(IllegalArgumentException.class, "mask: row stride must be >= cols (or 0", y,
                () -> pm.softmaxEx(x, 0, 3, y, 0, 3, 1, 3, 1f, new byte[3], 0, 2, null, 0, 0, 0));
        float[] loss = poisoned(2);
        float[] grad = poisoned(6);
        float[] logits = {1, 2, 3, 4, 5, 6};
        rejects(IllegalArgumentException.class, "labels[1] = 3 is outside [0, 3)", grad,
                () -> pm.crossEntropy(logits, 2, 3, new long[] {0, 3}, grad, loss, Reduction.NONE, -100, 0f));
        assertEquals(POISON, loss[0]);
        rejects(IllegalArgumentException.class, "labelSmoothing must be in [0, 1]", grad,
                () -> pm.crossEntropy(logits, 2, 3, new long[] {0, 1}, grad, loss, Reduction.NONE, -100, 1.5f));
        rejects(IllegalArgumentException.class, "exactly one of labels and target", grad,
                () -> pm.crossEntropy(DType.F32, MemorySegment.ofArray(logits), 3, null, null, 3,
                        MemorySegment.ofArray(grad), 3, MemorySegment.ofArray(loss), 2, 3, -100, 0, Reduction.SUM));
        rejects(IllegalArgumentException.class, "grad overlaps logits", null,
                () -> pm.crossEntropy(DType.F32, MemorySegment.ofArray(logits), 3, MemorySegment.ofArray(new long[] {0, 1}),
                        null, 3, MemorySegment.ofArray(logits).asSlice(4), 3, MemorySegment.ofArray(loss), 1, 3, -100, 0,
                        Reduction.SUM));
        float[] jac = poisoned(8);
        rejects(IndexOutOfBoundsException.class, "jac:", jac, () -> pm.jacobian(x, jac, 0));
        rejects(IllegalArgumentException.class, "flags: only LOG (1) and FROM_LOGITS (4)", jac,
                () -> pm.jacobian(new float[] {0.5f, 0.5f}, jac, 2));
        rejects(IllegalArgumentException.class, "overflow", null,
                () -> pm.jacobian(DType.F32, MemorySegment.ofArray(x), 3, MemorySegment.ofArray(jac), 2, 1L << 32, 0));
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
