package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Library loading and dispatch raced from 32 threads at start-up, in fresh JVMs (5 of them). */
class RacedStartupTest {
    @Test
    void loadingAndDispatchRacedFromManyThreads() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        for (int run = 0; run < 5; run++) {
            Process p = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                    RacedStartupMain.class.getName())).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM hung");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertTrue(out.contains("raced-startup threads=32") && out.contains("errors=[]"), out);
            if (run == 0) {
                System.out.println("[panmax] " + out.lines().filter(l -> l.startsWith("raced")).findFirst().orElse(out));
            }
        }
    }
}
