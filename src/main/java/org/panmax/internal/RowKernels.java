package org.panmax.internal;

/**
 * The row kernels the pure-Java driver ({@link JavaKernels}) is built on: the Java twin of the C table
 * {@code native/src/kernels.h}. Two sets implement it, {@link ScalarRowKernels} (plain loops, sums in double)
 * and {@code VectorRowKernels} (the Vector API); the driver owns everything above a row (classification,
 * special rows, the overflow-safe path, Jacobians, cross-entropy), so both backends follow the same rules.
 *
 * <p>Each kernel works on one contiguous run of {@code n >= 1} elements of one element type ({@code f64}:
 * double, else float) and trusts its caller. A buffer is a {@code float[]}/{@code double[]} or a
 * {@code MemorySegment}, and an offset counts elements from its start (see {@link Elements}); all the
 * floating-point buffers of one call are of one kind (all arrays or all segments), so a kernel may test one of
 * them and cast the others. An output may be the same buffer and offset as an input (elementwise in place),
 * never partially overlapping.
 *
 * <p>exp(t) is only evaluated for t = (x − m) * s with m the row max (t <= 0, −inf or NaN): NaN for NaN, +0 for
 * −inf, results below the normal range returned as IEEE arithmetic gives them (gradual underflow, never
 * flushed to 0), within ~1 ulp elsewhere. Float sums are kept within ~1 ulp of the row's (double or flushed
 * float) sum. Scalars ({@code m}, {@code s}, {@code c}) come as doubles holding values of the element type.
 */
interface RowKernels {

    /** Max of the row; NaN entries are skipped (the driver classifies the row). */
    double rmax(Object x, boolean f64, long o, long n);

    /** y = exp((x − m) * s); returns the sum of the stored values. y may be x. */
    double expSumStore(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s);

    /** Sum of exp((x − m) * s), nothing stored. */
    double expSum(Object x, long xo, boolean f64, long n, double m, double s);

    /** y = x * c. */
    void scale(Object x, long xo, Object y, long yo, boolean f64, long n, double c);

    /** y = (x − m) * s − c (the log-softmax output; with m = 0 and s = 1, a shift). */
    void shiftScale(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s, double c);

    /** Sum of x. */
    double sum(Object x, long xo, boolean f64, long n);

    /** Sum of a * b. */
    double dot(Object a, long ao, Object b, long bo, boolean f64, long n);

    /** Sum of exp(a) * b (the log-softmax JVP's ⟨p, v⟩ from log-probabilities). */
    double dotExp(Object a, long ao, Object b, long bo, boolean f64, long n);

    /** dx = p * (dy − c) (the softmax VJP). dx may be p or dy. */
    void subMul(Object p, long po, Object dy, long dyo, Object dx, long dxo, boolean f64, long n, double c);

    /** dx = dy − exp(a) * c (the log-softmax VJP). dx may be a or dy. */
    void subExp(Object a, long ao, Object dy, long dyo, Object dx, long dxo, boolean f64, long n, double c);

    /** out = e * a − t * b − c (cross-entropy gradients from e = exp values). out may be e. */
    void axpbyc(Object e, long eo, Object t, long to, Object out, long oo, boolean f64, long n, double a, double b,
                double c);

    /**
     * The smallest row max from which {@code x − m} can overflow to −inf (x finite) in the arithmetic these
     * kernels use for this element type, or +inf if it never does. It is the half ulp of the largest finite value
     * ({@code 2^103} for float, {@code 2^970} for double): from x >= −MAX, |x − m| > MAX needs m above it.
     */
    double overflowFrom(boolean f64);
}
