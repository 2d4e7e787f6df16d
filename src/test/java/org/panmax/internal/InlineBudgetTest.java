package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * Holds every method on a facade call's path (Panmax, Args, the option records, NativeKernels) under C2's size
 * limit for inlining a hot method: {@code -XX:FreqInlineSize}, 325 bytecode bytes by default. A method over it is
 * called out of line from its caller, on every call; NativeKernels.softmax once grew to 337 bytes and a facade
 * softmax at n = 16 cost 1.27 times the raw critical downcall (JMH, 69.7 vs 54.8 ns) where the one-row shortcut,
 * 91 bytes, cost 1.0 times. This test measures the bytecode, not the time, so it cannot flake.
 */
class InlineBudgetTest {
    /** HotSpot's default FreqInlineSize on x86-64 and aarch64. */
    static final int FREQ_INLINE_SIZE = 325;

    static final List<String> CLASSES = List.of("org.panmax.Panmax", "org.panmax.Args", "org.panmax.SoftmaxOptions",
            "org.panmax.CrossEntropyOptions", "org.panmax.JacobianOptions", "org.panmax.internal.NativeKernels");

    @Test
    void everyMethodOnTheCallPathFitsC2sHotInliningLimit() throws Exception {
        List<String> over = new ArrayList<>();
        int methods = 0;
        for (String c : CLASSES) {
            Map<String, Integer> sizes = codeSizes(c);
            assertTrue(sizes.size() > 3, "javap found no methods in " + c + ": " + sizes);
            for (var e : sizes.entrySet()) {
                methods++;
                if (e.getValue() > FREQ_INLINE_SIZE && !e.getKey().equals("static {}")) {
                    over.add(c + "." + e.getKey() + ": " + e.getValue() + " bytes");
                }
            }
        }
        assertTrue(methods > 50, "too few methods measured: " + methods);
        assertEquals(List.of(), over, "methods over FreqInlineSize (" + FREQ_INLINE_SIZE + " bytes): move their cold "
                + "branches (long calls, error paths, optional arguments) into methods of their own");
    }

    @Test
    void theMeasureSeesALargeMethod() throws Exception {
        // The parser itself: JavaKernels' row loops are known to be far over the limit.
        Map<String, Integer> sizes = codeSizes("org.panmax.internal.JavaKernels");
        assertTrue(sizes.values().stream().anyMatch(v -> v > FREQ_INLINE_SIZE), sizes.toString());
    }

    /** Method signature (as javap prints it, without modifiers) to its code length: the last instruction's end. */
    static Map<String, Integer> codeSizes(String className) throws Exception {
        ToolProvider javap = ToolProvider.findFirst("javap").orElseThrow(() -> new AssertionError("no javap tool"));
        Path classes = Path.of(Class.forName(className, false, InlineBudgetTest.class.getClassLoader()).getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.exists(classes), classes.toString());
        StringWriter out = new StringWriter();
        int rc = javap.run(new PrintWriter(out), new PrintWriter(out), "-c", "-p", "-cp", classes.toString(), className);
        assertEquals(0, rc, out.toString());
        Map<String, Integer> sizes = new LinkedHashMap<>();
        String method = null;
        int lastOffset = -1;
        String lastOp = null;
        for (String line : out.toString().split("\n")) {
            if (line.startsWith("  ") && !line.startsWith("   ") && line.endsWith(";")) {
                flush(sizes, method, lastOffset, lastOp);
                method = line.trim().equals("static {};") ? "static {}" : line.trim().replaceAll(";$", "").replaceAll("^((public|private|protected|static|final|"
                        + "synchronized|native|abstract) )+", "");
                lastOffset = -1;
                lastOp = null;
            } else if (method != null && line.matches("\\s+\\d+: \\w.*")) {
                String[] f = line.trim().split("[:\\s]+");
                lastOffset = Integer.parseInt(f[0]);
                lastOp = f[1];
            }
        }
        flush(sizes, method, lastOffset, lastOp);
        return sizes;
    }

    private static void flush(Map<String, Integer> sizes, String method, int lastOffset, String lastOp) {
        if (method != null && lastOffset >= 0) {
            // The last instruction of a method is a return or athrow (1 byte) or a goto (3 bytes).
            int len = lastOp.startsWith("goto") ? 3 : 1;
            sizes.put(method, lastOffset + len);
        }
    }
}
