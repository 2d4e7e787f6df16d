package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * (9) of the hardening issue: a configuration that cannot be honoured gives one clear IllegalStateException naming
 * the setting and its value, on every call to {@code Panmax.get()} (the old code threw ExceptionInInitializerError
 * once, then NoClassDefFoundError), while {@code Panmax.backend("java-scalar")} still works. Each case in a fresh
 * JVM ({@link ConfigurationMain}), since the choice is made once per JVM.
 */
class ConfigurationTest {
    static final String LIBM = "/lib/x86_64-linux-gnu/libm.so.6";

    /** name, system properties, PANMAX_ISA (null: unset), fragments every get() message must hold (null: get() works). */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("bogus backend", List.of("-Dpanmax.backend=bogus"), null,
                        List.of("-Dpanmax.backend=bogus", "names no backend", "java-scalar")),
                Arguments.of("native required, library path missing",
                        List.of("-Dpanmax.native=required", "-Dpanmax.library.path=/nonexistent"), null,
                        List.of("-Dpanmax.native=required", "/nonexistent")),
                Arguments.of("native mode bogus", List.of("-Dpanmax.native=bogus"), null,
                        List.of("-Dpanmax.native=bogus", "auto, required, disabled")),
                Arguments.of("PANMAX_ISA bogus", List.of(), "bogus", List.of("PANMAX_ISA=bogus")),
                Arguments.of("PANMAX_ISA bogus, java-scalar chosen", List.of("-Dpanmax.backend=java-scalar"), "bogus", null),
                Arguments.of("library path names libm, required", List.of("-Dpanmax.native=required",
                        "-Dpanmax.library.path=" + LIBM), null, List.of("-Dpanmax.native=required", LIBM, "not libpanmax")),
                Arguments.of("library path names libm, auto", List.of("-Dpanmax.library.path=" + LIBM), null, null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void oneClearErrorOnEveryCall(String name, List<String> props, String isa, List<String> fragments) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(props);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), ConfigurationMain.class.getName()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("PANMAX_ISA");
        if (isa != null) {
            env.put("PANMAX_ISA", isa);
        }
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), name + ": child JVM hung");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), name + ":\n" + out);
        List<String> gets = out.lines().filter(l -> l.startsWith("get#")).toList();
        assertEquals(3, gets.size(), name + ":\n" + out);
        String first = gets.get(0).substring("get#1 ".length());
        for (String g : gets) {
            String rest = g.substring("get#1 ".length());
            assertEquals(first, rest, name + ": every call must say the same:\n" + out);
            if (fragments == null) {
                assertTrue(rest.startsWith("ok "), name + ": get() must work:\n" + out);
            } else {
                assertTrue(rest.startsWith(IllegalStateException.class.getName() + ": "), name
                        + ": want one IllegalStateException on every call:\n" + out);
                for (String f : fragments) {
                    assertTrue(rest.contains(f), name + ": the message must name '" + f + "':\n" + out);
                }
            }
        }
        assertTrue(out.lines().anyMatch(l -> l.startsWith("named ok 0.09")), name + ": java-scalar by name must work:\n" + out);
        if (name.equals("library path names libm, auto")) {
            assertTrue(out.contains("status native library not loaded") && out.contains(LIBM)
                    && out.contains("not libpanmax"), name + ": the status must name the real cause:\n" + out);
        }
        if (name.equals("PANMAX_ISA bogus, java-scalar chosen")) {
            assertTrue(gets.get(0).contains("ok java-scalar"), out);
        }
        Files.deleteIfExists(Path.of("hs_err_pid" + p.pid() + ".log"));
    }
}
