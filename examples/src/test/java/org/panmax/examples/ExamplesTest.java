package org.panmax.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Runs each program of examples/ the way examples/README.md says, from the repository root against the built
 * target/panmax.jar, and checks its exit code and output; and checks that the README shows each program as it is.
 */
class ExamplesTest {
    static final Path JAR = Path.of(System.getProperty("panmax.jar", "target/panmax.jar"));

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "Quickstart,   quickstart: ok,     masked:",
        "OffHeapBatch, off-heap batch: ok, step 2:",
        "TrainingStep, training step: ok,  gradcheck dloss/dW:      passes",
    })
    void runsAsTheReadmeSays(String name, String done, String line) throws Exception {
        assertTrue(Files.isRegularFile(JAR), JAR.toAbsolutePath() + " is missing: the library module builds it");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", JAR.toString(), "examples/" + name + ".java");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), name + " hung");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        System.out.println("[panmax] " + String.join(" ", cmd.subList(1, cmd.size())) + "\n" + out.strip());
        assertEquals(0, p.exitValue(), name + " failed:\n" + out);
        assertTrue(out.contains(done) && out.contains(line), name + " printed something else:\n" + out);
        assertTrue(!out.contains("FAIL"), out);
    }

    /** Every ```java block of examples/README.md that names a file is that file, verbatim; each file is shown. */
    @Test
    void theReadmeShowsTheProgramsVerbatim() throws Exception {
        String readme = Files.readString(Path.of("examples/README.md"));
        Matcher m = Pattern.compile("```java\\n// examples/(\\w+\\.java)\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        List<String> shown = new ArrayList<>();
        while (m.find()) {
            String file = m.group(1);
            shown.add(file);
            assertEquals(Files.readString(Path.of("examples", file)), m.group(2),
                    "examples/README.md shows " + file + " differently from the file: copy it again");
        }
        for (String f : List.of("Quickstart.java", "OffHeapBatch.java", "TrainingStep.java")) {
            assertTrue(shown.contains(f), "examples/README.md does not show " + f);
        }
    }
}
