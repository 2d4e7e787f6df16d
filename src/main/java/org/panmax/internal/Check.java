package org.panmax.internal;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Argument checks shared by every facade entry point, in a fixed order: null, segment usable from
 * this thread, shape arithmetic, bounds, alignment, read-only output, overlap. Each failure names
 * the argument, the rule and the values. Nothing here allocates on the success path.
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

    /** The segment can be used by this thread now. */
    public static void usable(String name, MemorySegment s) {
        Objects.requireNonNull(s, name);
        if (!s.scope().isAlive() || !s.isAccessibleBy(Thread.currentThread())) {
            throw unusable(name, s);
        }
    }

    // The failure paths build their messages in separate methods so that the checks themselves stay
    // small enough for C2 to inline into every facade method: only then can escape analysis remove the
    // MemorySegment wrappers of heap arrays (the facade's zero-allocation promise).

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
    public static long matrix(String name, MemorySegment s, long off, long stride, long rows, long cols, int elem,
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
        if (end > s.byteSize()) {
            throw outOfBounds(name, s, off, stride, rows, cols, end);
        }
        if (((s.address() + off * elem) & (elem - 1)) != 0) {
            throw misaligned(name, s, off, elem);
        }
        if (output && s.isReadOnly()) {
            throw new IllegalArgumentException(name + ": the output segment is read-only");
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

    private static IndexOutOfBoundsException outOfBounds(String name, MemorySegment s, long off, long stride, long rows,
                                                         long cols, long end) {
        return new IndexOutOfBoundsException(name + ": " + rows + " rows x " + cols + " cols with stride " + stride
                + " from element offset " + off + " need " + end + " bytes, but the segment has " + s.byteSize());
    }

    private static IllegalArgumentException misaligned(String name, MemorySegment s, long off, int elem) {
        return new IllegalArgumentException(name + ": element offset " + off + " at address 0x"
                + Long.toHexString(s.address() + off * elem) + " is not aligned to " + elem + " bytes");
    }

    /** A vector of n elements at element offset off. */
    public static void vector(String name, MemorySegment s, long off, long n, int elem, boolean output) {
        matrix(name, s, off, n, 1, n, elem, output, false);
    }

    /**
     * The output region must not overlap the input region, except exact in-place use (same memory,
     * same start, same stride) when {@code inPlaceAllowed}.
     */
    public static void noOverlap(String outName, MemorySegment out, long outOff, long outStride, long outSpan,
                                 String inName, MemorySegment in, long inOff, long inStride, long inSpan,
                                 int elem, int inElem, boolean inPlaceAllowed) {
        if (in == null || outSpan == 0 || inSpan == 0 || out.isNative() != in.isNative()) {
            return;
        }
        if (!out.isNative() && !sameArray(out, in)) {
            return; // different heap arrays
        }
        long outStart = out.address() + outOff * elem;
        long inStart = in.address() + inOff * inElem;
        if (outStart < inStart + inSpan * inElem && inStart < outStart + outSpan * elem
                && !(inPlaceAllowed && outStart == inStart && outStride == inStride && elem == inElem)) {
            throw overlap(outName, inName, inPlaceAllowed);
        }
    }

    private static boolean sameArray(MemorySegment a, MemorySegment b) {
        return a.heapBase().orElse(null) == b.heapBase().orElse(null);
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
