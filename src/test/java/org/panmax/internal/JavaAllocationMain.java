package org.panmax.internal;

import java.lang.foreign.Arena;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Child JVM of {@link JavaBuffersTest#compiledCallsAllocateNothing()}: runs each call until C2 has compiled it
 * and prints the bytes that 200 more calls allocate ("alloc NAME BYTES"), then "allocating=[...]". Started with
 * {@code -Xbatch -XX:-TieredCompilation}, so compilation happens in the calling thread at a fixed call count: the
 * outcome depends on the code, not on how loaded the machine is.
 */
public final class JavaAllocationMain {
    private JavaAllocationMain() {}

    /** Calls per round: past C2's invocation threshold (10000 without tiers) for every method on the way. */
    static final int WARM = 12_000;
    static final int ROUNDS = 5; // a deoptimisation (a branch seen for the first time) costs one more round

    /**
     * What 200 calls allocate once compiled: {@link #WARM} calls, then 200 measured, up to {@link #ROUNDS} times
     * while they still allocate.
     */
    static long compiledBytes(Runnable call) {
        long bytes = -1;
        for (int round = 0; round < ROUNDS && bytes != 0; round++) {
            for (int i = 0; i < WARM; i++) {
                call.run();
            }
            long probe = JavaTestSupport.probeBytes();
            long before = JavaTestSupport.allocatedBytes();
            for (int i = 0; i < 200; i++) {
                call.run();
            }
            bytes = JavaTestSupport.allocatedBytes() - before - probe;
        }
        return bytes;
    }

    public static void main(String[] args) {
        Map<String, Long> allocated = new LinkedHashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            Map<String, Runnable> calls = new LinkedHashMap<>();
            List<Kernels> ks = JavaTestSupport.backends();
            for (Kernels k : ks.subList(0, Math.min(2, ks.size()))) {
                for (JavaBuffersTest.Layout l : new JavaBuffersTest.Layout[] {JavaBuffersTest.Layout.ARRAYS,
                    JavaBuffersTest.Layout.NATIVE}) {
                    JavaBuffersTest.addCalls(calls, k, new JavaBuffersTest.Views(l, false, arena));
                }
            }
            for (Map.Entry<String, Runnable> c : calls.entrySet()) {
                long bytes = compiledBytes(c.getValue());
                allocated.put(c.getKey(), bytes);
                System.out.println("alloc " + c.getKey() + " " + bytes);
            }
        }
        List<String> bad = allocated.entrySet().stream().filter(e -> e.getValue() != 0).map(Map.Entry::getKey).toList();
        System.out.println("allocating=" + bad);
        System.exit(bad.isEmpty() ? 0 : 1);
    }
}
