package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The production list holds java-vector (with the Vector API) and java-scalar last; the bench variant is by name only. */
class BackendsTest {

    @Test
    void theBenchVariantIsFoundByNameButNotListed() {
        List<String> names = Backends.available().stream().map(Kernels::name).toList();
        assertEquals("java-scalar", names.get(names.size() - 1), names.toString());
        assertFalse(names.contains(Backends.LIBRARY_EXP), names.toString());
        assumeTrue(JavaVectorSupport.available(), "no Vector API module in this JVM");
        assertTrue(names.contains("java-vector"), names.toString());
        Kernels k = Backends.byName(Backends.LIBRARY_EXP).orElseThrow();
        assertEquals(Backends.LIBRARY_EXP, k.name());
        assertSame(k, Backends.byName(Backends.LIBRARY_EXP).orElseThrow());
        assertFalse(Backends.byName("java-vector-nonesuch").isPresent());
    }
}
