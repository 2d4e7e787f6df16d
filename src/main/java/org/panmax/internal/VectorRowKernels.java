package org.panmax.internal;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API row kernels: max, exp-and-sum, scale, shift, dot and the softmax VJP over the preferred species
 * (8 floats on AVX2, 16 on AVX-512), two accumulators to hide latency, scalar tails ({@link ScalarRowKernels}).
 * The kernels whose result would change with the summation order (sum, dotExp, subExp, axpbyc) are the scalar
 * ones, so that both Java backends give the same bits there.
 *
 * <p>Every vector kernel has two loops: one over arrays ({@code fromArray}/{@code intoArray}) and one over
 * segments ({@code fromMemorySegment}/{@code intoMemorySegment}); the driver hands a call's buffers all of one
 * kind, so one {@code instanceof} picks the loop and nothing is wrapped or allocated once C2 has compiled it.
 * The loops that call exp are methods of their own: C2 must inline both exp calls of a loop (a vector passed
 * to a call that is not inlined is boxed, an allocation per vector), and one method holding four ran past its
 * node budget (NodeCountInliningCutoff).
 *
 * <p>exp for float comes in two variants: {@link Exp#LIBRARY} ({@code VectorOperators.EXP}, the JDK's
 * intrinsic) and {@link Exp#POLYNOMIAL} (range reduction exp(t) = 2^k e^r, |r| <= ln2/2, with the Cephes
 * {@code expf} minimax polynomial; 2^k built from exponent bits and applied in two steps, so that subnormal
 * results round once and are not flushed; t < −104 gives 0, NaN stays NaN). Double
 * rows use {@code VectorOperators.EXP} in both. Sums of floats are accumulated per vector in float and flushed
 * to double every 16 vectors, which keeps a row's sum within ~1 ulp.
 */
final class VectorRowKernels implements RowKernels {

    /** How float exp is computed. */
    enum Exp { POLYNOMIAL, LIBRARY }

    static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    static final VectorSpecies<Double> D256 = DoubleVector.SPECIES_256;
    static final int FL = FS.length();
    static final int DL = DS.length();
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ScalarRowKernels TAIL = ScalarRowKernels.INSTANCE;

    private final boolean poly;

    VectorRowKernels(Exp exp) {
        this.poly = exp == Exp.POLYNOMIAL;
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
    private static final float ROUND_MAGIC = 12582912f;     // 1.5 * 2^23
    /** exp(t) < 2^-150 for t < -104 (ln 2^-150 = -103.97): it rounds to 0, so t is clamped there. */
    private static final float MIN_T = -104f;
    /** 2^k is applied as 2^(k + 64) * 2^-64: both factors are normal floats for every k >= -150. */
    private static final int SCALE_SHIFT = 64;
    private static final float TWO_M64 = 0x1p-64f;

    /**
     * exp(t) for t <= 0, −inf or NaN. 2^k multiplies e = e^r in two steps, e * 2^(k + 64) (exact: a normal
     * result) and then * 2^-64, which rounds once: the same bits as e * 2^k for results in the normal range, and
     * the correctly rounded subnormal below it (gradual underflow: 2^k itself is not a float for k < -126).
     */
    private FloatVector exp(FloatVector t) {
        if (!poly) {
            return t.lanewise(VectorOperators.EXP);
        }
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
        IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127 + SCALE_SHIFT)
                .lanewise(VectorOperators.LSHL, 23);
        return e.mul(bits.reinterpretAsFloats()).mul(TWO_M64);
    }

    @Override
    public double rmax(Object x, boolean f64, long o, long n) {
        if (f64) {
            return TAIL.rmax(x, true, o, n);
        }
        FloatVector m0 = FloatVector.broadcast(FS, Float.NEGATIVE_INFINITY);
        FloatVector m1 = m0;
        long j = 0;
        // max ignoring NaN: compare-and-blend (a NaN lane never wins the comparison)
        if (x instanceof float[] xa) {
            int b = (int) o;
            for (; j + 2L * FL <= n; j += 2L * FL) {
                FloatVector a = FloatVector.fromArray(FS, xa, b + (int) j);
                FloatVector c = FloatVector.fromArray(FS, xa, b + (int) j + FL);
                m0 = m0.blend(a, a.compare(VectorOperators.GT, m0));
                m1 = m1.blend(c, c.compare(VectorOperators.GT, m1));
            }
        } else {
            MemorySegment xs = (MemorySegment) x;
            long b = o * 4;
            for (; j + 2L * FL <= n; j += 2L * FL) {
                FloatVector a = FloatVector.fromMemorySegment(FS, xs, b + j * 4, LE);
                FloatVector c = FloatVector.fromMemorySegment(FS, xs, b + (j + FL) * 4, LE);
                m0 = m0.blend(a, a.compare(VectorOperators.GT, m0));
                m1 = m1.blend(c, c.compare(VectorOperators.GT, m1));
            }
        }
        double m = m0.blend(m1, m1.compare(VectorOperators.GT, m0)).reduceLanes(VectorOperators.MAX);
        return Math.max(m, TAIL.rmax(x, false, o + j, n - j));
    }

    @Override
    public double expSumStore(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s) {
        if (f64) {
            return expSumStoreD(x, xo, y, yo, n, m, s);
        }
        return x instanceof float[] xa ? expSumStore(xa, (int) xo, (float[]) y, (int) yo, (int) n, (float) m, (float) s)
                : expSumStore((MemorySegment) x, xo, (MemorySegment) y, yo, n, (float) m, (float) s);
    }

    private double expSumStore(float[] xa, int xb, float[] ya, int yb, int n, float mf, float sf) {
        double acc = 0;
        int j = 0;
        FloatVector partial = FloatVector.zero(FS);
        for (; j + 2 * FL <= n; j += 2 * FL) {
            FloatVector e0 = exp(FloatVector.fromArray(FS, xa, xb + j).sub(mf).mul(sf));
            FloatVector e1 = exp(FloatVector.fromArray(FS, xa, xb + j + FL).sub(mf).mul(sf));
            e0.intoArray(ya, yb + j);
            e1.intoArray(ya, yb + j + FL);
            partial = partial.add(e0.add(e1));
            if ((j & (16 * FL - 1)) == 14 * FL) { // flush every 8 iterations to double
                acc += partial.reduceLanes(VectorOperators.ADD);
                partial = FloatVector.zero(FS);
            }
        }
        acc += partial.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            float e = (float) Math.exp((xa[xb + j] - mf) * sf);
            ya[yb + j] = e;
            acc += e;
        }
        return acc;
    }

    private double expSumStore(MemorySegment xs, long xo, MemorySegment ys, long yo, long n, float mf, float sf) {
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
            if ((j & (16L * FL - 1)) == 14L * FL) {
                acc += partial.reduceLanes(VectorOperators.ADD);
                partial = FloatVector.zero(FS);
            }
        }
        acc += partial.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) {
            float e = (float) Math.exp((xs.getAtIndex(JAVA_FLOAT, xo + j) - mf) * sf);
            ys.setAtIndex(JAVA_FLOAT, yo + j, e);
            acc += e;
        }
        return acc;
    }

    private static double expSumStoreD(Object x, long xo, Object y, long yo, long n, double m, double s) {
        DoubleVector a0 = DoubleVector.zero(DS);
        DoubleVector a1 = a0;
        long j = 0;
        if (x instanceof double[] xa) {
            double[] ya = (double[]) y;
            int xb = (int) xo;
            int yb = (int) yo;
            for (; j + 2L * DL <= n; j += 2L * DL) {
                int i = (int) j;
                DoubleVector e0 = DoubleVector.fromArray(DS, xa, xb + i).sub(m).mul(s).lanewise(VectorOperators.EXP);
                DoubleVector e1 = DoubleVector.fromArray(DS, xa, xb + i + DL).sub(m).mul(s)
                        .lanewise(VectorOperators.EXP);
                e0.intoArray(ya, yb + i);
                e1.intoArray(ya, yb + i + DL);
                a0 = a0.add(e0);
                a1 = a1.add(e1);
            }
        } else {
            MemorySegment xs = (MemorySegment) x;
            MemorySegment ys = (MemorySegment) y;
            long xb = xo * 8;
            long yb = yo * 8;
            for (; j + 2L * DL <= n; j += 2L * DL) {
                DoubleVector e0 = DoubleVector.fromMemorySegment(DS, xs, xb + j * 8, LE).sub(m).mul(s)
                        .lanewise(VectorOperators.EXP);
                DoubleVector e1 = DoubleVector.fromMemorySegment(DS, xs, xb + (j + DL) * 8, LE).sub(m).mul(s)
                        .lanewise(VectorOperators.EXP);
                e0.intoMemorySegment(ys, yb + j * 8, LE);
                e1.intoMemorySegment(ys, yb + (j + DL) * 8, LE);
                a0 = a0.add(e0);
                a1 = a1.add(e1);
            }
        }
        double acc = a0.add(a1).reduceLanes(VectorOperators.ADD);
        return acc + TAIL.expSumStore(x, xo + j, y, yo + j, true, n - j, m, s);
    }

    @Override
    public double expSum(Object x, long xo, boolean f64, long n, double m, double s) {
        long j = 0;
        if (f64) {
            DoubleVector a0 = DoubleVector.zero(DS);
            if (x instanceof double[] xa) {
                int xb = (int) xo;
                for (; j + DL <= n; j += DL) {
                    a0 = a0.add(DoubleVector.fromArray(DS, xa, xb + (int) j).sub(m).mul(s).lanewise(VectorOperators.EXP));
                }
            } else {
                MemorySegment xs = (MemorySegment) x;
                for (; j + DL <= n; j += DL) {
                    a0 = a0.add(DoubleVector.fromMemorySegment(DS, xs, (xo + j) * 8, LE).sub(m).mul(s)
                            .lanewise(VectorOperators.EXP));
                }
            }
            return a0.reduceLanes(VectorOperators.ADD) + TAIL.expSum(x, xo + j, true, n - j, m, s);
        }
        double acc = x instanceof float[] xa ? expSum(xa, (int) xo, (int) n, (float) m, (float) s)
                : expSum((MemorySegment) x, xo, n, (float) m, (float) s);
        long done = n - n % (2L * FL);
        return acc + TAIL.expSum(x, xo + done, false, n - done, (float) m, (float) s);
    }

    /** The vector part of a float expSum (whole pairs of vectors); the caller adds the scalar tail. */
    private double expSum(float[] xa, int xb, int n, float mf, float sf) {
        double acc = 0;
        FloatVector partial = FloatVector.zero(FS);
        for (int j = 0; j + 2 * FL <= n; j += 2 * FL) {
            FloatVector e0 = exp(FloatVector.fromArray(FS, xa, xb + j).sub(mf).mul(sf));
            FloatVector e1 = exp(FloatVector.fromArray(FS, xa, xb + j + FL).sub(mf).mul(sf));
            partial = partial.add(e0.add(e1));
            if ((j & (16 * FL - 1)) == 14 * FL) {
                acc += partial.reduceLanes(VectorOperators.ADD);
                partial = FloatVector.zero(FS);
            }
        }
        return acc + partial.reduceLanes(VectorOperators.ADD);
    }

    private double expSum(MemorySegment xs, long xo, long n, float mf, float sf) {
        double acc = 0;
        FloatVector partial = FloatVector.zero(FS);
        for (long j = 0; j + 2L * FL <= n; j += 2L * FL) {
            FloatVector e0 = exp(FloatVector.fromMemorySegment(FS, xs, (xo + j) * 4, LE).sub(mf).mul(sf));
            FloatVector e1 = exp(FloatVector.fromMemorySegment(FS, xs, (xo + j + FL) * 4, LE).sub(mf).mul(sf));
            partial = partial.add(e0.add(e1));
            if ((j & (16L * FL - 1)) == 14L * FL) {
                acc += partial.reduceLanes(VectorOperators.ADD);
                partial = FloatVector.zero(FS);
            }
        }
        return acc + partial.reduceLanes(VectorOperators.ADD);
    }

    @Override
    public void scale(Object x, long xo, Object y, long yo, boolean f64, long n, double c) {
        long j = 0;
        if (f64) {
            if (x instanceof double[] xa) {
                double[] ya = (double[]) y;
                for (; j + DL <= n; j += DL) {
                    DoubleVector.fromArray(DS, xa, (int) (xo + j)).mul(c).intoArray(ya, (int) (yo + j));
                }
            } else {
                MemorySegment xs = (MemorySegment) x;
                MemorySegment ys = (MemorySegment) y;
                for (; j + DL <= n; j += DL) {
                    DoubleVector.fromMemorySegment(DS, xs, (xo + j) * 8, LE).mul(c).intoMemorySegment(ys, (yo + j) * 8, LE);
                }
            }
        } else {
            float cf = (float) c;
            if (x instanceof float[] xa) {
                float[] ya = (float[]) y;
                for (; j + FL <= n; j += FL) {
                    FloatVector.fromArray(FS, xa, (int) (xo + j)).mul(cf).intoArray(ya, (int) (yo + j));
                }
            } else {
                MemorySegment xs = (MemorySegment) x;
                MemorySegment ys = (MemorySegment) y;
                for (; j + FL <= n; j += FL) {
                    FloatVector.fromMemorySegment(FS, xs, (xo + j) * 4, LE).mul(cf).intoMemorySegment(ys, (yo + j) * 4, LE);
                }
            }
            c = cf;
        }
        TAIL.scale(x, xo + j, y, yo + j, f64, n - j, c);
    }

    @Override
    public void shiftScale(Object x, long xo, Object y, long yo, boolean f64, long n, double m, double s, double c) {
        long j = 0;
        if (f64) {
            if (x instanceof double[] xa) {
                double[] ya = (double[]) y;
                for (; j + DL <= n; j += DL) {
                    DoubleVector.fromArray(DS, xa, (int) (xo + j)).sub(m).mul(s).sub(c).intoArray(ya, (int) (yo + j));
                }
            } else {
                MemorySegment xs = (MemorySegment) x;
                MemorySegment ys = (MemorySegment) y;
                for (; j + DL <= n; j += DL) {
                    DoubleVector.fromMemorySegment(DS, xs, (xo + j) * 8, LE).sub(m).mul(s).sub(c)
                            .intoMemorySegment(ys, (yo + j) * 8, LE);
                }
            }
        } else {
            float mf = (float) m;
            float sf = (float) s;
            float cf = (float) c;
            if (x instanceof float[] xa) {
                float[] ya = (float[]) y;
                for (; j + FL <= n; j += FL) {
                    FloatVector.fromArray(FS, xa, (int) (xo + j)).sub(mf).mul(sf).sub(cf).intoArray(ya, (int) (yo + j));
                }
            } else {
                MemorySegment xs = (MemorySegment) x;
                MemorySegment ys = (MemorySegment) y;
                for (; j + FL <= n; j += FL) {
                    FloatVector.fromMemorySegment(FS, xs, (xo + j) * 4, LE).sub(mf).mul(sf).sub(cf)
                            .intoMemorySegment(ys, (yo + j) * 4, LE);
                }
            }
            m = mf;
            s = sf;
            c = cf;
        }
        TAIL.shiftScale(x, xo + j, y, yo + j, f64, n - j, m, s, c);
    }

    @Override
    public double sum(Object x, long xo, boolean f64, long n) {
        return TAIL.sum(x, xo, f64, n);
    }

    @Override
    public double dot(Object a, long ao, Object b, long bo, boolean f64, long n) {
        long j = 0;
        double acc;
        if (f64) {
            DoubleVector s0 = DoubleVector.zero(DS);
            if (a instanceof double[] aa) {
                double[] ba = (double[]) b;
                for (; j + DL <= n; j += DL) {
                    s0 = DoubleVector.fromArray(DS, aa, (int) (ao + j)).fma(DoubleVector.fromArray(DS, ba, (int) (bo + j)), s0);
                }
            } else {
                MemorySegment as = (MemorySegment) a;
                MemorySegment bs = (MemorySegment) b;
                for (; j + DL <= n; j += DL) {
                    s0 = DoubleVector.fromMemorySegment(DS, as, (ao + j) * 8, LE)
                            .fma(DoubleVector.fromMemorySegment(DS, bs, (bo + j) * 8, LE), s0);
                }
            }
            acc = s0.reduceLanes(VectorOperators.ADD);
        } else {
            // float products are exact in double: widen, then accumulate in double
            DoubleVector s0 = DoubleVector.zero(D256);
            DoubleVector s1 = s0;
            if (a instanceof float[] aa) {
                float[] ba = (float[]) b;
                for (; j + 8 <= n; j += 8) {
                    int ia = (int) (ao + j);
                    int ib = (int) (bo + j);
                    s0 = widen(FloatVector.fromArray(F128, aa, ia)).fma(widen(FloatVector.fromArray(F128, ba, ib)), s0);
                    s1 = widen(FloatVector.fromArray(F128, aa, ia + 4))
                            .fma(widen(FloatVector.fromArray(F128, ba, ib + 4)), s1);
                }
            } else {
                MemorySegment as = (MemorySegment) a;
                MemorySegment bs = (MemorySegment) b;
                for (; j + 8 <= n; j += 8) {
                    s0 = widen(FloatVector.fromMemorySegment(F128, as, (ao + j) * 4, LE))
                            .fma(widen(FloatVector.fromMemorySegment(F128, bs, (bo + j) * 4, LE)), s0);
                    s1 = widen(FloatVector.fromMemorySegment(F128, as, (ao + j + 4) * 4, LE))
                            .fma(widen(FloatVector.fromMemorySegment(F128, bs, (bo + j + 4) * 4, LE)), s1);
                }
            }
            acc = s0.add(s1).reduceLanes(VectorOperators.ADD);
        }
        return acc + TAIL.dot(a, ao + j, b, bo + j, f64, n - j);
    }

    /** 4 floats to 4 doubles (exact). */
    private static DoubleVector widen(FloatVector v) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D256, 0);
    }

    @Override
    public double dotExp(Object a, long ao, Object b, long bo, boolean f64, long n) {
        return TAIL.dotExp(a, ao, b, bo, f64, n);
    }

    @Override
    public void subMul(Object p, long po, Object dy, long dyo, Object dx, long dxo, boolean f64, long n, double c) {
        long j = 0;
        if (f64) {
            if (p instanceof double[] pa) {
                double[] dya = (double[]) dy;
                double[] dxa = (double[]) dx;
                for (; j + DL <= n; j += DL) {
                    DoubleVector pv = DoubleVector.fromArray(DS, pa, (int) (po + j));
                    pv.mul(DoubleVector.fromArray(DS, dya, (int) (dyo + j)).sub(c)).intoArray(dxa, (int) (dxo + j));
                }
            } else {
                MemorySegment ps = (MemorySegment) p;
                MemorySegment dys = (MemorySegment) dy;
                MemorySegment dxs = (MemorySegment) dx;
                for (; j + DL <= n; j += DL) {
                    DoubleVector pv = DoubleVector.fromMemorySegment(DS, ps, (po + j) * 8, LE);
                    pv.mul(DoubleVector.fromMemorySegment(DS, dys, (dyo + j) * 8, LE).sub(c))
                            .intoMemorySegment(dxs, (dxo + j) * 8, LE);
                }
            }
        } else {
            float cf = (float) c;
            if (p instanceof float[] pa) {
                float[] dya = (float[]) dy;
                float[] dxa = (float[]) dx;
                for (; j + FL <= n; j += FL) {
                    FloatVector pv = FloatVector.fromArray(FS, pa, (int) (po + j));
                    pv.mul(FloatVector.fromArray(FS, dya, (int) (dyo + j)).sub(cf)).intoArray(dxa, (int) (dxo + j));
                }
            } else {
                MemorySegment ps = (MemorySegment) p;
                MemorySegment dys = (MemorySegment) dy;
                MemorySegment dxs = (MemorySegment) dx;
                for (; j + FL <= n; j += FL) {
                    FloatVector pv = FloatVector.fromMemorySegment(FS, ps, (po + j) * 4, LE);
                    pv.mul(FloatVector.fromMemorySegment(FS, dys, (dyo + j) * 4, LE).sub(cf))
                            .intoMemorySegment(dxs, (dxo + j) * 4, LE);
                }
            }
            c = cf;
        }
        TAIL.subMul(p, po + j, dy, dyo + j, dx, dxo + j, f64, n - j, c);
    }

    @Override
    public void subExp(Object a, long ao, Object dy, long dyo, Object dx, long dxo, boolean f64, long n, double c) {
        TAIL.subExp(a, ao, dy, dyo, dx, dxo, f64, n, c);
    }

    @Override
    public void axpbyc(Object e, long eo, Object t, long to, Object out, long oo, boolean f64, long n, double a,
                       double b, double c) {
        TAIL.axpbyc(e, eo, t, to, out, oo, f64, n, a, b, c);
    }

    @Override
    public double overflowFrom(boolean f64) {
        return f64 ? 0x1p970 : 0x1p103; // float rows are computed in float here
    }
}
