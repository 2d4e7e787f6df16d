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

/**
 * Loads libpanmax.so once. Order (the first that applies wins):
 * <ol>
 *   <li>{@code -Dpanmax.library.path=FILE|DIR}: that file, or DIR/libpanmax.so. No fallback: a user who
 *       names a path wants exactly that library.</li>
 *   <li>The copy bundled in the jar under {@code /native/linux-x86_64/}, extracted with its OpenBLAS
 *       (libopenblas.so.0, libgfortran.so.5, libquadmath.so.0) into a fresh owner-only temporary
 *       directory ({@code -Dpanmax.tmpdir} overrides the parent). libpanmax.so has RUNPATH $ORIGIN,
 *       so the OS loader resolves OpenBLAS from the same directory. The files are deleted right
 *       after loading (the mapping stays valid).</li>
 * </ol>
 * Every failed attempt is kept as a suppressed exception of the final one.
 */
final class NativeLoader {
    private NativeLoader() {}

    static final String RESOURCE_DIR = "/native/linux-x86_64/";
    static final String LIBRARY = "libpanmax.so";
    static final List<String> BUNDLED = List.of(LIBRARY, "libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0");

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
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            throw new UnsatisfiedLinkError("no bundled native library for " + os + "/" + arch
                    + " (panmax bundles linux-x86_64 only); set -Dpanmax.library.path to a build of native/");
        }
        if (NativeLoader.class.getResource(RESOURCE_DIR + LIBRARY) == null) {
            throw new UnsatisfiedLinkError("this panmax jar was built without its native library ("
                    + RESOURCE_DIR + LIBRARY + " is missing); set -Dpanmax.library.path");
        }
        Path dir = null;
        try {
            String parent = System.getProperty("panmax.tmpdir", System.getProperty("java.io.tmpdir"));
            dir = Files.createTempDirectory(Path.of(parent), "panmax-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            for (String name : BUNDLED) {
                try (InputStream in = NativeLoader.class.getResourceAsStream(RESOURCE_DIR + name)) {
                    if (in == null) {
                        if (name.equals(LIBRARY)) {
                            throw new IOException("resource " + RESOURCE_DIR + name + " disappeared");
                        }
                        continue; // a build against a system OpenBLAS bundles libpanmax.so alone
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
            return "jar:" + RESOURCE_DIR + LIBRARY + " (extracted to " + dir + ")";
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
