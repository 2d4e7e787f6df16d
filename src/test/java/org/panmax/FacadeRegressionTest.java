package org.panmax;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Regressions for the facade-side cases of the hardening issue, each one a call the segment API accepted (or
 * answered wrongly) and the view API must reject or answer as documented. The numbers are the issue's.
 */
class FacadeRegressionTest {
    static final float POISON = -12345.5f;

    static Stream<String> backends() {
        return Panmax.backends().stream();
    }

    static void rejected(String fragment, float[] memory, Executable call) {
        float[] before = memory.clone();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), () -> "message '" + e.getMessage() + "' should contain '" + fragment + "'");
        assertArrayEquals(before, memory, "a rejected call wrote into the array");
    }

    /**
     * (3) An input reached through a read-only heap segment hides its array from the JDK's API; the old overlap check
     * then took it for another array and let an output over the same array, 3 elements further on, through.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void overlapThroughAReadOnlyHeapSegmentIsRejected(String backend) {
        Panmax pm = Panmax.backend(backend);
        float[] a = new float[512];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) Math.sin(i);
        }
        MemorySegment ro = MemorySegment.ofArray(a).asReadOnly().asSlice(0, 256);
        MemorySegment rw = MemorySegment.ofArray(a).asSlice(12, 256);
        Matrix x = Matrix.of(DType.F32, ro);
        Matrix y = Matrix.of(DType.F32, rw);
        assertEquals(64, x.cols());
        rejected("y may overlap x", a, () -> pm.softmax(x, y));
        rejected("y may overlap x", a, () -> pm.logSoftmax(x, y));
        rejected("y may overlap x", a, () -> pm.softmax(x, y, SoftmaxOptions.DEFAULT.withTemperature(2)));
        rejected("dx may overlap dy", a, () -> pm.softmaxBackward(Matrix.of(new float[64]), x, y));
        rejected("out may overlap x", a, () -> pm.logSumExp(Matrix.of(DType.F32, ro, 2, 32), Matrix.of(DType.F32, rw, 1, 2)));
        rejected("grad may overlap logits", a, () -> pm.crossEntropy(x, Matrix.of(new long[] {3}), y,
                Matrix.of(new float[1]), CrossEntropyOptions.DEFAULT));
        // the same array through a view of the array itself: rejected too
        rejected("y may overlap x", a, () -> pm.softmax(x, Matrix.of(a, 3, 1, 64, 64)));
        // a read-only input of another array whose range does not meet the output's: accepted
        float[] out = new float[512];
        pm.softmax(x, Matrix.of(out, 100, 1, 64, 64));
        assertEquals(1.0, sum(out, 100, 64), 1e-5);
    }

    static double sum(float[] a, int from, int n) {
        double s = 0;
        for (int i = from; i < from + n; i++) {
            s += a[i];
        }
        return s;
    }

    /**
     * (7) Heap segments over arrays of other types as F32/F64: the old facade accepted byte[]- and ByteBuffer-backed
     * segments, and the Java backends then failed part-way (the JDK refuses unaligned float access), output partly
     * written. Now the view is refused with the rule before anything runs; an int[] (as aligned as a float) is fine.
     */
    @ParameterizedTest
    @MethodSource("backends")
    void heapSegmentsOverLessAlignedArraysAreRejectedUpFront(String backend) {
        Panmax pm = Panmax.backend(backend);
        byte[] bytes = new byte[64];
        Arrays.fill(bytes, (byte) 0x5A);
        byte[] bytesBefore = bytes.clone();
        ByteBuffer buffer = ByteBuffer.allocate(64);
        for (Supplier<MemorySegment> s : java.util.List.<Supplier<MemorySegment>>of(() -> MemorySegment.ofArray(bytes),
                () -> MemorySegment.ofBuffer(buffer), () -> MemorySegment.ofArray(new short[32]),
                () -> MemorySegment.ofArray(new char[32]))) {
            for (DType t : new DType[] {DType.F32, DType.F64}) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Matrix.of(t, s.get()));
                assertTrue(e.getMessage().contains("cannot hold " + t) && e.getMessage().contains("use a "), e.getMessage());
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Matrix.of(DType.F64, MemorySegment.ofArray(new int[16])));
        assertTrue(e.getMessage().contains("4-byte elements cannot hold F64"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Matrix.of(DType.I64, MemorySegment.ofArray(new int[16])));
        assertArrayEquals(bytesBefore, bytes);
        // int[] holds F32, long[] holds F64: the same call on them works
        int[] ints = new int[4];
        float[] x = {1, 2, 3, 4};
        pm.softmax(Matrix.of(x), Matrix.of(DType.F32, MemorySegment.ofArray(ints)));
        double s = 0;
        for (int v : ints) {
            s += Float.intBitsToFloat(v);
        }
        assertEquals(1.0, s, 1e-6);
        long[] longs = new long[4];
        pm.softmax(Matrix.of(new double[] {1, 2, 3, 4}), Matrix.of(DType.F64, MemorySegment.ofArray(longs)));
        assertEquals(1.0, Arrays.stream(longs).mapToDouble(Double::longBitsToDouble).sum(), 1e-15);
    }

    /** (8) Cross-entropy of no rows: SUM gives 0, MEAN NaN (an empty mean), NONE writes nothing; every backend. */
    @ParameterizedTest
    @MethodSource("backends")
    void crossEntropyOfNoRows(String backend) {
        Panmax pm = Panmax.backend(backend);
        for (DType t : new DType[] {DType.F32, DType.F64}) {
            boolean f64 = t == DType.F64;
            MemorySegment logits = f64 ? MemorySegment.ofArray(new double[8]) : MemorySegment.ofArray(new float[8]);
            MemorySegment loss = f64 ? MemorySegment.ofArray(new double[2]) : MemorySegment.ofArray(new float[2]);
            MemorySegment grad = f64 ? MemorySegment.ofArray(new double[8]) : MemorySegment.ofArray(new float[8]);
            Matrix x = Matrix.of(t, logits, 0, 0, 4, 4);
            Matrix g = Matrix.of(t, grad, 0, 0, 4, 4);
            Matrix labels = Matrix.of(new long[1], 0, 0, 1, 1);
            Matrix soft = Matrix.of(t, logits, 0, 0, 4, 4);
            for (Matrix targets : new Matrix[] {labels, soft}) {
                for (Matrix gradOrNull : new Matrix[] {g, null}) {
                    for (Reduction red : Reduction.values()) {
                        fill(loss, f64, POISON);
                        fill(grad, f64, POISON);
                        Matrix lossView = red == Reduction.NONE ? Matrix.of(t, loss, 0, 0, 1, 1) : Matrix.of(t, loss, 1, 1);
                        pm.crossEntropy(x, targets, gradOrNull, lossView, CrossEntropyOptions.DEFAULT.withReduction(red));
                        String ctx = backend + " " + t + " " + red + (targets == labels ? " labels" : " soft")
                                + (gradOrNull == null ? "" : " grad");
                        double l0 = get(loss, f64, 0);
                        switch (red) {
                            case SUM -> assertEquals(0.0, l0, 0.0, ctx);
                            case MEAN -> assertTrue(Double.isNaN(l0), ctx + ": " + l0);
                            case NONE -> assertEquals(POISON, l0, 0.0, ctx + ": wrote a loss");
                        }
                        assertEquals(POISON, get(loss, f64, 1), 0.0, ctx + ": wrote past the loss");
                        for (int i = 0; i < 8; i++) {
                            assertEquals(POISON, get(grad, f64, i), 0.0, ctx + ": wrote a gradient");
                        }
                    }
                }
            }
        }
    }

    static void fill(MemorySegment s, boolean f64, double v) {
        for (long i = 0; i < s.byteSize() / (f64 ? 8 : 4); i++) {
            KernelsAgreementTest.put(s, f64, i, v);
        }
    }

    static double get(MemorySegment s, boolean f64, long i) {
        return KernelsAgreementTest.get(s, f64, i);
    }

    /**
     * A read-only heap segment of one array and an output of another whose ranges (offsets in their arrays) meet
     * partially: panmax cannot tell the arrays apart, so it rejects (documented); the same ranges exactly is
     * in-place use if it is the same array, and allowed.
     */
    @Test
    void aReadOnlyHeapSegmentMeetingAnyHeapOutputIsRejectedSinceItsArrayIsUnknown() {
        Panmax pm = Panmax.backend(Panmax.backends().get(0));
        float[] a = new float[64];
        float[] b = new float[64];
        Matrix x = Matrix.of(DType.F32, MemorySegment.ofArray(a).asReadOnly().asSlice(0, 200));
        rejected("a read-only heap segment does not reveal its array", b, () -> pm.softmax(x, Matrix.of(b, 2, 1, 50, 50)));
        pm.softmax(x, Matrix.of(b, 0, 1, 50, 50));
        assertEquals(1.0, sum(b, 0, 50), 1e-5);
    }
}
