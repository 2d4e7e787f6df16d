package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.panmax.DType;
import org.panmax.Panmax;
import org.panmax.Reduction;

/**
 * A bounded soak (about 10 s): millions of small calls through every entry point of the default
 * backend, heap and native, with short-lived arenas. Three meters, read after a warm-up round and at
 * the end (GC'd both times), must not grow:
 * <ul>
 *   <li>NativeMemoryTracking (the surefire JVM runs with -XX:NativeMemoryTracking=summary): the committed
 *       total less the Java heap (whose size is the GC's choice), and the "Other" category, where Arena
 *       allocations (Unsafe.allocateMemory) are counted;</li>
 *   <li>the JDK's "direct" buffer pool (ByteBuffer.allocateDirect; printed, expected to stay at 0 here);</li>
 *   <li>the process's resident memory (/proc/self/status) less the committed Java heap, which also sees
 *       malloc inside libpanmax/OpenBLAS, invisible to NMT.</li>
 * </ul>
 * Slack: NMT total 8 MiB (JIT code cache and compiler arenas still move after warm-up), NMT Other and the
 * direct pool 1 MiB (a leak of one 64-byte arena per round would add ~40 MB here), RSS 32 MiB.
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

    // java.management is reached reflectively: the tests are compiled patched into module org.panmax,
    // which does not read it (they run on the class path, where everything is readable).

    /** committed KB of the NMT summary: total less the Java heap, and "Other" (DiagnosticCommand vmNativeMemory). */
    static long[] nmt() throws Exception {
        Class<?> mf = Class.forName("java.lang.management.ManagementFactory");
        Object server = mf.getMethod("getPlatformMBeanServer").invoke(null);
        Class<?> on = Class.forName("javax.management.ObjectName");
        Object name = on.getConstructor(String.class).newInstance("com.sun.management:type=DiagnosticCommand");
        Class<?> mbs = Class.forName("javax.management.MBeanServerConnection");
        String out = (String) mbs.getMethod("invoke", on, String.class, Object[].class, String[].class)
                .invoke(server, name, "vmNativeMemory", new Object[] {new String[] {"summary"}},
                        new String[] {String[].class.getName()});
        long total = -1;
        long other = -1;
        long heap = 0;
        for (String line : out.split("\n")) {
            var m = java.util.regex.Pattern.compile("committed=(\\d+)KB").matcher(line);
            if (!m.find()) {
                continue;
            }
            if (line.startsWith("Total:")) {
                total = Long.parseLong(m.group(1));
            } else if (line.contains("- ") && line.contains("Other (")) {
                other = Long.parseLong(m.group(1));
            } else if (line.contains("- ") && line.contains("Java Heap (")) {
                heap = Long.parseLong(m.group(1));
            }
        }
        if (total < 0) {
            throw new AssertionError("no NMT summary (is -XX:NativeMemoryTracking=summary set?): " + out);
        }
        // The Java heap's committed size follows the GC's sizing, not leaks: left out of the total.
        return new long[] {total - heap, Math.max(other, 0), heap};
    }

    /** count and bytes of the JDK's "direct" buffer pool (BufferPoolMXBean). */
    static long[] directPool() throws Exception {
        Class<?> mf = Class.forName("java.lang.management.ManagementFactory");
        Class<?> bp = Class.forName("java.lang.management.BufferPoolMXBean");
        for (Object pool : (List<?>) mf.getMethod("getPlatformMXBeans", Class.class).invoke(null, bp)) {
            if (bp.getMethod("getName").invoke(pool).equals("direct")) {
                return new long[] {(Long) bp.getMethod("getCount").invoke(pool), (Long) bp.getMethod("getMemoryUsed").invoke(pool)};
            }
        }
        throw new AssertionError("no direct buffer pool");
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
        long[] nmtBefore = nmt();
        long[] poolBefore = directPool();
        long t1 = System.nanoTime();
        while (System.nanoTime() - t1 < BUDGET_NANOS * 4 / 5) {
            calls += round(pm, x, y, p, dy, jac, v, out);
        }
        System.gc();
        long after = rssKb();
        long[] nmtAfter = nmt();
        long[] poolAfter = directPool();
        System.out.printf("[panmax] soak on %s: %,d calls in %.1f s; RSS %,d kB -> %,d kB; NMT committed non-heap %,d kB -> %,d kB,"
                + " Other %,d kB -> %,d kB; direct pool %d buffers/%,d B -> %d/%,d B%n", pm.name(), calls,
                (System.nanoTime() - t0) / 1e9, before, after, nmtBefore[0], nmtAfter[0], nmtBefore[1], nmtAfter[1],
                poolBefore[0], poolBefore[1], poolAfter[0], poolAfter[1]);
        assertTrue(nmtAfter[0] - nmtBefore[0] < 8 * 1024, "NMT committed non-heap memory grew by " + (nmtAfter[0] - nmtBefore[0]) + " kB");
        assertTrue(nmtAfter[1] - nmtBefore[1] < 1024, "NMT Other (arenas) grew by " + (nmtAfter[1] - nmtBefore[1]) + " kB");
        assertTrue(poolAfter[1] - poolBefore[1] < 1024 * 1024, "direct pool grew by " + (poolAfter[1] - poolBefore[1]) + " B");
        assertTrue(calls > 1_000_000, "too few calls for a soak: " + calls);
        // RSS also holds the Java heap's touched pages, which follow the GC's sizing: compared without it.
        long grew = (after - nmtAfter[2]) - (before - nmtBefore[2]);
        assertTrue(grew < 32 * 1024, "resident memory outside the Java heap grew by " + grew + " kB over " + calls + " calls");
    }

    static void assumeLinux() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.exists(Path.of("/proc/self/status")), "needs /proc");
    }
}
