package org.panmax.internal;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

import java.lang.foreign.MemorySegment;
import org.panmax.Matrix;

/**
 * Element access for the pure-Java backends. A buffer is a {@code float[]}/{@code double[]}/{@code long[]}/
 * {@code byte[]} indexed directly, or a {@link MemorySegment}; an index counts elements from the buffer's start.
 *
 * <p>Arrays are never wrapped in a heap segment here: a wrapper made per call has to be removed by escape
 * analysis, which fails as soon as a method on the way is not inlined (C2 compiles the loops on their own, and
 * will not inline one already compiled into more than InlineSmallCode bytes) or a phi merges it with another
 * buffer's wrapper. Without a wrapper there is nothing to allocate, whatever C2 inlines. The f64 and type tests
 * are loop-invariant: C2 unswitches them, or removes them where the profile has seen one kind only. Array
 * indices fit in an int (the views were checked against the array's length).
 */
final class Elements {
    private Elements() {}

    static double get(Object b, boolean f64, long i) {
        if (f64) {
            return b instanceof double[] a ? a[(int) i] : ((MemorySegment) b).getAtIndex(JAVA_DOUBLE, i);
        }
        return b instanceof float[] a ? a[(int) i] : ((MemorySegment) b).getAtIndex(JAVA_FLOAT, i);
    }

    static void set(Object b, boolean f64, long i, double v) {
        if (f64) {
            if (b instanceof double[] a) {
                a[(int) i] = v;
            } else {
                ((MemorySegment) b).setAtIndex(JAVA_DOUBLE, i, v);
            }
        } else if (b instanceof float[] a) {
            a[(int) i] = (float) v;
        } else {
            ((MemorySegment) b).setAtIndex(JAVA_FLOAT, i, (float) v);
        }
    }

    /** A mask byte (byte[] or segment). */
    static byte getByte(Object b, long i) {
        return b instanceof byte[] a ? a[(int) i] : ((MemorySegment) b).get(JAVA_BYTE, i);
    }

    /** A label (long[] or segment). */
    static long getLong(Object b, long i) {
        return b instanceof long[] a ? a[(int) i] : ((MemorySegment) b).getAtIndex(JAVA_LONG_UNALIGNED, i);
    }

    /** Rounds to the element type, as storing and reloading would. */
    static double round(boolean f64, double v) {
        return f64 ? v : (float) v;
    }

    static void fill(Object y, long yo, boolean f64, long n, double v) {
        for (long j = 0; j < n; j++) {
            set(y, f64, yo + j, v);
        }
    }

    // ---- views to (buffer, index of element (0, 0)) ---------------------------------------------------------
    //
    // The floating-point buffers of one call are either all arrays (each indexed directly from its view's
    // offset) or all segments (each from its view's segment(), which starts at element (0, 0)): a row kernel
    // then finds its buffers all of one kind, so the Vector API kernels need one array loop and one segment
    // loop, not one per combination. An array view in a call that also has a segment view goes through the
    // heap segment its view built once: nothing is allocated per call either way.

    /** The buffer of a view: its array when {@code arrays}, else its segment. */
    static Object buf(Matrix m, boolean arrays) {
        return arrays ? m.array() : m.segment();
    }

    /** Element index of (0, 0) in {@link #buf}. */
    static long base(Matrix m, boolean arrays) {
        return arrays ? m.offset() : 0;
    }

    /** The buffer of a mask or label view, which no row kernel reads: its array if it has one. */
    static Object ownBuf(Matrix m) {
        return m.array() != null ? m.array() : m.segment();
    }

    /** Element index of (0, 0) in {@link #ownBuf}. */
    static long ownBase(Matrix m) {
        return m.array() != null ? m.offset() : 0;
    }

    /** True when every present view is an array view. */
    static boolean arrays(Matrix a, Matrix b) {
        return a.array() != null && b.array() != null;
    }

    /** True when every present (non-null) view is an array view. */
    static boolean arrays(Matrix a, Matrix b, Matrix c, Matrix d) {
        return a.array() != null && (b == null || b.array() != null) && (c == null || c.array() != null)
                && (d == null || d.array() != null);
    }
}
