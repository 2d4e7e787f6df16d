package org.panmax;

import java.util.Objects;

/**
 * The facade's per-call checks on views, in a fixed order: null, usable segment, element type, shape, writable
 * output, overlap. What cannot change after a view is made (bounds, alignment) was checked by {@link Matrix}.
 * Each failure names the argument, the rule and the values; nothing here allocates on the success path (the
 * messages are built in separate methods, so the checks stay small enough to inline).
 */
final class Args {
    private Args() {}

    /** Not null, and its segment usable by this thread now. */
    static Matrix usable(String name, Matrix m) {
        Objects.requireNonNull(m, name);
        if (m.array() == null) {
            var scope = m.segment().scope();
            if (!scope.isAlive() || !m.segment().isAccessibleBy(Thread.currentThread())) {
                throw unusable(name, scope.isAlive());
            }
        }
        return m;
    }

    private static IllegalStateException unusable(String name, boolean alive) {
        return new IllegalStateException(alive
                ? name + ": the segment is confined to another thread than " + Thread.currentThread().getName()
                : name + ": the segment's arena is already closed");
    }

    /** F32 or F64. */
    static void floating(String name, Matrix m) {
        if (!m.dtype().isFloating()) {
            throw new IllegalArgumentException(name + ": must be F32 or F64, was " + m.dtype());
        }
    }

    /** Of element type t (the first argument's). */
    static void type(String name, Matrix m, DType t, String of) {
        if (m.dtype() != t) {
            throw new IllegalArgumentException(name + ": must have the element type of " + of + " (" + t + "), was "
                    + m.dtype());
        }
    }

    /** rows x cols, and no broadcast row unless allowed. */
    static void shape(String name, Matrix m, long rows, long cols, boolean broadcastAllowed, String of) {
        if (m.rows() != rows || m.cols() != cols) {
            throw badShape(name, m, rows + " x " + cols, of);
        }
        if (m.stride() == 0 && rows > 1 && !broadcastAllowed) {
            throw new IllegalArgumentException(name + ": a broadcast row (stride 0) is not allowed here");
        }
    }

    /** rows x cols like the argument {@code ofName}, no broadcast row (the message is built only on failure). */
    static void sameShape(String name, Matrix m, long rows, long cols, String ofName) {
        if (m.rows() != rows || m.cols() != cols) {
            throw badShape(name, m, rows + " x " + cols, ofName + "'s shape");
        }
        if (m.stride() == 0 && rows > 1) {
            throw new IllegalArgumentException(name + ": a broadcast row (stride 0) is not allowed here");
        }
    }

    /** A contiguous vector of n elements (one row, or one column of stride 1). */
    static void vector(String name, Matrix m, long n, String why) {
        if (!m.isVector(n)) {
            throw badShape(name, m, "a vector of " + n + " elements (1 x " + n + ", or " + n + " x 1 with stride 1)", why);
        }
    }

    private static IllegalArgumentException badShape(String name, Matrix m, String wanted, String of) {
        return new IllegalArgumentException(name + ": must be " + wanted + " (" + of + "), was " + m.rows() + " x "
                + m.cols() + " with stride " + m.stride());
    }

    /** An output: not a read-only segment. */
    static void writable(String name, Matrix m) {
        if (m.isReadOnly()) {
            throw new IllegalArgumentException(name + ": is an output, but its segment is read-only");
        }
    }

    /**
     * The memory spanned by the output {@code out} must not meet that of the input {@code in} (null: absent),
     * except exact in-place use (same start, stride and type) when {@code inPlace}. A read-only heap segment hides
     * its array from the JDK's API; its range is then compared with every heap output's as if it were the same
     * array, and a meeting range is rejected, since panmax cannot tell.
     */
    static void noOverlap(String outName, Matrix out, String inName, Matrix in, boolean inPlace) {
        if (in == null || out == null || out.isNative() != in.isNative()) {
            return;
        }
        long outSpan = out.span();
        long inSpan = in.span();
        if (outSpan == 0 || inSpan == 0) {
            return;
        }
        Object ok = out.heapKey();
        Object ik = in.heapKey();
        if (!out.isNative() && ok != null && ik != null && ok != ik) {
            return; // different arrays
        }
        long o0 = out.start();
        long i0 = in.start();
        if (o0 < i0 + inSpan * in.dtype().bytes() && i0 < o0 + outSpan * out.dtype().bytes()) {
            if (inPlace && o0 == i0 && out.stride() == in.stride() && out.dtype() == in.dtype()
                    && out.rows() == in.rows()) {
                return; // exactly in place (or, for an unidentified array, exactly elsewhere)
            }
            throw overlap(outName, inName, inPlace, !out.isNative() && (ok == null || ik == null));
        }
    }

    private static IllegalArgumentException overlap(String outName, String inName, boolean inPlace, boolean hidden) {
        if (hidden) {
            return new IllegalArgumentException(outName + " may overlap " + inName + ": a read-only heap segment does "
                    + "not reveal its array, and its element range meets the other's; pass the array itself "
                    + "(Matrix.of(array)) or a native segment");
        }
        return new IllegalArgumentException(outName + " overlaps " + inName + (inPlace
                ? ": only exact in-place use (same start, same stride) is allowed"
                : ": this operation cannot work in place"));
    }

    /** temperature is a normal number of the element type (the record checked finite and > 0). */
    static void temperature(double t, DType d) {
        boolean f64 = d == DType.F64;
        double minNormal = f64 ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        double max = f64 ? Double.MAX_VALUE : Float.MAX_VALUE;
        if (!(t >= minNormal && t <= max)) {
            throw new IllegalArgumentException("temperature must be a normal " + (f64 ? "double" : "float")
                    + " (between " + minNormal + " and " + max + "), was " + t);
        }
    }
}
