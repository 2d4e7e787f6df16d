package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.panmax.DType;
import org.panmax.Panmax;

/**
 * Seeded random calls, valid and invalid, per backend: random shapes, strides, offsets, dtypes and
 * segment kinds (heap, native, sliced, read-only). An independent oracle decides validity. Invalid calls
 * must throw the documented type and leave every byte untouched; valid calls must write only inside the
 * output region (guard zones before and after are poisoned and checked) and give probabilities that sum
 * to 1 per row. -Dpanmax.seed=N replays a run.
 */
class GeneratedCallsTest {
    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());
    static final int CALLS = Integer.getInteger("panmax.generated.calls", 1500);
    static final byte POISON = (byte) 0x5A;

    @TestFactory
    Stream<DynamicTest> randomCallsPerBackend() {
        return Panmax.backends().stream().map(b -> DynamicTest.dynamicTest(b + " (seed " + SEED + ")", () -> run(b)));
    }

    record Call(boolean f64, long rows, long cols, long xStride, long yStride, long xOff, long yOff, int kind, boolean readOnly,
                boolean inPlace, boolean misalign) {}

    static void run(String backend) {
        Panmax pm = Panmax.backend(backend);
        SplittableRandom r = new SplittableRandom(SEED ^ backend.hashCode());
        int valid = 0;
        int invalid = 0;
        for (int c = 0; c < CALLS; c++) {
            boolean f64 = r.nextBoolean();
            int e = f64 ? 8 : 4;
            long rows = r.nextInt(10) == 0 ? -1 - r.nextInt(3) : r.nextInt(5);
            long cols = r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(70);
            long xStride = Math.max(0, cols + r.nextInt(7) - (r.nextInt(8) == 0 ? 3 : 0));
            long yStride = Math.max(0, cols + r.nextInt(7) - (r.nextInt(8) == 0 ? 3 : 0));
            long xOff = r.nextInt(5);
            long yOff = r.nextInt(5);
            int kind = r.nextInt(3); // 0 heap, 1 native, 2 native slice
            Call call = new Call(f64, rows, cols, xStride, yStride, xOff, yOff, kind, r.nextInt(15) == 0, r.nextInt(6) == 0,
                    r.nextInt(15) == 0);
            // buffer sizes: usually enough, sometimes short by a few elements
            long need = Math.max(0, rows) == 0 ? 0 : (Math.max(0, rows) - 1) * Math.max(xStride, yStride) + cols;
            long len = need + Math.max(xOff, yOff) + (r.nextInt(10) == 0 ? -1 - r.nextInt(2) : r.nextInt(3));
            len = Math.max(len, 1);
            try (Arena arena = Arena.ofConfined()) {
                long guard = 64;
                MemorySegment whole = kind == 0
                        ? (f64 ? MemorySegment.ofArray(new double[(int) (len + 2 * guard / 8 + 2)]) : MemorySegment.ofArray(new float[(int) (len + 2 * guard / 4 + 2)]))
                        : arena.allocate(len * e + 2 * guard + 8, 16);
                whole.fill(POISON);
                MemorySegment yBuf = whole.asSlice(guard + (call.misalign() ? 2 : 0), len * e);
                MemorySegment xBuf;
                if (call.inPlace()) {
                    xBuf = yBuf;
                } else {
                    xBuf = kind == 0 ? MemorySegment.ofArray(new double[(int) len + 1]).asSlice(0, len * e)
                            : arena.allocate(len * e, 16);
                    for (long i = 0; i < len; i++) {
                        if (f64) {
                            xBuf.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, r.nextDouble() * 10 - 5);
                        } else {
                            xBuf.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) (r.nextDouble() * 10 - 5));
                        }
                    }
                }
                MemorySegment y = call.readOnly() ? yBuf.asReadOnly() : yBuf;
                MemorySegment xs = xBuf.asSlice(Math.min(xOff * e, xBuf.byteSize()));
                MemorySegment ys = y.asSlice(Math.min(yOff * e, y.byteSize()));
                long xs2 = call.inPlace() ? yStride : xStride;
                if (call.inPlace()) {
                    xs = ys;
                }
                byte[] before = whole.toArray(ValueLayout.JAVA_BYTE);
                String oracle = oracle(call, xs, xs2, ys, e);
                try {
                    pm.softmax(f64 ? DType.F64 : DType.F32, xs, xs2, ys, yStride, rows, cols);
                    if (oracle != null) {
                        fail(backend + " accepted an invalid call (" + oracle + "): " + call + " seed=" + SEED);
                    }
                    valid++;
                    // nothing outside y's region changed; each row sums to 1
                    byte[] after = whole.toArray(ValueLayout.JAVA_BYTE);
                    long start = ys.address() - whole.address();
                    long end = start + (rows == 0 ? 0 : ((rows - 1) * yStride + cols) * e);
                    for (int i = 0; i < after.length; i++) {
                        if ((i < start || i >= end) && after[i] != before[i]) {
                            fail(backend + " wrote outside the output at byte " + i + ": " + call + " seed=" + SEED);
                        }
                    }
                    for (long row = 0; row < rows; row++) {
                        double s = 0;
                        for (long j = 0; j < cols; j++) {
                            long idx = row * yStride + j;
                            s += f64 ? ys.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, idx) : ys.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, idx);
                        }
                        assertTrue(Math.abs(s - 1) < 1e-5, backend + " row sum " + s + ": " + call + " seed=" + SEED);
                    }
                } catch (IllegalArgumentException | IndexOutOfBoundsException | IllegalStateException ex) {
                    if (oracle == null) {
                        fail(backend + " rejected a valid call: " + ex + " " + call + " seed=" + SEED);
                    }
                    invalid++;
                    assertArrayEquals(before, whole.toArray(ValueLayout.JAVA_BYTE), backend + " a rejected call wrote: " + call);
                }
            }
        }
        System.out.println("[panmax] generated calls on " + backend + ": " + valid + " valid, " + invalid + " invalid, seed " + SEED);
        assertTrue(valid > CALLS / 10 && invalid > CALLS / 10, "generator balance: " + valid + " valid, " + invalid + " invalid");
    }

    /** Independent statement of the rules: null if the call is valid, else the rule it breaks. */
    static String oracle(Call c, MemorySegment x, long xStride, MemorySegment y, int e) {
        if (c.rows() < 0) {
            return "rows < 0";
        }
        if (c.cols() < 1) {
            return "cols < 1";
        }
        if (xStride < c.cols() || c.yStride() < c.cols()) {
            return "stride < cols";
        }
        long spanX = c.rows() == 0 ? 0 : (c.rows() - 1) * xStride + c.cols();
        long spanY = c.rows() == 0 ? 0 : (c.rows() - 1) * c.yStride() + c.cols();
        if (spanX * e > x.byteSize() || spanY * e > y.byteSize()) {
            return "out of bounds";
        }
        if (x.address() % e != 0 || y.address() % e != 0) {
            return "misaligned";
        }
        if (c.readOnly()) {
            return "read-only";
        }
        if (c.inPlace() && xStride != c.yStride() && c.rows() > 0) {
            return "overlap";
        }
        return null;
    }
}
