package org.panmax.internal;

import static org.panmax.bindings.panmax_h.*;

import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * The native side, decided once: load libpanmax.so (see {@link NativeLoader}), check its ABI, and
 * create one {@link NativeKernels} per ISA that this CPU supports, the active ISA first. If loading
 * fails, the pure-Java backends serve and one log line says why; {@code -Dpanmax.native=required}
 * turns that into an error carrying every cause.
 */
public final class NativeBackends {
    private NativeBackends() {}

    private static final System.Logger LOG = System.getLogger("org.panmax");
    static final int EXPECTED_ABI = 1;

    /** The outcome of loading, immutable. */
    public record Status(boolean loaded, String origin, String version, String activeIsa, List<String> isas,
                         String cpuFeatures, String blas, String isaError, Throwable failure, String configError) {
        public String describe() {
            if (!loaded) {
                return "native library not loaded: " + reason(failure);
            }
            return "native library " + version + " from " + origin + "; ISAs " + isas + "; active "
                    + (isaError != null ? "none (" + isaError + ")" : activeIsa) + "; CPU [" + cpuFeatures + "]; " + blas;
        }
    }

    /** The first non-empty message along a cause chain, with the class of the throwable that has it. */
    static String reason(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null && !c.getMessage().isBlank()) {
                return c == t ? c.getMessage() : c.getMessage() + " (" + c.getClass().getSimpleName() + ")";
            }
        }
        return t == null ? "unknown" : t.getClass().getName();
    }

    /* Never throws: a failure, even a configuration error, is recorded in the Status, and the facade reports it
     * on every call that depends on it (an exception in a class initialiser would become NoClassDefFoundError on
     * every later use, even of the Java backends). */
    private static final class Holder {
        static final Status STATUS;
        static final List<Kernels> KERNELS;

        static {
            Status status;
            List<Kernels> kernels = List.of();
            String mode = System.getProperty("panmax.native", "auto").trim();
            if (!mode.equals("auto") && !mode.equals("required") && !mode.equals("disabled")) {
                String err = "-Dpanmax.native=" + mode + " is not one of auto, required, disabled";
                status = new Status(false, null, null, null, List.of(), null, null, null,
                        new UnsatisfiedLinkError(err), err);
            } else if (mode.equals("disabled")) {
                status = new Status(false, null, null, null, List.of(), null, null, null,
                        new UnsatisfiedLinkError("disabled by -Dpanmax.native=disabled"), null);
            } else {
                try {
                    String origin = BlasThreads.load(); // NativeLoader.load() with OpenBLAS at 1 thread
                    int abi = panmax_abi_version();
                    if (abi != EXPECTED_ABI) {
                        throw new UnsatisfiedLinkError("libpanmax ABI " + abi + " but this jar expects " + EXPECTED_ABI);
                    }
                    int v = panmax_version();
                    String version = (v / 10000) + "." + (v / 100 % 100) + "." + (v % 100);
                    List<String> isas = new ArrayList<>();
                    List<Kernels> ks = new ArrayList<>();
                    int active = panmax_active_isa();
                    String isaError = null;
                    if (active < 0) {
                        isaError = "PANMAX_ISA=" + System.getenv("PANMAX_ISA")
                                + " names an ISA that is unknown or that this CPU lacks";
                    }
                    for (int isa = PANMAX_ISA_NEON(); isa >= PANMAX_ISA_SCALAR(); isa--) {
                        if (panmax_isa_supported(isa) == 1) {
                            String name = string(panmax_isa_name(isa));
                            isas.add(name);
                            NativeKernels k = new NativeKernels(isa, "native-" + name);
                            if (isa == active) {
                                ks.add(0, k); // the active ISA (PANMAX_ISA may lower it) is the default
                            } else {
                                ks.add(k);
                            }
                        }
                    }
                    String activeName = active >= 0 ? string(panmax_isa_name(active)) : null;
                    status = new Status(true, origin, version, activeName, List.copyOf(isas),
                            string(panmax_cpu_features()), string(panmax_blas_info()), isaError, null, null);
                    kernels = List.copyOf(ks);
                    LOG.log(Level.DEBUG, "panmax: " + status.describe());
                } catch (Throwable t) {
                    String err = mode.equals("required") ? "-Dpanmax.native=required but the native library did "
                            + "not load: " + reason(t) : null;
                    status = new Status(false, null, null, null, List.of(), null, null, null, t, err);
                    if (err == null) {
                        LOG.log(Level.INFO, "panmax: native library unavailable (" + reason(t)
                                + "); the pure-Java backends serve");
                    }
                }
            }
            STATUS = status;
            KERNELS = kernels;
        }
    }

    private static String string(MemorySegment cString) {
        return cString.equals(MemorySegment.NULL) ? "?" : cString.reinterpret(4096).getString(0);
    }

    /** Native backends (one per supported ISA, the active one first); empty if not loaded. */
    public static List<Kernels> kernels() {
        return Holder.KERNELS;
    }

    /** How loading went. */
    public static Status status() {
        return Holder.STATUS;
    }
}
