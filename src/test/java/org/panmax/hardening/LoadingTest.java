package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading where services run (issue 15), each case in a fresh JVM ({@link LoadingMain}): it works, or it fails with a
 * message that says what to do. The library's classes come from target/classes (the jar is made after the tests);
 * the jar case builds its own jar from them. The noexec and read-only cases mount a tmpfs (root); where mounting
 * is not permitted they are skipped, saying so.
 */
class LoadingTest {
    static final Path CLASSES = Path.of("target", "classes").toAbsolutePath();
    static final Path TEST_CLASSES = Path.of("target", "test-classes").toAbsolutePath();
    static final float P0 = 0.09003057f;

    @TempDir
    static Path tmp;
    static final List<Path> MOUNTS = new ArrayList<>();

    @BeforeAll
    static void nativeBuilt() {
        assumeTrue(Files.exists(CLASSES.resolve("native/linux-x86_64/libpanmax.so"))
                        && System.getProperty("os.arch").matches("amd64|x86_64"),
                "no bundled linux-x86_64 library in target/classes (built with -Dpanmax.native.skip?): nothing to load");
    }

    @AfterAll
    static void unmount() throws Exception {
        for (Path m : MOUNTS) {
            run(List.of("umount", m.toString()));
        }
    }

    /** Mounts a tmpfs with these options at a fresh dir, or skips the test (not root, no mount in a container). */
    static Path mount(String name, String options) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Result r = run(List.of("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString()));
        assumeTrue(r.rc == 0, "cannot mount a tmpfs here (" + r.out.strip() + "): case skipped");
        MOUNTS.add(dir);
        return dir;
    }

    record Result(int rc, String out) {}

    static Result run(List<String> cmd) throws Exception {
        return run(cmd, Map.of());
    }

    static Result run(List<String> cmd, Map<String, String> env) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("PANMAX_ISA");
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child hung: " + cmd);
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    static List<String> java(String classPath, String... props) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(List.of(props));
        cmd.addAll(List.of("-cp", classPath, LoadingMain.class.getName()));
        return cmd;
    }

    static String classPath() {
        return CLASSES + java.io.File.pathSeparator + TEST_CLASSES;
    }

    static void assertNative(Result r, String what) {
        assertEquals(0, r.rc, what + ":\n" + r.out);
        assertTrue(r.out.contains("ok native-"), what + ": the native backend must load:\n" + r.out);
        assertTrue(r.out.contains("ok native-avx2 " + P0) || r.out.contains("ok native-") && r.out.contains(" " + P0),
                what + ": softmax(1, 2, 3)[0] must be " + P0 + ":\n" + r.out);
    }

    @Test
    void noexecTempDirSaysSetPanmaxTmpdirAndThatWorks() throws Exception {
        Path noexec = mount("noexec tmp", "noexec");
        Result required = run(java(classPath(), "-Djava.io.tmpdir=" + noexec, "-Dpanmax.native=required"));
        assertTrue(required.out.contains("fail java.lang.IllegalStateException") && required.out.contains("-Dpanmax.tmpdir")
                && required.out.contains(noexec.toString()), "required: the error must say to set -Dpanmax.tmpdir:\n"
                + required.out);
        Result auto = run(java(classPath(), "-Djava.io.tmpdir=" + noexec));
        assertTrue(auto.out.contains("ok java-") && auto.out.contains("-Dpanmax.tmpdir"),
                "auto: the Java backends serve and the log line says to set -Dpanmax.tmpdir:\n" + auto.out);
        Path exec = Files.createDirectories(tmp.resolve("exec"));
        assertNative(run(java(classPath(), "-Djava.io.tmpdir=" + noexec, "-Dpanmax.tmpdir=" + exec)),
                "-Dpanmax.tmpdir on an exec dir");
        try (Stream<Path> left = Files.list(exec)) {
            assertEquals(List.of(), left.toList(), "the extracted files must be deleted after loading");
        }
    }

    @Test
    void withoutTheVectorModuleOneLogLineNamesJavaVectorAndTheFlag() throws Exception {
        Result r = run(java(classPath())); // java(...) passes no --add-modules
        assertNative(r, "class path without --add-modules");
        List<String> lines = r.out.lines().filter(l -> l.contains("java-vector")).toList();
        assertEquals(1, lines.size(), "one line must name java-vector:\n" + r.out);
        assertTrue(lines.get(0).contains("--add-modules jdk.incubator.vector"), "it must name the flag:\n" + r.out);
        assertTrue(!r.out.contains("Using incubator modules"), "the module must not be resolved:\n" + r.out);
    }

    @Test
    void readOnlyHomeWorksAndIsNotWritten() throws Exception {
        Path home = mount("ro home", "ro");
        assertNative(run(java(classPath(), "-Duser.home=" + home), Map.of("HOME", home.toString())), "read-only home");
    }

    @Test
    void twoClassLoadersInOneJvmEachLoadPanmax() throws Exception {
        List<String> cmd = java(TEST_CLASSES.toString());
        cmd.addAll(List.of("loaders", CLASSES.toString(), TEST_CLASSES.toString()));
        Result r = run(cmd);
        assertEquals(0, r.rc, r.out);
        List<String> lines = r.out.lines().filter(l -> l.startsWith("loader#")).toList();
        assertEquals(2, lines.size(), r.out);
        for (String l : lines) {
            assertTrue(l.contains(" ok native-") && l.contains(" " + P0), "each class loader must load the native library:\n" + r.out);
        }
        assertTrue(lines.get(0).endsWith("webapp1") && lines.get(1).endsWith("webapp2"),
                "panmax must come from each web application's own loader:\n" + r.out);
    }

    @Test
    void jarPathWithSpaces() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("with space/and ünïcode"));
        Path jar = dir.resolve("panmax.jar");
        ToolProvider jarTool = ToolProvider.findFirst("jar").orElseThrow();
        assertEquals(0, jarTool.run(System.out, System.err, "--create", "--file", jar.toString(), "-C", CLASSES.toString(),
                "."), "jar tool");
        Path tests = Files.createDirectories(dir.resolve("tests"));
        copyTree(TEST_CLASSES.resolve("org/panmax/hardening"), tests.resolve("org/panmax/hardening"));
        assertNative(run(java(jar + java.io.File.pathSeparator + tests)), "jar at a path with spaces");
    }

    static void copyTree(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> s = Files.list(from)) {
            for (Path p : s.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
