package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The deterministic primitives of sampling: known answers, error bounds, the quantiser's range. */
class SamplingRuleTest {

    @Test
    void philoxMatchesRandom123KnownAnswers() {
        int[][] kat = {
            {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
            {-1, -1, -1, -1, -1, -1, 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
            {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09, 0x94fdcceb,
             0x5001e420, 0x24126ea1},
        };
        for (int[] v : kat) {
            int[] c = {v[0], v[1], v[2], v[3]};
            SamplingRule.philox(c, v[4], v[5]);
            assertArrayEquals(new int[] {v[6], v[7], v[8], v[9]}, c);
        }
        // draw(seed, step) is the same generator at counter (step, 0), key seed
        SplittableRandom rnd = new SplittableRandom(7);
        for (int i = 0; i < 1000; i++) {
            long seed = rnd.nextLong(), step = rnd.nextLong();
            int[] c = {(int) step, (int) (step >>> 32), 0, 0};
            SamplingRule.philox(c, (int) seed, (int) (seed >>> 32));
            assertEquals((c[0] & 0xffffffffL) | ((long) c[1] << 32), SamplingRule.draw(seed, step));
        }
    }

    @Test
    void dexpIsCloseToExpAndExactAtTheEnds() {
        assertEquals(1.0f, SamplingRule.dexp(0.0f));
        assertEquals(1.0, SamplingRule.dexp(0.0));
        // below the clamp: the clamp's value, tiny enough to quantise to 0 at any row length
        assertEquals(SamplingRule.dexp(-87f), SamplingRule.dexp(Float.NEGATIVE_INFINITY));
        assertEquals(SamplingRule.dexp(-708.0), SamplingRule.dexp(Double.NEGATIVE_INFINITY));
        assertEquals(0, SamplingRule.quant(SamplingRule.dexp(Float.NEGATIVE_INFINITY), 0x1p52));
        assertEquals(0, SamplingRule.quant(SamplingRule.dexp(Double.NEGATIVE_INFINITY), 0x1p52));
        SplittableRandom rnd = new SplittableRandom(11);
        double e32 = 0, e64 = 0;
        for (int i = 0; i < 1_000_000; i++) {
            float t = (float) (-87 * rnd.nextDouble());
            e32 = Math.max(e32, Math.abs(SamplingRule.dexp(t) - Math.exp(t)) / Math.exp(t));
            double u = -708 * rnd.nextDouble();
            // StrictMath.exp is within 1 ulp: the bound below allows for it
            e64 = Math.max(e64, Math.abs(SamplingRule.dexp(u) - StrictMath.exp(u)) / StrictMath.exp(u));
        }
        assertTrue(e32 <= 4e-7, "float dexp relative error " + e32);
        assertTrue(e64 <= 1.2e-15, "double dexp relative error " + e64);
    }

    @Test
    void quantisedMassesCannotOverflow() {
        for (long n = 1; n > 0 && n < (1L << 40); n = n * 3 + 1) {
            int s = SamplingRule.quantShift(n);
            double scale = Math.scalb(1.0, s);
            assertEquals(1L << s, SamplingRule.quant(1.0, scale));
            assertEquals(0, SamplingRule.quant(0.0, scale));
            assertTrue(Math.multiplyHigh(n, 1L << s) == 0 && n * (1L << s) > 0, "n 2^S overflows at n " + n);
        }
        assertEquals(0, SamplingRule.drawFromUniform(0));
        assertEquals(Long.MIN_VALUE, SamplingRule.drawFromUniform(0.5));
        assertEquals(3, SamplingRule.scaleDraw(-1L, 4)); // (2^64 - 1) * 4 / 2^64
        assertEquals(7, SamplingRule.topPNeed(0.7, 10));
        assertEquals(10, SamplingRule.topPNeed(0.9999999999999999, 10));
    }
}
