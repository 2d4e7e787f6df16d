package org.panmax.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Loads libpanmax.so once. Order (the first that applies wins):
 * <ol>
 *   <li>{@code -Dpanmax.library.path=FILE|DIR}: that file, or DIR/libpanmax.so. No fallback: a user who
 *       names a path wants exactly that library.</li>
 *   <li>The copy bundled in the jar for this platform ({@link #platformFolder}: {@code /native/linux-x86_64/}
 *       or {@code /native/linux-aarch64/}), extracted with its OpenBLAS (libopenblas.so.0,
 *       libgfortran.so.5, and libquadmath.so.0 on x86-64) into a fresh owner-only temporary
 *       directory ({@code -Dpanmax.tmpdir} overrides the parent). libpanmax.so has RUNPATH $ORIGIN,
 *       so the OS loader resolves OpenBLAS from the same directory. The files are deleted right
 *       after loading (the mapping stays valid).</li>
 * </ol>
 * On a platform with no bundled library the load fails with a message naming the platform, and
 * {@link NativeBackends} logs it once and lets the pure-Java backends serve.
 * Every failed attempt is kept as a suppressed exception of the final one.
 */
final class NativeLoader {
    private NativeLoader() {}

    static final String LIBRARY = "libpanmax.so";
    /** What a platform folder may hold; a file absent from it (libquadmath on aarch64) is skipped. */
    static final List<String> BUNDLED = List.of(LIBRARY, "libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0");

    /**
     * The jar folder for a platform, from the {@code os.name} and {@code os.arch} system properties:
     * Linux on {@code amd64}/{@code x86_64} is {@code linux-x86_64}, on {@code aarch64}/{@code arm64}
     * {@code linux-aarch64}; anything else has no bundled library.
     */
    static Optional<String> platformFolder(String osName, String osArch) {
        if (osName == null || osArch == null || !osName.toLowerCase(Locale.ROOT).startsWith("linux")) {
            return Optional.empty();
        }
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64" -> Optional.of("linux-x86_64");
            case "aarch64", "arm64" -> Optional.of("linux-aarch64");
            default -> Optional.empty();
        };
    }

    /** Loads the library and returns where it came from. */
    static String load() {
        String explicit = System.getProperty("panmax.library.path");
        if (explicit != null && !explicit.isBlank()) {
            Path p = Path.of(explicit);
            if (Files.isDirectory(p)) {
                p = p.resolve(LIBRARY);
            }
            if (!Files.isRegularFile(p)) {
                throw new UnsatisfiedLinkError("panmax.library.path=" + explicit + ": no such file " + p);
            }
            System.load(p.toAbsolutePath().toString());
            if (java.lang.foreign.SymbolLookup.loaderLookup().find("panmax_abi_version").isEmpty()) {
                throw new UnsatisfiedLinkError("panmax.library.path=" + explicit + ": " + p.toAbsolutePath()
                        + " loaded, but it is not libpanmax (it has no symbol panmax_abi_version)");
            }
            return p.toAbsolutePath().toString();
        }
        return loadBundled(System.getProperty("os.name", ""), System.getProperty("os.arch", ""));
    }

    /** Extracts and loads the jar's library for the platform {@code os}/{@code arch}. */
    static String loadBundled(String os, String arch) {
        Optional<String> folder = platformFolder(os, arch);
        if (folder.isEmpty()) {
            throw new UnsatisfiedLinkError("no bundled native library for platform " + os + "/" + arch
                    + " (panmax bundles linux-x86_64 and linux-aarch64); set -Dpanmax.library.path to a build of native/");
        }
        String resourceDir = "/native/" + folder.get() + "/";
        if (NativeLoader.class.getResource(resourceDir + LIBRARY) == null) {
            throw new UnsatisfiedLinkError("this panmax jar was built without its native library for platform "
                    + folder.get() + " (" + resourceDir + LIBRARY + " is missing); set -Dpanmax.library.path");
        }
        Path dir = null;
        try {
            String parent = System.getProperty("panmax.tmpdir", System.getProperty("java.io.tmpdir"));
            dir = Files.createTempDirectory(Path.of(parent), "panmax-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            for (String name : BUNDLED) {
                try (InputStream in = NativeLoader.class.getResourceAsStream(resourceDir + name)) {
                    if (in == null) {
                        if (name.equals(LIBRARY)) {
                            throw new IOException("resource " + resourceDir + name + " disappeared");
                        }
                        continue; // not on this platform, or a build against a system OpenBLAS
                    }
                    Files.copy(in, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Path lib = dir.resolve(LIBRARY);
            try {
                System.load(lib.toString());
            } catch (UnsatisfiedLinkError e) {
                UnsatisfiedLinkError u = new UnsatisfiedLinkError("extracted " + lib + " but could not load it: "
                        + e.getMessage() + " (if " + parent + " is mounted noexec, set -Dpanmax.tmpdir to another directory)");
                u.initCause(e);
                throw u;
            }
            return "jar:" + resourceDir + LIBRARY + " (extracted to " + dir + ")";
        } catch (IOException e) {
            UnsatisfiedLinkError u = new UnsatisfiedLinkError("could not extract the bundled native library: " + e);
            u.initCause(e);
            throw u;
        } finally {
            if (dir != null) {
                deleteQuietly(dir);
            }
        }
    }

    private static void deleteQuietly(Path dir) {
        List<IOException> ignored = new ArrayList<>();
        for (String name : BUNDLED) {
            try {
                Files.deleteIfExists(dir.resolve(name));
            } catch (IOException e) {
                ignored.add(e);
            }
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            ignored.add(e);
        }
    }
}
