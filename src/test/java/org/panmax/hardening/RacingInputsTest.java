package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.panmax.Pending;
import org.junit.jupiter.api.Test;

/**
 * Inputs written by another thread while calls run (labels flipped to 2^40, logits to extremes): never a crash,
 * never a write outside the outputs ({@link RacingInputsMain}, in a child JVM so that a crash is a failure of this
 * test, with the JVM's own report, not the end of the run). Tagged {@link Pending#FIX}: the native
 * cross-entropy reads each label twice (checked, then used), so a label flipped in between indexes past the logits;
 * native-core reads each label once.
 */
@Tag(Pending.FIX)
class RacingInputsTest {
    @Test
    void racingWritersToInputsNeverCrashNorWriteOutsideTheOutputs() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path log = Files.createTempFile("panmax-racing", ".log");
        try {
            Process p = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector",
                    "--enable-native-access=ALL-UNNAMED", "-XX:ErrorFile=" + log + ".hs_err", "-cp",
                    System.getProperty("java.class.path"), RacingInputsMain.class.getName()))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean exited = p.waitFor(180, TimeUnit.SECONDS);
            if (!exited) {
                p.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            Path hsErr = Path.of(log + ".hs_err");
            String crash = Files.exists(hsErr) ? String.join("\n", Files.readAllLines(hsErr).subList(0,
                    Math.min(20, Files.readAllLines(hsErr).size()))) : "";
            out.lines().filter(l -> l.startsWith("racing")).forEach(l -> System.out.println("[panmax] " + l));
            assertTrue(exited, "child JVM hung:\n" + out);
            assertEquals(0, p.exitValue(), "child JVM failed (exit " + p.exitValue() + "):\n" + out + "\n" + crash);
            assertTrue(out.contains("racing-inputs failures=[]"), out);
            Files.deleteIfExists(hsErr);
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
