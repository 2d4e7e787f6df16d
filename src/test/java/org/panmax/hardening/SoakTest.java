package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.panmax.DType;
import org.panmax.Panmax;
import org.panmax.Reduction;

/**
 * A bounded soak (about 10 s): millions of small calls through every entry point of the default
 * backend, heap and native, with short-lived arenas; the process's resident memory must not grow
 * (measured from /proc/self/status after a warm-up round and at the end, GC'd both times).
 */
class SoakTest {
    static final long BUDGET_NANOS = Long.getLong("panmax.soak.seconds", 10) * 1_000_000_000L;

    static long rssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static long round(Panmax pm, float[] x, float[] y, float[] p, float[] dy, float[] jac, float[] v, float[] out) {
        int n = x.length;
        long calls = 0;
        pm.softmax(x, y);
        pm.logSoftmax(x, y);
        pm.softmaxEx(x, 0, n, y, 0, n, 1, n, 0.5f, null, 0, 0, null, 0, 0, Panmax.EXACT);
        pm.softmaxBackward(p, dy, y);
        pm.logSoftmaxBackward(y, dy, out);
        pm.logSoftmaxJvp(y, dy, out);
        pm.jacobian(p, jac, 0);
        pm.jacobianMatmul(p, v, 2, out, 0);
        float[] loss = {0};
        pm.crossEntropy(x, 1, n, new long[] {1}, y, loss, Reduction.SUM, -100, 0.1f);
        calls += 9;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment xs = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment ys = arena.allocate(ValueLayout.JAVA_FLOAT, n);
            pm.softmax(DType.F32, xs, ys, n);
            pm.logSumExp(DType.F32, xs, n, ys, 1, n);
            calls += 2;
        }
        return calls;
    }

    @Test
    void millionsOfCallsDoNotGrowNativeMemory() throws Exception {
        assumeLinux();
        Panmax pm = Panmax.get();
        int n = 16;
        float[] x = new float[n];
        float[] dy = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) Math.sin(i) * 3;
            dy[i] = (float) Math.cos(i);
        }
        float[] y = new float[n];
        float[] p = new float[n];
        pm.softmax(x, p);
        float[] jac = new float[n * n];
        float[] v = new float[n * 2];
        float[] out = new float[n * 2];
        long calls = 0;
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < BUDGET_NANOS / 5) {
            calls += round(pm, x, y, p, dy, jac, v, out);
        }
        System.gc();
        long before = rssKb();
        long t1 = System.nanoTime();
        while (System.nanoTime() - t1 < BUDGET_NANOS * 4 / 5) {
            calls += round(pm, x, y, p, dy, jac, v, out);
        }
        System.gc();
        long after = rssKb();
        System.out.printf("[panmax] soak on %s: %,d calls in %.1f s; RSS %,d kB -> %,d kB%n", pm.name(), calls,
                (System.nanoTime() - t0) / 1e9, before, after);
        assertTrue(calls > 1_000_000, "too few calls for a soak: " + calls);
        assertTrue(after - before < 32 * 1024, "resident memory grew by " + (after - before) + " kB over " + calls + " calls");
    }

    static void assumeLinux() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "needs /proc");
    }
}
