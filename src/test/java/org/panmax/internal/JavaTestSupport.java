package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.panmax.DType;
import org.panmax.Matrix;

/**
 * What the pure-Java backends' own tests share: the kernel sets under test (constructed directly, through the
 * SPI: java-scalar, java-vector and the bench's java-vector-libexp), views over test data, reading results
 * back, comparisons, and the tolerances with their reasons.
 */
final class JavaTestSupport {
    private JavaTestSupport() {}

    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());

    /** Every Java kernel set: the two production backends and the benchmark variant (same rules). */
    static List<Kernels> backends() {
        List<Kernels> all = new ArrayList<>();
        all.add(JavaKernels.scalar());
        if (JavaVectorSupport.available()) {
            all.add(JavaVectorSupport.create());
            all.add(JavaVectorSupport.createLibraryExp());
        }
        return all;
    }

    static Stream<Arguments> backendsAndTypes() {
        return backends().stream().flatMap(k -> Stream.of(Arguments.of(k, false), Arguments.of(k, true)));
    }

    /**
     * ThreadMXBean.getCurrentThreadAllocatedBytes of this JVM, bound: looked up reflectively because the tests are
     * compiled into module org.panmax, which does not read java.management (they run on the class path).
     */
    private static final MethodHandle ALLOCATED = allocatedBytesHandle();

    private static MethodHandle allocatedBytesHandle() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            Class<?> type = Class.forName("com.sun.management.ThreadMXBean");
            return MethodHandles.publicLookup().findVirtual(type, "getCurrentThreadAllocatedBytes",
                    MethodType.methodType(long.class)).bindTo(bean);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** Bytes this thread has allocated so far. */
    static long allocatedBytes() {
        try {
            return (long) ALLOCATED.invokeExact();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** What two back-to-back {@link #allocatedBytes()} calls differ by with nothing between (the probe's own cost). */
    static long probeBytes() {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long before = allocatedBytes();
            least = Math.min(least, allocatedBytes() - before);
        }
        return least;
    }

    static DType type(boolean f64) {
        return f64 ? DType.F64 : DType.F32;
    }

    /** Unit roundoff doubled: 2^-23 (float), 2^-52 (double). */
    static double eps(boolean f64) {
        return f64 ? 0x1p-52 : 0x1p-23;
    }

    /** Rounds to the element type. */
    static double round(boolean f64, double v) {
        return f64 ? v : (float) v;
    }

    static double[] round(boolean f64, double[] v) {
        double[] r = v.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] = round(f64, r[i]);
        }
        return r;
    }

    static double gauss(SplittableRandom r) {
        return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /**
     * A rows x cols view holding v (rounded to the type), row stride cols + pad, from element offset: in a fresh
     * array (arena == null) or in a native segment of arena.
     */
    static Matrix matrix(double[][] v, boolean f64, Arena arena, int offset, int pad) {
        int rows = v.length;
        int cols = v[0].length;
        int stride = cols + pad;
        int len = offset + (rows - 1) * stride + cols;
        Matrix m;
        if (arena != null) {
            m = Matrix.of(type(f64), arena.allocate((long) len * (f64 ? 8 : 4), 8), offset, rows, cols, stride);
        } else {
            m = f64 ? Matrix.of(new double[len], offset, rows, cols, stride)
                    : Matrix.of(new float[len], offset, rows, cols, stride);
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < cols; j++) {
                set(m, r, j, v[r][j]);
            }
        }
        return m;
    }

    static Matrix matrix(double[][] v, boolean f64, Arena arena) {
        return matrix(v, f64, arena, 0, 0);
    }

    /** One row. */
    static Matrix row(double[] v, boolean f64, Arena arena) {
        return matrix(new double[][] {v}, f64, arena);
    }

    /** A zeroed rows x cols view. */
    static Matrix zeros(long rows, long cols, boolean f64, Arena arena) {
        return matrix(new double[(int) rows][(int) cols], f64, arena);
    }

    /** Element (r, j) of a view (array or segment), through the view's segment. */
    static double get(Matrix m, long r, long j) {
        long i = r * m.stride() + j;
        return m.dtype() == DType.F64 ? m.segment().getAtIndex(ValueLayout.JAVA_DOUBLE, i)
                : m.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i);
    }

    static void set(Matrix m, long r, long j, double v) {
        long i = r * m.stride() + j;
        MemorySegment s = m.segment();
        if (m.dtype() == DType.F64) {
            s.setAtIndex(ValueLayout.JAVA_DOUBLE, i, v);
        } else {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) v);
        }
    }

    static double[] rowOf(Matrix m, long r) {
        double[] v = new double[(int) m.cols()];
        for (int j = 0; j < v.length; j++) {
            v[j] = get(m, r, j);
        }
        return v;
    }

    /** got == want (NaN equals NaN; −0 equals +0), with a message. */
    static void same(double want, double got, String what) {
        if (!(Double.isNaN(want) ? Double.isNaN(got) : got == want)) {
            fail(what + ": want " + want + ", got " + got);
        }
    }

    /** |got − want| <= tol; infinities and NaN exactly. */
    static void close(double want, double got, double tol, String what) {
        if (Double.isNaN(want) || Double.isInfinite(want)) {
            same(want, got, what);
            return;
        }
        if (!(Math.abs(got - want) <= tol)) {
            fail(what + ": want " + want + ", got " + got + " (error " + Math.abs(got - want) + " > " + tol + ")");
        }
    }

    static void assertNaNRow(Matrix m, long r, String what) {
        for (long j = 0; j < m.cols(); j++) {
            assertTrue(Double.isNaN(get(m, r, j)), what + " [" + r + "," + j + "] = " + get(m, r, j));
        }
    }

    static void assertRowEquals(double want, Matrix m, long r, String what) {
        for (long j = 0; j < m.cols(); j++) {
            assertEquals(want, get(m, r, j), 0, what + " [" + r + "," + j + "]");
        }
    }
}
