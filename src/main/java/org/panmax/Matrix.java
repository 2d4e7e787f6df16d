package org.panmax;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A strided matrix in a buffer: the one argument type of every {@link Panmax} operation.
 *
 * <p>The buffer is a heap array ({@code float[]}, {@code double[]}, {@code long[]}, {@code byte[]}) or a
 * {@link MemorySegment} (off-heap, mapped, or heap). The view adds an element type, an element offset, a shape
 * ({@code rows x cols}) and a row stride in elements: element (r, j) is element {@code offset + r * stride + j}
 * of the buffer. A stride of 0 repeats one row for every row (a broadcast, accepted where an operation says so:
 * masks and biases).
 *
 * <p>Make a view once per buffer and reuse it: everything that cannot change later (bounds, alignment, the
 * element type the buffer can hold) is checked here, once, and the segment handed to native code is built here,
 * so a call on views allocates nothing. Slicing ({@link #rows(long, long)}, {@link #row(long)},
 * {@link #broadcast(long)}) makes a new small view and checks nothing again.
 *
 * <p>A vector of n elements (logsumexp's output, labels, losses, class weights) is a view of one row
 * ({@code 1 x n}) or one contiguous column ({@code n x 1}, stride 1).
 *
 * <p>Construction rules (each failure names the argument, the rule and the values): {@code rows >= 0},
 * {@code cols >= 1}, {@code offset >= 0}, {@code stride >= cols} or {@code stride == 0}; the last element must lie
 * inside the buffer ({@link IndexOutOfBoundsException}); a native segment's first element must be aligned to the
 * element size; a heap segment must be over an array whose elements are at least as aligned as the element type
 * (so a {@code byte[]}- or {@code ByteBuffer}-backed heap segment cannot hold {@code F32}: the JDK would refuse the
 * unaligned access); all {@link IllegalArgumentException}.
 *
 * <p><b>Mapped files.</b> A view over a file mapping reads and writes the file's pages. If the file is truncated
 * while it is mapped, touching the lost pages raises SIGBUS, which no library can catch: the JVM dies inside
 * libpanmax (native backends) or throws {@link InternalError} (Java backends), as it does for the JDK's own mapped
 * buffers. Keep a mapped file's size fixed while views of it are in use, or copy it into memory first.
 *
 * <p>Views are immutable and thread-safe; the memory they describe is not synchronised by panmax.
 */
public final class Matrix {
    private final DType dtype;
    private final Object array;          // the heap array of an array view, else null
    private final MemorySegment segment; // the buffer from the first element on (arrays: their heap segment)
    private final long offset;
    private final long rows;
    private final long cols;
    private final long stride;
    private final boolean isNative;
    private final boolean readOnly;
    /* Overlap bookkeeping: the memory identity (the array; null for native memory and for a read-only heap
     * segment, whose array the JDK does not reveal), and the first element's address (native) or byte offset
     * within the array (heap). */
    private final Object heapKey;
    private final long start;

    private Matrix(DType dtype, Object array, MemorySegment segment, long offset, long rows, long cols,
                   long stride, boolean isNative, boolean readOnly, Object heapKey, long start) {
        this.dtype = dtype;
        this.array = array;
        this.segment = segment;
        this.offset = offset;
        this.rows = rows;
        this.cols = cols;
        this.stride = stride;
        this.isNative = isNative;
        this.readOnly = readOnly;
        this.heapKey = heapKey;
        this.start = start;
    }

    // ---- arrays ----------------------------------------------------------------------------------------

    /**
     * One row: all of {@code a}.
     *
     * @param a the backing array, not copied
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code a} is empty (a row needs at least one element)
     */
    public static Matrix of(float[] a) {
        return of(a, 0, 1, Objects.requireNonNull(a, "array").length, 0);
    }

    /**
     * {@code rows x cols}, contiguous, from element 0 of {@code a}.
     *
     * @param a the backing array, not copied
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, or {@code rows * cols} overflows a long
     * @throws IndexOutOfBoundsException if {@code rows * cols} exceeds {@code a.length}
     */
    public static Matrix of(float[] a, long rows, long cols) {
        return of(a, 0, rows, cols, cols);
    }

    /**
     * {@code rows x cols} with row stride {@code stride} from element {@code offset} of {@code a}.
     *
     * @param a the backing array, not copied
     * @param offset element index of element (0, 0), {@code >= 0}
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @param stride elements from one row to the next, {@code >= cols}, or 0 to repeat one row
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, the stride is neither 0 nor
     *         {@code >= cols}, or the span overflows a long
     * @throws IndexOutOfBoundsException if {@code offset < 0}, or the last element,
     *         {@code offset + (rows − 1) * stride + cols − 1}, lies beyond {@code a}
     */
    public static Matrix of(float[] a, long offset, long rows, long cols, long stride) {
        return ofArray(DType.F32, a, Objects.requireNonNull(a, "array").length, offset, rows, cols, stride);
    }

    /**
     * One row: all of {@code a}.
     *
     * @param a the backing array, not copied
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code a} is empty (a row needs at least one element)
     */
    public static Matrix of(double[] a) {
        return of(a, 0, 1, Objects.requireNonNull(a, "array").length, 0);
    }

    /**
     * {@code rows x cols}, contiguous, from element 0 of {@code a}.
     *
     * @param a the backing array, not copied
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, or {@code rows * cols} overflows a long
     * @throws IndexOutOfBoundsException if {@code rows * cols} exceeds {@code a.length}
     */
    public static Matrix of(double[] a, long rows, long cols) {
        return of(a, 0, rows, cols, cols);
    }

    /**
     * {@code rows x cols} with row stride {@code stride} from element {@code offset} of {@code a}.
     *
     * @param a the backing array, not copied
     * @param offset element index of element (0, 0), {@code >= 0}
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @param stride elements from one row to the next, {@code >= cols}, or 0 to repeat one row
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, the stride is neither 0 nor
     *         {@code >= cols}, or the span overflows a long
     * @throws IndexOutOfBoundsException if {@code offset < 0}, or the last element,
     *         {@code offset + (rows − 1) * stride + cols − 1}, lies beyond {@code a}
     */
    public static Matrix of(double[] a, long offset, long rows, long cols, long stride) {
        return ofArray(DType.F64, a, Objects.requireNonNull(a, "array").length, offset, rows, cols, stride);
    }

    /**
     * Labels: one row, all of {@code a} ({@link DType#I64}).
     *
     * @param a the backing array, not copied
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code a} is empty (a row needs at least one element)
     */
    public static Matrix of(long[] a) {
        return of(a, 0, 1, Objects.requireNonNull(a, "array").length, 0);
    }

    /**
     * {@code rows x cols} {@link DType#I64} from element 0, rows packed (stride {@code cols}): a batch of labels or
     * token ids as a column ({@code n x 1}), or an output of indices ({@code rows x k}).
     *
     * @param a the backing array, not copied
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @return a view over {@code a}; no copy
     * @throws IllegalArgumentException if {@code rows < 0} or {@code cols < 1}
     * @throws IndexOutOfBoundsException if the view does not fit in {@code a}
     */
    public static Matrix of(long[] a, long rows, long cols) {
        return of(a, 0, rows, cols, cols);
    }

    /**
     * {@code rows x cols} {@link DType#I64} with row stride {@code stride} from element {@code offset}.
     *
     * @param a the backing array, not copied
     * @param offset element index of element (0, 0), {@code >= 0}
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @param stride elements from one row to the next, {@code >= cols}, or 0 to repeat one row
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, the stride is neither 0 nor
     *         {@code >= cols}, or the span overflows a long
     * @throws IndexOutOfBoundsException if {@code offset < 0}, or the last element,
     *         {@code offset + (rows − 1) * stride + cols − 1}, lies beyond {@code a}
     */
    public static Matrix of(long[] a, long offset, long rows, long cols, long stride) {
        return ofArray(DType.I64, a, Objects.requireNonNull(a, "array").length, offset, rows, cols, stride);
    }

    /**
     * A keep-mask (nonzero = keep): one row, all of {@code a} ({@link DType#U8}).
     *
     * @param a the backing array, not copied
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code a} is empty (a row needs at least one element)
     */
    public static Matrix of(byte[] a) {
        return of(a, 0, 1, Objects.requireNonNull(a, "array").length, 0);
    }

    /**
     * {@code rows x cols}, contiguous, from element 0 of {@code a} ({@link DType#U8}).
     *
     * @param a the backing array, not copied
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, or {@code rows * cols} overflows a long
     * @throws IndexOutOfBoundsException if {@code rows * cols} exceeds {@code a.length}
     */
    public static Matrix of(byte[] a, long rows, long cols) {
        return of(a, 0, rows, cols, cols);
    }

    /**
     * {@code rows x cols} {@link DType#U8} with row stride {@code stride} from element {@code offset}.
     *
     * @param a the backing array, not copied
     * @param offset element index of element (0, 0), {@code >= 0}
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @param stride elements from one row to the next, {@code >= cols}, or 0 to repeat one row
     * @return a view over {@code a}; no copy
     * @throws NullPointerException if {@code a} is null
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, the stride is neither 0 nor
     *         {@code >= cols}, or the span overflows a long
     * @throws IndexOutOfBoundsException if {@code offset < 0}, or the last element,
     *         {@code offset + (rows − 1) * stride + cols − 1}, lies beyond {@code a}
     */
    public static Matrix of(byte[] a, long offset, long rows, long cols, long stride) {
        return ofArray(DType.U8, a, Objects.requireNonNull(a, "array").length, offset, rows, cols, stride);
    }

    private static Matrix ofArray(DType t, Object a, int length, long offset, long rows, long cols, long stride) {
        int e = t.bytes();
        if (rows == 1 && stride == 0) {
            stride = cols; // the one-row factories: a row has no stride of its own
        }
        long span = layout(t, length, offset, rows, cols, stride, "the array");
        MemorySegment seg = switch (t) {
            case F32 -> MemorySegment.ofArray((float[]) a);
            case F64 -> MemorySegment.ofArray((double[]) a);
            case I64 -> MemorySegment.ofArray((long[]) a);
            case U8 -> MemorySegment.ofArray((byte[]) a);
        };
        if (offset != 0 && span > 0) {
            seg = seg.asSlice(offset * e);
        }
        return new Matrix(t, a, seg, offset, rows, cols, stride, false, false, a, offset * e);
    }

    // ---- segments ----------------------------------------------------------------------------------------

    /**
     * One row: the whole segment, {@code byteSize / t.bytes()} elements.
     *
     * @param t the element type
     * @param s the memory, native or heap
     * @return a view over {@code s}; no copy
     * @throws NullPointerException if {@code t} or {@code s} is null
     * @throws IllegalStateException if the segment's arena is closed
     * @throws IllegalArgumentException if the segment holds no whole element of {@code t}, a native segment's
     *         element (0, 0) is not aligned to {@code t.bytes()}, or a heap segment's array has elements narrower
     *         than {@code t}'s (a {@code byte[]}-backed segment cannot hold F32)
     */
    public static Matrix of(DType t, MemorySegment s) {
        Objects.requireNonNull(t, "dtype");
        Objects.requireNonNull(s, "segment");
        return of(t, s, 0, 1, s.byteSize() / t.bytes(), 0);
    }

    /**
     * {@code rows x cols} of type {@code t}, contiguous, from the segment's first byte.
     *
     * @param t the element type
     * @param s the memory, native or heap
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @return a view over {@code s}; no copy
     * @throws NullPointerException if {@code t} or {@code s} is null
     * @throws IllegalStateException if the segment's arena is closed
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, {@code rows * cols} overflows a long,
     *         a native segment's element (0, 0) is not aligned to {@code t.bytes()}, or a heap segment's array
     *         has elements narrower than {@code t}'s (a {@code byte[]}-backed segment cannot hold F32)
     * @throws IndexOutOfBoundsException if {@code rows * cols} elements of {@code t} exceed the segment
     */
    public static Matrix of(DType t, MemorySegment s, long rows, long cols) {
        return of(t, s, 0, rows, cols, cols);
    }

    /**
     * {@code rows x cols} of type {@code t} with row stride {@code stride} (elements) from element {@code offset}
     * (elements, not bytes) of the segment.
     *
     * @param t the element type
     * @param s the memory, native or heap
     * @param offset element index of element (0, 0), {@code >= 0}
     * @param rows number of rows, {@code >= 0}
     * @param cols number of columns, {@code >= 1}
     * @param stride elements from one row to the next, {@code >= cols}, or 0 to repeat one row
     * @return a view over {@code s}; no copy
     * @throws NullPointerException if {@code t} or {@code s} is null
     * @throws IllegalStateException if the segment's arena is closed
     * @throws IllegalArgumentException if {@code rows < 0}, {@code cols < 1}, the stride is neither 0 nor
     *         {@code >= cols}, the span overflows a long, a native segment's element (0, 0) is not aligned to {@code t.bytes()}, or a heap segment's array
     *         has elements narrower than {@code t}'s (a {@code byte[]}-backed segment cannot hold F32)
     * @throws IndexOutOfBoundsException if {@code offset < 0}, or the last element,
     *         {@code offset + (rows − 1) * stride + cols − 1}, lies beyond the segment's whole elements
     */
    public static Matrix of(DType t, MemorySegment s, long offset, long rows, long cols, long stride) {
        Objects.requireNonNull(t, "dtype");
        Objects.requireNonNull(s, "segment");
        if (!s.scope().isAlive()) {
            throw new IllegalStateException("segment: its arena is already closed");
        }
        if (rows == 1 && stride == 0) {
            stride = cols;
        }
        int e = t.bytes();
        long span = layout(t, s.byteSize() / e, offset, rows, cols, stride, "the segment");
        if (s.isNative()) {
            if (((s.address() + offset * e) & (e - 1)) != 0) {
                throw new IllegalArgumentException("segment: element " + offset + " at address 0x"
                        + Long.toHexString(s.address() + offset * e) + " is not aligned to " + e + " bytes (" + t + ")");
            }
        } else if (s.maxByteAlignment() < e) {
            throw new IllegalArgumentException("segment: a heap segment over an array of " + s.maxByteAlignment()
                    + "-byte elements cannot hold " + t + " (" + e + "-byte) elements: use a "
                    + t.name().toLowerCase(java.util.Locale.ROOT) + " array or a native segment");
        }
        MemorySegment seg = offset != 0 && span > 0 ? s.asSlice(offset * e) : s;
        Object key = s.isNative() ? null : s.heapBase().orElse(null);
        long start = s.address() + offset * e;
        return new Matrix(t, null, seg, offset, rows, cols, stride, s.isNative(), s.isReadOnly(), key, start);
    }

    /** Checks the layout against a buffer of {@code length} elements; returns the elements spanned. */
    private static long layout(DType t, long length, long offset, long rows, long cols, long stride, String buffer) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, was " + rows);
        }
        if (cols < 1) {
            throw new IllegalArgumentException("cols must be >= 1, was " + cols);
        }
        if (offset < 0) {
            throw new IndexOutOfBoundsException("offset must be >= 0, was " + offset);
        }
        if (stride < cols && stride != 0) {
            throw new IllegalArgumentException("stride must be >= cols (or 0 to repeat one row), was stride "
                    + stride + " < cols " + cols);
        }
        long span;
        long end;
        try {
            span = rows == 0 ? 0 : Math.addExact(Math.multiplyExact(rows - 1, stride), cols);
            end = Math.addExact(offset, span);
            Math.multiplyExact(end, (long) t.bytes());
        } catch (ArithmeticException ex) {
            throw new IllegalArgumentException(rows + " rows x stride " + stride + " from offset " + offset
                    + " overflow a long", ex);
        }
        if (end > length) {
            throw new IndexOutOfBoundsException(rows + " rows x " + cols + " cols with stride " + stride
                    + " from element " + offset + " need " + end + " " + t + " elements, but " + buffer + " has "
                    + length);
        }
        return span;
    }

    // ---- slicing ---------------------------------------------------------------------------------------------

    /**
     * Rows {@code [from, to)} of this view.
     *
     * @param from first row, inclusive
     * @param to last row, exclusive
     * @return a view sharing this buffer
     * @throws IndexOutOfBoundsException unless {@code 0 <= from <= to <= rows()}
     */
    public Matrix rows(long from, long to) {
        if (from < 0 || to > rows || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of a view of " + rows + " rows");
        }
        long skip = from * stride;
        long e = dtype.bytes();
        MemorySegment seg = skip == 0 || to == from ? segment : segment.asSlice(skip * e);
        return new Matrix(dtype, array, seg, offset + skip, to - from, cols, stride, isNative, readOnly, heapKey,
                start + skip * e);
    }

    /**
     * Row {@code r} as a {@code 1 x cols} view.
     *
     * @param r the row, in {@code [0, rows())}
     * @return a {@code 1 x cols} view sharing this buffer
     * @throws IndexOutOfBoundsException if {@code r} is out of range
     */
    public Matrix row(long r) {
        return rows(r, r + 1);
    }

    /**
     * This one-row view repeated as {@code rows} rows (stride 0), for masks and biases shared by every row.
     *
     * @param rows number of rows, {@code >= 0}
     * @return a {@code rows x cols} view with stride 0
     * @throws IllegalArgumentException if this view does not have exactly one row, or {@code rows < 0}
     */
    public Matrix broadcast(long rows) {
        if (this.rows != 1) {
            throw new IllegalArgumentException("broadcast needs a view of one row, this one has " + this.rows);
        }
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, was " + rows);
        }
        return new Matrix(dtype, array, segment, offset, rows, cols, 0, isNative, readOnly, heapKey, start);
    }

    // ---- accessors -------------------------------------------------------------------------------------------

    /**
     * The element type.
     *
     * @return the type of every element
     */
    public DType dtype() {
        return dtype;
    }

    /**
     * Number of rows (may be 0).
     *
     * @return rows, {@code >= 0}
     */
    public long rows() {
        return rows;
    }

    /**
     * Number of columns (at least 1).
     *
     * @return columns, {@code >= 1}
     */
    public long cols() {
        return cols;
    }

    /**
     * Row stride in elements ({@code >= cols}, or 0 for a broadcast row).
     *
     * @return the row stride in elements
     */
    public long stride() {
        return stride;
    }

    /**
     * Element offset of element (0, 0) in the buffer.
     *
     * @return the element offset, {@code >= 0}
     */
    public long offset() {
        return offset;
    }

    /**
     * The buffer from element (0, 0) on, as a segment (a heap segment for an array view).
     *
     * @return a segment starting at element (0, 0)
     */
    public MemorySegment segment() {
        return segment;
    }

    /**
     * The array of an array view ({@code float[]}, {@code double[]}, {@code long[]} or {@code byte[]}), else null.
     *
     * @return the backing array, or {@code null} for a segment view
     */
    public Object array() {
        return array;
    }

    /**
     * True when the buffer is off-heap memory.
     *
     * @return whether the memory is native
     */
    public boolean isNative() {
        return isNative;
    }

    /**
     * True when the buffer is a read-only segment (such a view can only be an input).
     *
     * @return whether the segment is read-only
     */
    public boolean isReadOnly() {
        return readOnly;
    }

    /**
     * True for one contiguous row or column of {@code n} elements: the shape of a vector argument.
     *
     * @param n the required length
     * @return whether this is {@code 1 x n} or a contiguous {@code n x 1}
     */
    public boolean isVector(long n) {
        return (rows == 1 && cols == n) || (cols == 1 && rows == n && (stride == 1 || n <= 1));
    }

    /**
     * Elements spanned from element (0, 0) to the last element, inclusive; 0 for no rows.
     *
     * @return the number of elements from (0, 0) to the last, inclusive
     */
    public long span() {
        return rows == 0 ? 0 : (rows - 1) * stride + cols;
    }

    /** The memory identity used by overlap checks (see {@link #start()}); internal. */
    Object heapKey() {
        return heapKey;
    }

    /** Address of element (0, 0) (native), or its byte offset in the array (heap); internal. */
    long start() {
        return start;
    }

    @Override
    public String toString() {
        return "Matrix[" + dtype + " " + rows + "x" + cols + ", stride " + stride + ", offset " + offset + ", "
                + (array != null ? array.getClass().getSimpleName() : isNative ? "native segment" : "heap segment")
                + (readOnly ? ", read-only" : "") + "]";
    }
}
