package org.panmax;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.panmax.bindings.panmax_h;
import org.panmax.internal.NativeBackends;

/**
 * The committed jextract output must match the header (CI has no jextract, so a hash stands in for
 * regeneration), every generated function must resolve in the built library, and one raw call works.
 */
class BindingsTest {

    @Test
    void bindingsWereGeneratedFromTheCurrentHeader() throws Exception {
        byte[] header = Files.readAllBytes(Path.of("native/include/panmax.h"));
        String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(header));
        String recorded = Files.readString(Path.of("bindings/panmax.h.sha256")).trim();
        assertEquals(recorded, actual, "native/include/panmax.h changed after bindings/ was generated: run "
                + "bindings/regenerate.sh (see bindings/README.md) and commit its output on its own");
    }

    @Test
    void everyGeneratedFunctionResolvesInTheLibrary() {
        assumeTrue(NativeBackends.status().loaded(), () -> "native library absent: " + Panmax.nativeStatus());
        List<String> missing = new ArrayList<>();
        int count = 0;
        SymbolLookup lookup = SymbolLookup.loaderLookup();
        for (Method m : panmax_h.class.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) && m.getName().startsWith("panmax_") && m.getName().endsWith("$address")) {
                String symbol = m.getName().substring(0, m.getName().length() - "$address".length());
                count++;
                if (lookup.find(symbol).isEmpty()) {
                    missing.add(symbol);
                }
            }
        }
        // Every function the header declares must have a binding (and so be checked above).
        java.util.regex.Matcher decl = java.util.regex.Pattern.compile("\\b(panmax_[a-z0-9_]+)\\s*\\(")
                .matcher(readHeader());
        java.util.Set<String> declared = new java.util.TreeSet<>();
        while (decl.find()) {
            declared.add(decl.group(1));
        }
        assertEquals(declared.size(), count, "functions in panmax.h " + declared + " vs bindings: run bindings/regenerate.sh");
        assertTrue(missing.isEmpty(), "generated functions missing from libpanmax.so: " + missing);
    }

    private static String readHeader() {
        try {
            return Files.readString(Path.of("native/include/panmax.h"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void rawBindingSmokeTest() {
        assumeTrue(NativeBackends.status().loaded(), () -> "native library absent: " + Panmax.nativeStatus());
        assertEquals(panmax_h.PANMAX_ABI_VERSION(), panmax_h.panmax_abi_version());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f, 2f, 3f);
            MemorySegment y = arena.allocate(ValueLayout.JAVA_FLOAT, 3);
            int status = panmax_h.panmax_softmax_f32(x, 3, y, 3, 1, 3, panmax_h.PANMAX_ISA_SCALAR());
            assertEquals(panmax_h.PANMAX_OK(), status);
            double e1 = Math.exp(-2), e2 = Math.exp(-1), s = e1 + e2 + 1;
            assertEquals(1 / s, y.getAtIndex(ValueLayout.JAVA_FLOAT, 2), 1e-7);
            // The C side checks its arguments too: a NULL input is an error code, not a crash.
            assertEquals(panmax_h.PANMAX_ERR_NULL(),
                    panmax_h.panmax_softmax_f32(MemorySegment.NULL, 3, y, 3, 1, 3, panmax_h.PANMAX_ISA_AUTO()));
            assertEquals(panmax_h.PANMAX_ERR_STRIDE(),
                    panmax_h.panmax_softmax_f32(x, 2, y, 3, 2, 3, panmax_h.PANMAX_ISA_AUTO()));
        }
    }
}
