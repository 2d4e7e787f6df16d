package org.panmax.internal;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Argument checks shared by every facade entry point, in a fixed order: null, segment usable from
 * this thread, shape arithmetic, bounds, alignment, read-only output, overlap. Each failure names
 * the argument, the rule and the values. Nothing here allocates on the success path.
 *
 * <p>A buffer argument is a {@link MemorySegment} or a heap array ({@code float[]}, {@code double[]},
 * {@code long[]}, {@code byte[]}) that is not wrapped: an array is checked exactly as
 * {@code MemorySegment.ofArray} of it would be (always usable, address 0, writable), without making
 * the wrapper (see {@link Kernels}).
 */
public final class Check {
    private Check() {}

    /** rows >= 0 and cols >= 1. */
    public static void shape(long rows, long cols) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, was " + rows);
        }
        if (cols < 1) {
            throw new IllegalArgumentException("cols must be >= 1, was " + cols);
        }
    }

    /** The buffer is not null and, if a segment, can be used by this thread now (an array always can). */
    public static void usable(String name, Object s) {
        Objects.requireNonNull(s, name);
        if (s instanceof MemorySegment m && (!m.scope().isAlive() || !m.isAccessibleBy(Thread.currentThread()))) {
            throw unusable(name, m);
        }
    }

    /** The size in bytes of a buffer: the segment's, or the array's length times its element size. */
    static long byteSize(Object s) {
        if (s instanceof float[] a) {
            return a.length * 4L;
        }
        if (s instanceof double[] a) {
            return a.length * 8L;
        }
        if (s instanceof long[] a) {
            return a.length * 8L;
        }
        if (s instanceof byte[] a) {
            return a.length;
        }
        return ((MemorySegment) s).byteSize();
    }

    // The failure paths build their messages in separate methods so that the checks themselves stay
    // small and cheap to inline. (The facade's zero-allocation promise does not depend on it: arrays
    // come here unwrapped, so nothing allocated escapes into a check that is not inlined.)

    private static IllegalStateException unusable(String name, MemorySegment s) {
        if (!s.scope().isAlive()) {
            return new IllegalStateException(name + ": the segment's arena is already closed");
        }
        return new IllegalStateException(name + ": the segment is confined to another thread than "
                + Thread.currentThread().getName());
    }

    /**
     * A (rows x cols) matrix with element offset {@code off} and row stride {@code stride} (>= cols, or 0
     * when {@code broadcast} allows one row for all) lies inside {@code s}, aligned to {@code elem} bytes.
     * Call {@link #shape} first. Returns the number of elements spanned.
     */
    public static long matrix(String name, Object s, long off, long stride, long rows, long cols, int elem,
                              boolean output, boolean broadcast) {
        usable(name, s);
        if (off < 0 || (stride < cols && !(broadcast && stride == 0))) {
            throw badLayout(name, off, stride, cols, broadcast);
        }
        long span;
        long end;
        try {
            span = rows == 0 ? 0 : Math.addExact(Math.multiplyExact(rows - 1, stride), cols);
            end = Math.multiplyExact(Math.addExact(off, span), (long) elem);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(name + ": the size of " + rows + " rows x stride " + stride
                    + " overflows a long", e);
        }
        long size = byteSize(s);
        if (end > size) {
            throw outOfBounds(name, size, off, stride, rows, cols, end);
        }
        // An array is at address 0 (so element offsets are aligned) and writable, as its ofArray segment.
        if (s instanceof MemorySegment m) {
            if (((m.address() + off * elem) & (elem - 1)) != 0) {
                throw misaligned(name, m, off, elem);
            }
            if (output && m.isReadOnly()) {
                throw new IllegalArgumentException(name + ": the output segment is read-only");
            }
        }
        return span;
    }

    private static RuntimeException badLayout(String name, long off, long stride, long cols, boolean broadcast) {
        if (off < 0) {
            return new IndexOutOfBoundsException(name + ": offset must be >= 0, was " + off);
        }
        return new IllegalArgumentException(name + ": row stride must be >= cols" + (broadcast ? " (or 0 to broadcast one row)" : "")
                + ", was stride " + stride + " < cols " + cols);
    }

    private static IndexOutOfBoundsException outOfBounds(String name, long size, long off, long stride, long rows,
                                                         long cols, long end) {
        return new IndexOutOfBoundsException(name + ": " + rows + " rows x " + cols + " cols with stride " + stride
                + " from element offset " + off + " need " + end + " bytes, but the segment has " + size);
    }

    private static IllegalArgumentException misaligned(String name, MemorySegment s, long off, int elem) {
        return new IllegalArgumentException(name + ": element offset " + off + " at address 0x"
                + Long.toHexString(s.address() + off * elem) + " is not aligned to " + elem + " bytes");
    }

    /** A vector of n elements at element offset off. */
    public static void vector(String name, Object s, long off, long n, int elem, boolean output) {
        matrix(name, s, off, n, 1, n, elem, output, false);
    }

    /**
     * The output region must not overlap the input region, except exact in-place use (same memory,
     * same start, same stride) when {@code inPlaceAllowed}.
     */
    public static void noOverlap(String outName, Object out, long outOff, long outStride, long outSpan,
                                 String inName, Object in, long inOff, long inStride, long inSpan,
                                 int elem, int inElem, boolean inPlaceAllowed) {
        if (in == null || outSpan == 0 || inSpan == 0 || isNative(out) != isNative(in)) {
            return;
        }
        if (!isNative(out) && heapBase(out) != heapBase(in)) {
            return; // different heap arrays
        }
        long outStart = address(out) + outOff * elem;
        long inStart = address(in) + inOff * inElem;
        if (outStart < inStart + inSpan * inElem && inStart < outStart + outSpan * elem
                && !(inPlaceAllowed && outStart == inStart && outStride == inStride && elem == inElem)) {
            throw overlap(outName, inName, inPlaceAllowed);
        }
    }

    private static boolean isNative(Object s) {
        return s instanceof MemorySegment m && m.isNative();
    }

    /** The array behind a heap buffer (null for a read-only heap segment, whose base is not exposed). */
    private static Object heapBase(Object s) {
        return s instanceof MemorySegment m ? m.heapBase().orElse(null) : s;
    }

    private static long address(Object s) {
        return s instanceof MemorySegment m ? m.address() : 0;
    }

    private static IllegalArgumentException overlap(String outName, String inName, boolean inPlaceAllowed) {
        return new IllegalArgumentException(outName + " overlaps " + inName
                + (inPlaceAllowed ? ": only exact in-place use (same start, same stride) is allowed"
                                  : ": this operation cannot work in place"));
    }

    /** temperature must be finite, positive and normal for the element type. */
    public static void temperature(double t, boolean f64) {
        double minNormal = f64 ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        double max = f64 ? Double.MAX_VALUE : Float.MAX_VALUE;
        if (!(t >= minNormal && t <= max)) {
            throw new IllegalArgumentException("temperature must be finite and >= " + minNormal + " (" + (f64 ? "double" : "float")
                    + " normal), was " + t);
        }
    }
}
