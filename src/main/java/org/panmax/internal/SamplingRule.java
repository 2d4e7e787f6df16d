package org.panmax.internal;

/**
 * The arithmetic a sampled token depends on, operation for operation as in
 * {@code native/src/infer/infer_internal.h}, so that the pure-Java backend draws the same token as every native
 * ISA: a fixed-polynomial exp in the element type, the quantiser of weights to integers, Philox4x32-10 and the
 * scaling of a draw into a mass. Java's float and double arithmetic is IEEE (no extended precision, no fused
 * multiply-add unless asked for), and so is the C build (-ffp-contract=off), so the same expressions give the same
 * bits. Nothing here uses {@link Math#exp}: libm and the JDK differ in the last bit.
 */
public final class SamplingRule {
    private SamplingRule() {}

    static final float DEXPF_MIN = -87.0f;
    static final double DEXP_MIN = -708.0;

    /**
     * e^t for t <= 0 (float): Cody-Waite reduction by ln 2, degree-6 Taylor polynomial, 2^n in the exponent. t is
     * clamped below at -87 (-708 for double): lower t, -inf included, give the clamp's value, whose quantised weight
     * is 0.
     */
    public static float dexp(float t) {
        final float tc = t < DEXPF_MIN ? DEXPF_MIN : t;
        final float shifter = 0x1.8p23f;
        final float nf = tc * 0x1.715476p+0f + shifter;
        final float n = nf - shifter;
        float r = tc - n * 0x1.62e4p-1f;
        r = r - n * 0x1.7f7d1cp-20f;
        float p = 0x1.6c16c2p-10f;
        p = p * r + 0x1.111112p-7f;
        p = p * r + 0x1.555556p-5f;
        p = p * r + 0x1.555556p-3f;
        p = p * r + 0x1.0p-1f;
        p = p * r + 1.0f;
        p = p * r + 1.0f;
        final int bits = (Float.floatToRawIntBits(nf) << 23) + (127 << 23);
        return p * Float.intBitsToFloat(bits);
    }

    /** e^t for t <= 0 (double): as {@link #dexp(float)} with a degree-13 polynomial. */
    public static double dexp(double t) {
        final double tc = t < DEXP_MIN ? DEXP_MIN : t;
        final double shifter = 0x1.8p52;
        final double nf = tc * 0x1.71547652b82fep+0 + shifter;
        final double n = nf - shifter;
        double r = tc - n * 0x1.62e42feep-1;
        r = r - n * 0x1.a39ef35793c76p-33;
        double p = 0x1.6124613a86d09p-33;
        p = p * r + 0x1.1eed8eff8d898p-29;
        p = p * r + 0x1.ae64567f544e4p-26;
        p = p * r + 0x1.27e4fb7789f5cp-22;
        p = p * r + 0x1.71de3a556c734p-19;
        p = p * r + 0x1.a01a01a01a01ap-16;
        p = p * r + 0x1.a01a01a01a01ap-13;
        p = p * r + 0x1.6c16c16c16c17p-10;
        p = p * r + 0x1.1111111111111p-7;
        p = p * r + 0x1.5555555555555p-5;
        p = p * r + 0x1.5555555555555p-3;
        p = p * r + 0x1.0p-1;
        p = p * r + 1.0;
        p = p * r + 1.0;
        final long bits = (Double.doubleToRawLongBits(nf) << 52) + (1023L << 52);
        return p * Double.longBitsToDouble(bits);
    }

    /** S = min(52, 62 - floor(log2 n)): n weights of at most 2^S sum below 2^63. */
    public static int quantShift(long n) {
        int s = 62 - (63 - Long.numberOfLeadingZeros(n));
        return Math.min(s, 52);
    }

    /** round-to-nearest-even(w * 2^S) for w in [0, 1], through the 2^52 shifter. */
    public static long quant(double w, double scale) {
        return Double.doubleToRawLongBits(w * scale + 0x1p52) - 0x4330000000000000L;
    }

    /** Philox4x32-10 (Salmon et al., SC'11) of the counter words in place, key (k0, k1). */
    static void philox(int[] c, int k0, int k1) {
        for (int round = 0; round < 10; round++) {
            long p0 = 0xD2511F53L * (c[0] & 0xffffffffL);
            long p1 = 0xCD9E8D57L * (c[2] & 0xffffffffL);
            int c0 = (int) (p1 >>> 32) ^ c[1] ^ k0;
            int c2 = (int) (p0 >>> 32) ^ c[3] ^ k1;
            c[0] = c0;
            c[1] = (int) p1;
            c[2] = c2;
            c[3] = (int) p0;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
    }

    /** The 64 random bits of (seed, step): key = seed, counter = (step, 0), result x0 | x1 << 32. */
    public static long draw(long seed, long step) {
        int c0 = (int) step, c1 = (int) (step >>> 32), c2 = 0, c3 = 0;
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        for (int round = 0; round < 10; round++) {
            long p0 = 0xD2511F53L * (c0 & 0xffffffffL);
            long p1 = 0xCD9E8D57L * (c2 & 0xffffffffL);
            int n0 = (int) (p1 >>> 32) ^ c1 ^ k0;
            int n2 = (int) (p0 >>> 32) ^ c3 ^ k1;
            c1 = (int) p1;
            c3 = (int) p0;
            c0 = n0;
            c2 = n2;
            k0 += 0x9E3779B9;
            k1 += 0xBB67AE85;
        }
        return (c0 & 0xffffffffL) | ((long) c1 << 32);
    }

    /** A caller's uniform u in [0, 1) as 64 random bits: 2 floor(u 2^63). */
    public static long drawFromUniform(double u) {
        return ((long) (u * 0x1p63)) << 1;
    }

    /** floor(r * mass / 2^64) for unsigned r and 0 < mass < 2^63: the draw's position in the mass. */
    public static long scaleDraw(long r, long mass) {
        return Math.unsignedMultiplyHigh(r, mass);
    }

    /** ceil(p * mass), at most mass, at least 1: the mass a top-p prefix must reach. */
    static long topPNeed(double p, long mass) {
        double want = Math.ceil(p * (double) mass);
        if (!(want < (double) mass)) {
            return mass;
        }
        long need = (long) want;
        return need < 1 ? 1 : need;
    }
}
