package org.panmax.internal;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The pure-Java Vector API backend. It overrides the hot row kernels of {@link JavaScalarKernels} (max,
 * exp-and-sum, scale, shift, dot, the VJP) with {@code jdk.incubator.vector} code over the preferred
 * species (8 floats on AVX2, 16 on AVX-512), two accumulators to hide latency, scalar tails; the row
 * logic and special values stay the scalar ones, so both Java backends follow the same rules.
 *
 * <p>exp for float comes in two variants: {@link Exp#LIBRARY} ({@code VectorOperators.EXP}, the JDK's
 * intrinsic) and {@link Exp#POLYNOMIAL} (range reduction exp(t) = 2^k e^r, |r| <= ln2/2, with the Cephes
 * {@code expf} minimax polynomial; 2^k built by adding k to the exponent bits; t < -87.33 gives 0, NaN stays
 * NaN). Double rows use {@code VectorOperators.EXP} in both. Sums of floats are accumulated per vector in
 * float and flushed to double every 2 vectors, which keeps a row's sum within ~1 ulp.
 */
public final class JavaVectorKernels extends JavaScalarKernels {

    /** How float exp is computed. */
    public enum Exp { POLYNOMIAL, LIBRARY }

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    static final int FL = FS.length();
    static final int DL = DS.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final boolean poly;
    private final String name;

    public JavaVectorKernels(Exp exp) {
        this.poly = exp == Exp.POLYNOMIAL;
        this.name = poly ? "java-vector" : "java-vector-libexp";
    }

    @Override
    public String name() {
        return name;
    }

    /** EXACT rows go to the scalar code, which computes t = x - max and exp in double (one rounding). */
    private static final JavaScalarKernels EXACT_ROWS = new JavaScalarKernels();

    @Override
    public void softmaxEx(boolean f64, Object x, long xOff, long xStride, Object y, long yOff, long yStride,
                          long rows, long cols, double temperature, Object mask, long maskOff, long maskStride,
                          Object bias, long biasOff, long biasStride, int flags) {
        JavaScalarKernels impl = (flags & FLAG_EXACT) != 0 ? EXACT_ROWS : this;
        impl.softmaxExRows(f64, x, xOff, xStride, y, yOff, yStride, rows, cols, temperature, mask, maskOff, maskStride,
                bias, biasOff, biasStride, flags);
    }

    // exp(r) ~ 1 + r + r^2 P(r) on [-ln2/2, ln2/2]; coefficients of Cephes expf.c (S. Moshier), < 1 ulp.
    private static final float P0 = 1.9875691500E-4f;
    private static final float P1 = 1.3981999507E-3f;
    private static final float P2 = 8.3334519073E-3f;
    private static final float P3 = 4.1665795894E-2f;
    private static final float P4 = 1.6666665459E-1f;
    private static final float P5 = 5.0000001201E-1f;
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;      // exact in few bits: k * LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float MIN_T = -87.33654f;
    private static final float ROUND_MAGIC = 12582912f;     // 1.5 * 2^23          // exp(MIN_T) ~ FLT_MIN; below it the result is 0

    /** exp(t) for t <= 0 or NaN. */
    private FloatVector exp(FloatVector t) {
        if (!poly) {
            return t.lanewise(VectorOperators.EXP);
        }
        VectorMask<Float> under = t.compare(VectorOperators.LT, MIN_T);
        FloatVector tc = t.max(MIN_T); // Java max keeps NaN
        // k = round(t log2e) by the 1.5 * 2^23 trick (|t log2e| < 2^22), exact in float
        FloatVector k = tc.mul(LOG2E).add(ROUND_MAGIC).sub(ROUND_MAGIC);
        FloatVector r = tc.sub(k.mul(LN2_HI)).sub(k.mul(LN2_LO)); // k * LN2_HI is exact
        FloatVector p = r.fma(P0, P1);
        p = p.fma(r, FloatVector.broadcast(FS, P2));
        p = p.fma(r, FloatVector.broadcast(FS, P3));
        p = p.fma(r, FloatVector.broadcast(FS, P4));
        p = p.fma(r, FloatVector.broadcast(FS, P5));
        FloatVector r2 = r.mul(r);
        FloatVector e = p.fma(r2, r).add(1f);
        IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        FloatVector scale = bits.reinterpretAsFloats();
        return e.mul(scale).blend(0f, under);
    }

    /** A float buffer as a segment: a float[] is wrapped here, in the kernel that loops over it, so the wrapper
     *  never escapes once C2 compiles the kernel (see JavaScalarKernels' element access). */
    static MemorySegment floats(Object b) {
        return b instanceof float[] a ? MemorySegment.ofArray(a) : (MemorySegment) b;
    }

    /** A double buffer as a segment. */
    static MemorySegment doubles(Object b) {
        return b instanceof double[] a ? MemorySegment.ofArray(a) : (MemorySegment) b;
    }

    @Override
    protected double rmax(Object x, boolean f64, long o, long n) {
        if (f64) {
            return super.rmax(x, f64, o, n);
        }
        MemorySegment xs = floats(x);
        FloatVector m0 = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        long j = 0;
        long b = o * 4;
        for (; j + 2L * FL <= n; j += 2L * FL) {
            // max ignoring NaN: compare-and-blend (a NaN lane never wins the comparison)
            FloatVector a = FloatVector.fromMemorySegment(FS, xs, b + j * 4, LE);
            FloatVector c = FloatVector.fromMemorySegment(FS, xs, b + (j + FL) * 4, LE);
            m0 = m0.blend(a, a.compare(VectorOperators.GT, m0));
            m1 = m1.blend(c, c.compare(VectorOperators.GT, m1));
        }
        double m = m0.blend(m1, m1.compare(VectorOperators.GT, m0)).reduceLanes(VectorOperators.MAX);
        return Math.max(m, super.rmax(x, f64, o + j, n - j));
    }

    @Override
    protected double expSumStore(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s) {
        if (f64) {
            return expSumStoreD(x, xo, y, yo, n, m, s);
        }
        MemorySegment xs = floats(x);
        MemorySegment ys = floats(y);
        float mf = (float) m;
        float sf = (float) s;
        double acc = 0;
        long j = 0;
        long xb = xo * 4;
        long yb = yo * 4;
        FloatVector partial = FloatVector.zero(FS);
        for (; j + 2L * FL <= n; j += 2L * FL) {
            FloatVector e0 = exp(FloatVector.fromMemorySegment(FS, xs, xb + j * 4, LE).sub(mf).mul(sf));
            FloatVector e1 = exp(FloatVector.fromMemorySegment(FS, xs, xb + (j + FL) * 4, LE).sub(mf).mul(sf));
            e0.intoMemorySegment(ys, yb + j * 4, LE);
            e1.intoMemorySegment(ys, yb + (j + FL) * 4, LE);
            partial = partial.add(e0.add(e1));
            if ((j & (16L * FL - 1)) == 14L * FL) { // flush every 8 iterations to double
                acc += partial.reduceLanes(VectorOperators.ADD);
                partial = FloatVector.zero(FS);
            }
        }
        acc += partial.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            float e = (float) Math.exp((xs.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, xo + j) - mf) * sf);
            ys.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, yo + j, e);
            acc += e;
        }
        return acc;
    }

    private double expSumStoreD(Object x, long xo, Object y, long yo, long n, double m, double s) {
        MemorySegment xs = doubles(x);
        MemorySegment ys = doubles(y);
        DoubleVector a0 = DoubleVector.zero(DS);
        DoubleVector a1 = a0;
        long j = 0;
        long xb = xo * 8;
        long yb = yo * 8;
        for (; j + 2L * DL <= n; j += 2L * DL) {
            DoubleVector e0 = DoubleVector.fromMemorySegment(DS, xs, xb + j * 8, LE).sub(m).mul(s).lanewise(VectorOperators.EXP);
            DoubleVector e1 = DoubleVector.fromMemorySegment(DS, xs, xb + (j + DL) * 8, LE).sub(m).mul(s)
                    .lanewise(VectorOperators.EXP);
            e0.intoMemorySegment(ys, yb + j * 8, LE);
            e1.intoMemorySegment(ys, yb + (j + DL) * 8, LE);
            a0 = a0.add(e0);
            a1 = a1.add(e1);
        }
        double acc = a0.add(a1).reduceLanes(VectorOperators.ADD);
        return acc + super.expSumStore(x, xo + j, y, yo + j, true, n - j, m, s);
    }

    @Override
    protected double expSum(Object x, long xo, boolean f64, long n, double m, double s) {
        if (f64) {
            MemorySegment xs = doubles(x);
            DoubleVector a0 = DoubleVector.zero(DS);
            long j = 0;
            for (; j + DL <= n; j += DL) {
                a0 = a0.add(DoubleVector.fromMemorySegment(DS, xs, (xo + j) * 8, LE).sub(m).mul(s).lanewise(VectorOperators.EXP));
            }
            return a0.reduceLanes(VectorOperators.ADD) + super.expSum(x, xo + j, true, n - j, m, s);
        }
        MemorySegment xs = floats(x);
        float mf = (float) m;
        float sf = (float) s;
        double acc = 0;
        long j = 0;
        FloatVector partial = FloatVector.zero(FS);
        for (; j + 2L * FL <= n; j += 2L * FL) {
            FloatVector e0 = exp(FloatVector.fromMemorySegment(FS, xs, (xo + j) * 4, LE).sub(mf).mul(sf));
            FloatVector e1 = exp(FloatVector.fromMemorySegment(FS, xs, (xo + j + FL) * 4, LE).sub(mf).mul(sf));
            partial = partial.add(e0.add(e1));
            if ((j & (16L * FL - 1)) == 14L * FL) {
                acc += partial.reduceLanes(VectorOperators.ADD);
                partial = FloatVector.zero(FS);
            }
        }
        acc += partial.reduceLanes(VectorOperators.ADD);
        return acc + super.expSum(x, xo + j, false, n - j, mf, sf);
    }

    @Override
    protected void scale(Object x, long xo, Object y, long yo, boolean f64, long n, double c) {
        long j = 0;
        if (f64) {
            MemorySegment xs = doubles(x);
            MemorySegment ys = doubles(y);
            for (; j + DL <= n; j += DL) {
                DoubleVector.fromMemorySegment(DS, xs, (xo + j) * 8, LE).mul(c).intoMemorySegment(ys, (yo + j) * 8, LE);
            }
        } else {
            MemorySegment xs = floats(x);
            MemorySegment ys = floats(y);
            float cf = (float) c;
            for (; j + FL <= n; j += FL) {
                FloatVector.fromMemorySegment(FS, xs, (xo + j) * 4, LE).mul(cf).intoMemorySegment(ys, (yo + j) * 4, LE);
            }
        }
        super.scale(x, xo + j, y, yo + j, f64, n - j, f64 ? c : (float) c);
    }

    @Override
    protected void shiftScale(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s,
                              double c) {
        long j = 0;
        if (f64) {
            MemorySegment xs = doubles(x);
            MemorySegment ys = doubles(y);
            for (; j + DL <= n; j += DL) {
                DoubleVector.fromMemorySegment(DS, xs, (xo + j) * 8, LE).sub(m).mul(s).sub(c)
                        .intoMemorySegment(ys, (yo + j) * 8, LE);
            }
        } else {
            MemorySegment xs = floats(x);
            MemorySegment ys = floats(y);
            float mf = (float) m;
            float sf = (float) s;
            float cf = (float) c;
            for (; j + FL <= n; j += FL) {
                FloatVector.fromMemorySegment(FS, xs, (xo + j) * 4, LE).sub(mf).mul(sf).sub(cf)
                        .intoMemorySegment(ys, (yo + j) * 4, LE);
            }
            m = mf;
            s = sf;
            c = cf;
        }
        super.shiftScale(x, xo + j, y, yo + j, f64, n - j, m, s, c);
    }

    @Override
    protected double dot(Object a, long ao, Object b, long bo, boolean f64, long n) {
        long j = 0;
        double acc;
        if (f64) {
            MemorySegment as = doubles(a);
            MemorySegment bs = doubles(b);
            DoubleVector s0 = DoubleVector.zero(DS);
            for (; j + DL <= n; j += DL) {
                s0 = DoubleVector.fromMemorySegment(DS, as, (ao + j) * 8, LE)
                        .fma(DoubleVector.fromMemorySegment(DS, bs, (bo + j) * 8, LE), s0);
            }
            acc = s0.reduceLanes(VectorOperators.ADD);
        } else {
            MemorySegment as = floats(a);
            MemorySegment bs = floats(b);
            // float products are exact in double: widen, then accumulate in double
            DoubleVector s0 = DoubleVector.zero(DoubleVector.SPECIES_256);
            DoubleVector s1 = s0;
            VectorSpecies<Float> f128 = FloatVector.SPECIES_128;
            for (; j + 8 <= n; j += 8) {
                FloatVector a0 = FloatVector.fromMemorySegment(f128, as, (ao + j) * 4, LE);
                FloatVector b0 = FloatVector.fromMemorySegment(f128, bs, (bo + j) * 4, LE);
                FloatVector a1 = FloatVector.fromMemorySegment(f128, as, (ao + j + 4) * 4, LE);
                FloatVector b1 = FloatVector.fromMemorySegment(f128, bs, (bo + j + 4) * 4, LE);
                s0 = ((DoubleVector) a0.convertShape(VectorOperators.F2D, DoubleVector.SPECIES_256, 0))
                        .fma((DoubleVector) b0.convertShape(VectorOperators.F2D, DoubleVector.SPECIES_256, 0), s0);
                s1 = ((DoubleVector) a1.convertShape(VectorOperators.F2D, DoubleVector.SPECIES_256, 0))
                        .fma((DoubleVector) b1.convertShape(VectorOperators.F2D, DoubleVector.SPECIES_256, 0), s1);
            }
            acc = s0.add(s1).reduceLanes(VectorOperators.ADD);
        }
        return acc + super.dot(a, ao + j, b, bo + j, f64, n - j);
    }

    @Override
    protected void subMul(Object p, long po, Object dy, long dyo, Object dx, long dxo, boolean f64,
                          long n, double c) {
        long j = 0;
        if (f64) {
            MemorySegment ps = doubles(p);
            MemorySegment dys = doubles(dy);
            MemorySegment dxs = doubles(dx);
            for (; j + DL <= n; j += DL) {
                DoubleVector pv = DoubleVector.fromMemorySegment(DS, ps, (po + j) * 8, LE);
                pv.mul(DoubleVector.fromMemorySegment(DS, dys, (dyo + j) * 8, LE).sub(c))
                        .intoMemorySegment(dxs, (dxo + j) * 8, LE);
            }
        } else {
            MemorySegment ps = floats(p);
            MemorySegment dys = floats(dy);
            MemorySegment dxs = floats(dx);
            float cf = (float) c;
            for (; j + FL <= n; j += FL) {
                FloatVector pv = FloatVector.fromMemorySegment(FS, ps, (po + j) * 4, LE);
                pv.mul(FloatVector.fromMemorySegment(FS, dys, (dyo + j) * 4, LE).sub(cf))
                        .intoMemorySegment(dxs, (dxo + j) * 4, LE);
            }
            c = cf;
        }
        super.subMul(p, po + j, dy, dyo + j, dx, dxo + j, f64, n - j, c);
    }
}
