package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.SoftmaxOptions;

/**
 * Long calls on off-heap segments leave the critical path (NativeKernels.CRITICAL_MAX_WORK): the decision,
 * and that every operation gives bit-identical results on both paths. Each case runs the same native
 * backend twice on the same inputs, with work above the threshold: once with off-heap segments (plain
 * jextract downcall) and once with heap segments (critical downcall, the only way heap memory reaches C).
 */
class CriticalPathTest {

    static final long BIG = NativeKernels.CRITICAL_MAX_WORK * 2;

    static List<String> nativeBackends() {
        return Panmax.backends().stream().filter(b -> b.startsWith("native")).toList();
    }

    @Test
    void decision() {
        try (Arena arena = Arena.ofConfined()) {
            Matrix a = Matrix.of(DType.F32, arena.allocate(64), 1, 16);
            Matrix b = Matrix.of(DType.F32, arena.allocate(64), 1, 16);
            Matrix heap = Matrix.of(new float[16]);
            Matrix heapSegment = Matrix.of(DType.F32, MemorySegment.ofArray(new float[16]));
            long max = NativeKernels.CRITICAL_MAX_WORK;
            assertFalse(NativeKernels.plain(max, a, b), "at the threshold: critical");
            assertTrue(NativeKernels.plain(max + 1, a, b), "above it, off-heap: plain");
            assertFalse(NativeKernels.plain(max + 1, a, heap), "an array can only go critical");
            assertFalse(NativeKernels.plain(max + 1, a, heapSegment), "a heap segment can only go critical");
            assertFalse(NativeKernels.plain(max + 1, heap, b));
            assertTrue(NativeKernels.plain(max + 1, a, b, null), "an absent optional buffer");
            assertTrue(NativeKernels.plain(max + 1, a, b, null, null));
            assertFalse(NativeKernels.plain(max + 1, a, b, null, heap));
            assertFalse(NativeKernels.plain(max + 1, a, b, heapSegment, b));
        }
    }

    /** One operation on buffers from alloc (bytes -> zeroed 8-byte-aligned segment); returns the outputs' bytes. */
    interface Op {
        byte[][] run(Panmax pm, DType t, LongFunction<MemorySegment> alloc, SplittableRandom r);
    }

    static MemorySegment random(LongFunction<MemorySegment> alloc, DType t, long n, SplittableRandom r, double scale) {
        MemorySegment s = alloc.apply(n * t.bytes());
        for (long i = 0; i < n; i++) {
            double v = r.nextGaussian() * scale;
            if (t == DType.F64) {
                s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
            } else {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
            }
        }
        return s;
    }

    static Matrix m(DType t, MemorySegment s, long rows, long cols) {
        return Matrix.of(t, s, rows, cols);
    }

    static byte[] bytes(MemorySegment s) {
        return s.toArray(ValueLayout.JAVA_BYTE);
    }

    static final int ROWS = 64;
    static final int COLS = (int) (BIG / ROWS);

    static final Op[] OPS = {
        (pm, t, a, r) -> {
            MemorySegment x = random(a, t, BIG, r, 4), y = a.apply(BIG * t.bytes());
            pm.softmax(m(t, x, ROWS, COLS), m(t, y, ROWS, COLS));
            return new byte[][] {bytes(y)};
        },
        (pm, t, a, r) -> {
            MemorySegment x = random(a, t, BIG, r, 4), y = a.apply(BIG * t.bytes());
            pm.logSoftmax(m(t, x, ROWS, COLS), m(t, y, ROWS, COLS));
            return new byte[][] {bytes(y)};
        },
        (pm, t, a, r) -> {
            MemorySegment x = random(a, t, BIG, r, 4), out = a.apply(ROWS * t.bytes());
            pm.logSumExp(m(t, x, ROWS, COLS), m(t, out, 1, ROWS));
            return new byte[][] {bytes(out)};
        },
        (pm, t, a, r) -> {
            MemorySegment x = random(a, t, BIG, r, 4), y = a.apply(BIG * t.bytes());
            MemorySegment mask = a.apply(COLS);
            for (int j = 0; j < COLS; j++) {
                mask.set(ValueLayout.JAVA_BYTE, j, (byte) (r.nextInt(4) == 0 ? 0 : 1));
            }
            MemorySegment bias = random(a, t, COLS, r, 1);
            pm.softmax(m(t, x, ROWS, COLS), m(t, y, ROWS, COLS), new SoftmaxOptions(0.7, m(DType.U8, mask, 1, COLS).broadcast(ROWS),
                    m(t, bias, 1, COLS).broadcast(ROWS), false, true));
            return new byte[][] {bytes(y)};
        },
        (pm, t, a, r) -> {
            MemorySegment p = random(a, t, BIG, r, 1), dy = random(a, t, BIG, r, 1), dx = a.apply(BIG * t.bytes());
            pm.softmaxBackward(m(t, p, ROWS, COLS), m(t, dy, ROWS, COLS), m(t, dx, ROWS, COLS));
            return new byte[][] {bytes(dx)};
        },
        (pm, t, a, r) -> {
            MemorySegment lp = random(a, t, BIG, r, 1), dy = random(a, t, BIG, r, 1), dx = a.apply(BIG * t.bytes());
            pm.logSoftmaxBackward(m(t, lp, ROWS, COLS), m(t, dy, ROWS, COLS), m(t, dx, ROWS, COLS));
            return new byte[][] {bytes(dx)};
        },
        (pm, t, a, r) -> {
            MemorySegment lp = random(a, t, BIG, r, 1), v = random(a, t, BIG, r, 1), out = a.apply(BIG * t.bytes());
            pm.logSoftmaxJvp(m(t, lp, ROWS, COLS), m(t, v, ROWS, COLS), m(t, out, ROWS, COLS));
            return new byte[][] {bytes(out)};
        },
        (pm, t, a, r) -> {
            int n = (int) Math.sqrt(BIG) + 1; // one row: n^2 > BIG
            MemorySegment x = random(a, t, n, r, 3), jac = a.apply((long) n * n * t.bytes());
            pm.jacobian(m(t, x, 1, n), m(t, jac, n, n), JacobianOptions.DEFAULT);
            return new byte[][] {bytes(jac)};
        },
        (pm, t, a, r) -> {
            int n = 512, k = (int) (BIG / n) + 1;
            MemorySegment z = random(a, t, n, r, 3), v = random(a, t, (long) n * k, r, 1);
            MemorySegment out = a.apply((long) n * k * t.bytes());
            pm.jacobianMatmul(m(t, z, 1, n), m(t, v, n, k), m(t, out, n, k), JacobianOptions.DEFAULT);
            return new byte[][] {bytes(out)};
        },
        (pm, t, a, r) -> {
            MemorySegment x = random(a, t, BIG, r, 4), grad = a.apply(BIG * t.bytes()), loss = a.apply(t.bytes());
            MemorySegment labels = a.apply(ROWS * 8L);
            for (int i = 0; i < ROWS; i++) {
                labels.setAtIndex(ValueLayout.JAVA_LONG, i, i % 7 == 0 ? -100 : r.nextInt(COLS));
            }
            pm.crossEntropy(m(t, x, ROWS, COLS), m(DType.I64, labels, 1, ROWS), m(t, grad, ROWS, COLS), m(t, loss, 1, 1),
                    CrossEntropyOptions.DEFAULT.withLabelSmoothing(0.1));
            return new byte[][] {bytes(grad), bytes(loss)};
        },
    };

    static List<Object[]> cases() {
        List<Object[]> c = new java.util.ArrayList<>();
        for (String b : nativeBackends()) {
            for (DType t : new DType[] {DType.F32, DType.F64}) {
                for (int op = 0; op < OPS.length; op++) {
                    c.add(new Object[] {b, t, op});
                }
            }
        }
        if (c.isEmpty()) {
            c.add(new Object[] {"none", DType.F32, -1}); // reported as skipped below
        }
        return c;
    }

    @ParameterizedTest(name = "{0} {1} op {2}")
    @MethodSource("cases")
    void bothPathsAgreeBitForBit(String backend, DType t, int op) {
        assumeTrue(op >= 0, "no native backend loaded: " + Panmax.nativeStatus());
        Panmax pm = Panmax.backend(backend);
        long seed = System.nanoTime();
        byte[][] offHeap;
        try (Arena arena = Arena.ofConfined()) {
            offHeap = OPS[op].run(pm, t, n -> arena.allocate(n, 8), new SplittableRandom(seed));
        }
        byte[][] heap = OPS[op].run(pm, t, n -> MemorySegment.ofArray(new long[(int) ((n + 7) / 8)]).asSlice(0, n),
                new SplittableRandom(seed));
        assertEquals(heap.length, offHeap.length);
        for (int i = 0; i < heap.length; i++) {
            assertArrayEquals(heap[i], offHeap[i], backend + " " + t + " op " + op + " output " + i + " seed " + seed);
        }
    }
}
