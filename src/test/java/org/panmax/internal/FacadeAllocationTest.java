package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.panmax.Panmax;

/**
 * Every public facade call (views, options and outputs made once; the one-row array shortcuts on the same arrays)
 * allocates nothing once compiled, on the best native backend and on java-scalar, measured in child JVMs ({@link FacadeAllocationMain})
 * that compile synchronously at fixed counts. Run twice: with C2 as it is, and with escape analysis switched off,
 * which is what "zero allocation independent of compile order" means: JMH once saw the one-row shortcut allocate
 * 144 B per call in 1 of 6 forks, when C2 did not inline the JDK's array wrapping; with escape analysis off that
 * case is certain, and this test fails on it (without ArrayWraps: 32 B per shortcut call with escape analysis on,
 * 72 B with it off). java-vector is left out: its kernels allocate whenever C2 does not intrinsify the Vector API
 * (JavaBuffersTest measures it on views), and under -Xbatch its f64 one-row backward falls into a deoptimisation
 * loop in which it boxes vectors (1.5 KB per call at n = 37).
 */
class FacadeAllocationTest {
    static Stream<Arguments> configurations() {
        String nativeBest = Panmax.backends().stream().filter(b -> b.startsWith("native-")).findFirst().orElse(null);
        List<Arguments> out = new ArrayList<>();
        for (String b : nativeBest == null ? List.of("java-scalar") : List.of(nativeBest, "java-scalar")) {
            out.add(Arguments.of(b, "C2"));
            out.add(Arguments.of(b, "no escape analysis"));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("configurations")
    void compiledFacadeCallsAllocateNothing(String backend, String jit) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Files.createTempFile("panmax-facade-alloc", ".log");
        try {
            List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-Xbatch", "-XX:-TieredCompilation"));
            if (jit.equals("no escape analysis")) {
                cmd.add("-XX:-DoEscapeAnalysis");
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FacadeAllocationMain.class.getName(),
                    backend));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean exited = p.waitFor(600, TimeUnit.SECONDS);
            if (!exited) {
                p.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(exited, "child JVM hung:\n" + out);
            assertTrue(out.contains("calls=45 "), "the child did not run every call:\n" + out);
            assertEquals(0, p.exitValue(), "facade calls allocating once compiled (bytes per 200 calls):\n" + out);
            assertTrue(out.contains("allocating=[]"), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
