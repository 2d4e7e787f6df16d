package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** The one-row shortcuts' segment cache: the right segment for every array, on every thread, and no leak. */
class ArrayWrapsTest {
    private static void assertWraps(MemorySegment s, Object a, long bytes) {
        assertSame(a, s.heapBase().orElseThrow(), "a segment of another array");
        assertEquals(bytes, s.byteSize());
        assertEquals(0, s.address());
    }

    @Test
    void theSameArrayGetsItsCachedSegmentAndAnotherArrayItsOwn() {
        float[] a = new float[5];
        float[] b = new float[9];
        double[] d = new double[5];
        MemorySegment sa = ArrayWraps.of(0, a);
        assertSame(sa, ArrayWraps.of(0, a), "a repeated call must reuse the segment");
        assertWraps(sa, a, 20);
        assertWraps(ArrayWraps.of(0, b), b, 36);
        assertWraps(ArrayWraps.of(0, a), a, 20);
        assertWraps(ArrayWraps.of(0, d), d, 40);
        // the positions are independent: x and y cached side by side, also when they are the same array
        MemorySegment x = ArrayWraps.of(0, a);
        MemorySegment y = ArrayWraps.of(1, b);
        assertSame(x, ArrayWraps.of(0, a));
        assertSame(y, ArrayWraps.of(1, b));
        assertWraps(ArrayWraps.of(2, a), a, 20);
        assertWraps(ArrayWraps.of(1, a), a, 20);
    }

    @Test
    void threadsSharingStripesNeverGetAnotherArraysSegment() throws Exception {
        int threads = 4 * Runtime.getRuntime().availableProcessors() + 3;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                done.add(pool.submit(() -> {
                    float[][] fs = {new float[1 + seed], new float[40 + seed]};
                    double[][] ds = {new double[2 + seed], new double[7 + seed]};
                    for (int i = 0; i < 50_000; i++) {
                        float[] f = fs[i & 1];
                        double[] d = ds[(i >> 1) & 1];
                        assertWraps(ArrayWraps.of(i % 3, f), f, 4L * f.length);
                        assertWraps(ArrayWraps.of((i + 1) % 3, d), d, 8L * d.length);
                    }
                    return seed;
                }));
            }
            for (Future<Integer> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void theCacheDoesNotKeepAnArrayAlive() throws Exception {
        float[] big = new float[1 << 20];
        ArrayWraps.of(0, big);
        ArrayWraps.of(1, big);
        WeakReference<float[]> ref = new WeakReference<>(big);
        big = null;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (ref.get() != null && System.nanoTime() < deadline) {
            System.gc();
            byte[][] pressure = new byte[64][];
            for (int i = 0; i < pressure.length; i++) {
                pressure[i] = new byte[1 << 16];
            }
            Thread.sleep(10);
        }
        assertTrue(ref.get() == null, "the 4 MiB array is still reachable after 20 s of collections: the cache holds it");
    }
}
