package org.panmax.hardening;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.panmax.Panmax;

/**
 * Run in a fresh JVM by {@link RacedStartupTest}: 32 threads hit library loading, ISA dispatch and
 * backend selection at the same instant, then compute. Prints one summary line; exits 1 on any
 * inconsistency.
 */
public final class RacedStartupMain {
    private RacedStartupMain() {}

    public static void main(String[] args) throws Exception {
        int threads = 32;
        CountDownLatch go = new CountDownLatch(1);
        Set<String> defaults = ConcurrentHashMap.newKeySet();
        Set<List<String>> lists = ConcurrentHashMap.newKeySet();
        Set<String> results = ConcurrentHashMap.newKeySet();
        Set<String> errors = ConcurrentHashMap.newKeySet();
        Thread[] ts = new Thread[threads];
        for (int i = 0; i < threads; i++) {
            ts[i] = new Thread(() -> {
                try {
                    go.await();
                    Panmax pm = Panmax.get();
                    defaults.add(pm.name());
                    lists.add(Panmax.backends());
                    float[] y = new float[3];
                    pm.softmax(new float[] {1, 2, 3}, y);
                    results.add(y[0] + "," + y[1] + "," + y[2]);
                } catch (Throwable t) {
                    errors.add(t.toString());
                }
            });
            ts[i].start();
        }
        go.countDown();
        for (Thread t : ts) {
            t.join();
        }
        System.out.println("raced-startup threads=" + threads + " defaults=" + defaults + " lists=" + lists.size()
                + " results=" + results + " errors=" + errors);
        System.exit(errors.isEmpty() && defaults.size() == 1 && lists.size() == 1 && results.size() == 1 ? 0 : 1);
    }
}
