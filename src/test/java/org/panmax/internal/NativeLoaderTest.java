package org.panmax.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The platform-to-folder mapping of {@link NativeLoader}, and that the folders this build put in the jar
 * hold libraries for their own machine. (There is no aarch64 JDK here, so loading the aarch64 folder is
 * not exercised from Java; its C side runs under qemu-aarch64, see native/tests/aarch64.sh.)
 */
class NativeLoaderTest {

    @ParameterizedTest
    @CsvSource({
        "Linux, amd64, linux-x86_64",
        "Linux, x86_64, linux-x86_64",
        "Linux, aarch64, linux-aarch64",
        "Linux, arm64, linux-aarch64",
        "LINUX, AArch64, linux-aarch64",
    })
    void mapsTheBundledPlatforms(String os, String arch, String folder) {
        assertEquals(Optional.of(folder), NativeLoader.platformFolder(os, arch));
    }

    @ParameterizedTest
    @CsvSource(nullValues = "null", value = {
        "Linux, riscv64",
        "Linux, ppc64le",
        "Linux, s390x",
        "Linux, arm",     // 32-bit ARM: no NEON build
        "Linux, x86",     // 32-bit x86
        "Linux, i386",
        "Linux, ''",
        "Mac OS X, aarch64",
        "Mac OS X, x86_64",
        "Windows 11, amd64",
        "FreeBSD, amd64",
        "null, amd64",
        "Linux, null",
    })
    void hasNoFolderForOtherPlatforms(String os, String arch) {
        assertEquals(Optional.empty(), NativeLoader.platformFolder(os, arch));
    }

    @Test
    void anUnknownPlatformFailsNamingIt() {
        UnsatisfiedLinkError e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLoader.loadBundled("Linux", "riscv64"));
        assertTrue(e.getMessage().contains("platform Linux/riscv64"), e.getMessage());
        e = assertThrows(UnsatisfiedLinkError.class, () -> NativeLoader.loadBundled("Mac OS X", "aarch64"));
        assertTrue(e.getMessage().contains("platform Mac OS X/aarch64"), e.getMessage());
    }

    /** ELF e_machine: 62 x86-64, 183 AArch64. */
    private static int elfMachine(String resource) throws IOException {
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in == null) {
                return -1;
            }
            byte[] h = in.readNBytes(20);
            assertEquals(20, h.length, resource + " is too short for an ELF header");
            assertTrue(h[0] == 0x7f && h[1] == 'E' && h[2] == 'L' && h[3] == 'F', resource + " is not an ELF file");
            return (h[18] & 0xff) | (h[19] & 0xff) << 8; // little-endian (EI_DATA = 1 on both)
        }
    }

    @Test
    void eachBundledFolderHoldsItsOwnMachinesLibraries() throws IOException {
        boolean x86 = NativeLoader.class.getResource("/native/linux-x86_64/libpanmax.so") != null;
        boolean arm = NativeLoader.class.getResource("/native/linux-aarch64/libpanmax.so") != null;
        assumeTrue(x86 || arm, "no native library in this build (-Dpanmax.native.skip)");
        // libpanmax.so is in every folder; the OpenBLAS files only with PANMAX_OPENBLAS=maven
        if (x86) {
            for (String lib : NativeLoader.BUNDLED) {
                int m = elfMachine("/native/linux-x86_64/" + lib);
                assertTrue(m == 62 || (m == -1 && !lib.equals(NativeLoader.LIBRARY)), lib + ": e_machine " + m);
            }
        }
        if (arm) {
            for (String lib : NativeLoader.BUNDLED) {
                int m = elfMachine("/native/linux-aarch64/" + lib);
                assertTrue(m == 183 || (m == -1 && !lib.equals(NativeLoader.LIBRARY)), lib + ": e_machine " + m);
            }
            assertEquals(183, elfMachine("/native/linux-aarch64/libopenblas.so.0"), "the arm64 OpenBLAS");
            // aarch64 has no libquadmath, and libgcc_s.so.1 comes from the system (PanmaxOpenBLAS.cmake)
            assertNull(NativeLoader.class.getResource("/native/linux-aarch64/libquadmath.so.0"));
            assertNull(NativeLoader.class.getResource("/native/linux-aarch64/libgcc_s.so.1"));
        } else {
            System.out.println("NativeLoaderTest: this build has no linux-aarch64 folder (the cross compiler was absent)");
        }
    }
}
