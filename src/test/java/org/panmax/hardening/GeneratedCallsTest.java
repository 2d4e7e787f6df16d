package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.AssertionFailedError;
import org.panmax.DType;
import org.panmax.Panmax;
import org.panmax.Reduction;
import org.panmax.Reference;

/**
 * Seeded generated calls of every operation on every backend, through the segment API: random shapes,
 * strides, offsets (as slices), dtypes and segment kinds (heap array, native, mapped file, read-only
 * input views), in-place use where documented, and one broken rule in about 40% of the calls.
 *
 * <p>A valid call is built first; an invalid one is that call with exactly one rule broken (null, negative
 * rows, cols 0, stride < cols, out of bounds, misaligned, read-only output, partial overlap, closed arena,
 * bad flags, bad temperature, bad label, bad smoothing, overflowing size), so its documented exception type
 * is known. Every invalid call must throw that type and leave every byte of every buffer unchanged (guard
 * zones included). Every valid call must match {@link Reference} within loose bounds and change no
 * byte outside its output elements (poisoned guard zones before and after, and the gaps between rows).
 *
 * <p>-Dpanmax.seed=N replays a run; -Dpanmax.generated.calls=N sets the calls per operation and backend.
 */
class GeneratedCallsTest {
    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());
    static final int CALLS = Integer.getInteger("panmax.generated.calls", 700);
    static final byte POISON = (byte) 0xA5;
    static final int GUARD = 48;

    enum Op { SOFTMAX, LOG_SOFTMAX, LOG_SUM_EXP, SOFTMAX_EX, BACKWARD, LOG_BACKWARD, LOG_JVP, JACOBIAN, JACOBIAN_MATMUL,
        CE_LABELS, CE_SOFT }

    enum Bad { NONE, NULL, NEG_ROWS, COLS0, STRIDE, OUT_OF_BOUNDS, MISALIGNED, READ_ONLY_OUT, OVERLAP, CLOSED, FLAGS,
        TEMPERATURE, LABEL, SMOOTHING, OVERFLOW }

    enum Kind { HEAP, NATIVE, MAPPED }

    static Class<? extends Throwable> expected(Bad b) {
        return switch (b) {
            case NULL -> NullPointerException.class;
            case CLOSED -> IllegalStateException.class;
            case OUT_OF_BOUNDS -> IndexOutOfBoundsException.class;
            default -> IllegalArgumentException.class;
        };
    }

    @TestFactory
    Stream<DynamicTest> everyOperationOnEveryBackend() {
        System.out.println("[panmax] GeneratedCallsTest seed " + SEED + " (-Dpanmax.seed=" + SEED + " replays)");
        List<DynamicTest> tests = new ArrayList<>();
        for (String b : Panmax.backends()) {
            tests.add(DynamicTest.dynamicTest(b + " seed " + SEED, () -> runBackend(b)));
        }
        return tests.stream();
    }

    static void runBackend(String backend) throws IOException {
        Panmax pm = Panmax.backend(backend);
        Path file = Files.createTempFile("panmax-gen", ".bin");
        Map<Bad, Integer> counts = new EnumMap<>(Bad.class);
        long t0 = System.nanoTime();
        try (Arena runArena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Pools pools = new Pools(runArena.allocate(1 << 21, 64), ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 21, runArena));
            for (Op op : Op.values()) {
                SplittableRandom r = new SplittableRandom(SEED ^ (backend.hashCode() * 31L + op.ordinal()));
                for (int c = 0; c < CALLS; c++) {
                    long callSeed = r.nextLong();
                    Bad bad = Gen.run(pm, op, callSeed, pools);
                    counts.merge(bad, 1, Integer::sum);
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("[panmax] generated calls on %s: %d (%d ops x %d) in %.1f s; by class %s%n", backend, total,
                Op.values().length, CALLS, (System.nanoTime() - t0) / 1e9, counts);
        assertTrue(counts.getOrDefault(Bad.NONE, 0) > total / 3, "too few valid calls: " + counts);
        for (Bad b : Bad.values()) {
            assertTrue(counts.getOrDefault(b, 0) > 0, "class never generated: " + b + " " + counts);
        }
    }

    /**
     * Regression cases: one line per call that once failed (or that a mutation check showed to be sharp), as
     * printed by a failure's {@code [replay: ...]}: {@code backend op callSeed # why}. Replayed on every run,
     * on the named backend when this machine has it and on every backend otherwise ({@code *}).
     */
    @TestFactory
    Stream<DynamicTest> regressionCases() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        try (var in = GeneratedCallsTest.class.getResourceAsStream("generated-regressions.txt")) {
            if (in == null) {
                throw new AssertionFailedError("generated-regressions.txt is missing from the test resources");
            }
            for (String line : new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                String body = line.replaceFirst("#.*", "").trim();
                if (body.isEmpty()) {
                    continue;
                }
                String[] f = body.split("\\s+");
                Op op = Op.valueOf(f[1]);
                long seed = Long.parseLong(f[2]);
                List<String> on = f[0].equals("*") ? Panmax.backends()
                        : Panmax.backends().contains(f[0]) ? List.of(f[0]) : List.of();
                for (String b : on) {
                    tests.add(DynamicTest.dynamicTest(b + " " + op + " " + seed, () -> replay(b, op, seed)));
                }
            }
        }
        assertTrue(!tests.isEmpty(), "no regression case applies to this machine");
        return tests.stream();
    }

    /** Replays one call (as printed by a failure) and rethrows what it found. */
    static void replay(String backend, Op op, long callSeed) throws IOException {
        Path file = Files.createTempFile("panmax-gen", ".bin");
        try (Arena a = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Gen.run(Panmax.backend(backend), op, callSeed,
                    new Pools(a.allocate(1 << 21, 64), ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 21, a)));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Native and mapped memory carved per call (reset each call), fresh heap arrays. */
    static final class Pools {
        final MemorySegment nat;
        final MemorySegment mapped;
        long natAt;
        long mapAt;
        final List<Arena> toClose = new ArrayList<>();

        Pools(MemorySegment nat, MemorySegment mapped) {
            this.nat = nat;
            this.mapped = mapped;
        }

        MemorySegment alloc(Kind k, char type, long bytes) {
            long n = (bytes + 63) & ~63L;
            switch (k) {
                case NATIVE:
                    if (natAt + n > nat.byteSize()) {
                        return MemorySegment.ofArray(new long[(int) (n / 8)]); // should not happen: sizes are small
                    }
                    MemorySegment s = nat.asSlice(natAt, n);
                    natAt += n;
                    return s;
                case MAPPED:
                    if (mapAt + n > mapped.byteSize()) {
                        return alloc(Kind.NATIVE, type, bytes);
                    }
                    MemorySegment m = mapped.asSlice(mapAt, n);
                    mapAt += n;
                    return m;
                default:
                    return switch (type) {
                        case 'f' -> MemorySegment.ofArray(new float[(int) (n / 4)]);
                        case 'd' -> MemorySegment.ofArray(new double[(int) (n / 8)]);
                        case 'L' -> MemorySegment.ofArray(new long[(int) (n / 8)]);
                        default -> MemorySegment.ofArray(new byte[(int) n]);
                    };
            }
        }
    }

    /** One matrix (or vector) argument. */
    static final class Opnd {
        final String name;
        final char type; // 'F' the call's float type, 'B' mask bytes, 'L' int64 labels
        final boolean output;
        final boolean broadcast;
        final boolean fixedStride;
        final String values; // how inputs are filled
        long rows;
        long cols;
        long stride;
        long passedStride;
        MemorySegment whole;
        long start; // byte offset of the matrix start in whole
        MemorySegment seg;
        double[] vals; // input values, element index (r * stride + j) -> value
        boolean present = true;
        Opnd aliasOf; // exact in-place: same memory as this input

        Opnd(String name, char type, boolean output, boolean broadcast, boolean fixedStride, String values) {
            this.name = name;
            this.type = type;
            this.output = output;
            this.broadcast = broadcast;
            this.fixedStride = fixedStride;
            this.values = values;
        }

        long span() {
            return rows == 0 ? 0 : (rows - 1) * stride + cols;
        }

        int elem(int e) {
            return type == 'F' ? e : type == 'B' ? 1 : 8;
        }

        double get(int e, long i) {
            return switch (type) {
                case 'B' -> seg.get(ValueLayout.JAVA_BYTE, i);
                case 'L' -> seg.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
                default -> e == 8 ? seg.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i)
                        : seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i);
            };
        }

        void set(int e, long i, double v) {
            switch (type) {
                case 'B' -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) v);
                case 'L' -> seg.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i, (long) v);
                default -> {
                    if (e == 8) {
                        seg.setAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i, v);
                    } else {
                        seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, (float) v);
                    }
                }
            }
        }
    }

    /** One generated call. */
    static final class Gen {
        final Panmax pm;
        final Op op;
        final long seed;
        final SplittableRandom r;
        final Pools pools;
        boolean f64;
        int e;
        long rows;
        long cols; // jacobianMatmul: rows = n, cols = k
        long passedRows;
        long passedCols;
        int flags;
        double temperature;
        long ignoreIndex = Panmax.DEFAULT_IGNORE_INDEX;
        double smoothing;
        Reduction reduction = Reduction.NONE;
        boolean nullDType;
        Bad bad = Bad.NONE;
        final List<Opnd> ops = new ArrayList<>();
        final List<Opnd[]> overlapPairs = new ArrayList<>();
        final List<Opnd[]> inPlacePairs = new ArrayList<>();

        Gen(Panmax pm, Op op, long seed, Pools pools) {
            this.pm = pm;
            this.op = op;
            this.seed = seed;
            this.r = new SplittableRandom(seed);
            this.pools = pools;
        }

        static Bad run(Panmax pm, Op op, long seed, Pools pools) {
            pools.natAt = 0;
            pools.mapAt = 0;
            Gen g = new Gen(pm, op, seed, pools);
            try {
                g.build();
                g.check();
            } finally {
                for (Arena a : pools.toClose) {
                    try {
                        a.close();
                    } catch (IllegalStateException alreadyClosed) {
                        // the CLOSED case closed it already
                    }
                }
                pools.toClose.clear();
            }
            return g.bad;
        }

        String where() {
            return pm.name() + " " + op + " " + bad + " f64=" + f64 + " rows=" + passedRows + " cols=" + passedCols
                    + " flags=" + flags + " T=" + temperature + " ignore=" + ignoreIndex + " smoothing=" + smoothing + " "
                    + reduction + describeOps() + " [replay: GeneratedCallsTest.replay(\"" + pm.name() + "\", Op." + op
                    + ", " + seed + "L)]";
        }

        String describeOps() {
            StringBuilder sb = new StringBuilder();
            for (Opnd o : ops) {
                sb.append(' ').append(o.name);
                if (!o.present) {
                    sb.append("=null");
                    continue;
                }
                sb.append("{stride=").append(o.passedStride).append(" bytes=").append(o.seg.byteSize())
                        .append(o.seg.isNative() ? o.seg.isMapped() ? " mapped" : " native" : " heap")
                        .append(o.seg.isReadOnly() ? " ro" : "").append(o.aliasOf != null ? " inplace:" + o.aliasOf.name : "")
                        .append('}');
            }
            return sb.toString();
        }

        Opnd add(String name, char type, boolean output, boolean broadcast, boolean fixedStride, String values,
                 long rows, long cols) {
            Opnd o = new Opnd(name, type, output, broadcast, fixedStride, values);
            o.rows = rows;
            o.cols = cols;
            o.stride = cols;
            if (!fixedStride && r.nextInt(3) == 0) {
                o.stride = cols + 1 + r.nextInt(5);
            }
            if (broadcast && r.nextInt(4) == 0) {
                o.stride = 0;
                o.rows = Math.min(rows, 1);
            }
            ops.add(o);
            return o;
        }

        void build() {
            f64 = r.nextBoolean();
            e = f64 ? 8 : 4;
            rows = r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(5);
            int maxCols = op == Op.JACOBIAN ? 12 : 48;
            cols = 1 + (r.nextInt(4) == 0 ? r.nextInt(3) : r.nextInt(maxCols));
            List<Bad> classes = new ArrayList<>(List.of(Bad.NULL, Bad.NEG_ROWS, Bad.COLS0, Bad.STRIDE, Bad.OUT_OF_BOUNDS,
                    Bad.MISALIGNED, Bad.READ_ONLY_OUT, Bad.OVERLAP, Bad.CLOSED, Bad.OVERFLOW));
            switch (op) {
                case SOFTMAX_EX -> classes.addAll(List.of(Bad.FLAGS, Bad.TEMPERATURE));
                case JACOBIAN, JACOBIAN_MATMUL -> classes.add(Bad.FLAGS);
                case CE_LABELS -> classes.addAll(List.of(Bad.LABEL, Bad.SMOOTHING));
                case CE_SOFT -> classes.add(Bad.SMOOTHING);
                default -> { }
            }
            if (r.nextInt(5) < 2) {
                bad = classes.get(r.nextInt(classes.size()));
            }
            if (bad != Bad.NONE && bad != Bad.NEG_ROWS && bad != Bad.COLS0) {
                rows = Math.max(rows, bad == Bad.OVERFLOW ? 3 : 1);
            }
            if (bad == Bad.OVERLAP || bad == Bad.STRIDE) {
                cols = Math.max(cols, 2);
                rows = Math.max(rows, 2); // jacobianMatmul: p (n = rows) must span 2 elements to overlap partially
            }
            shapes();
            allocate();
            fill();
            mutate();
        }

        void shapes() {
            switch (op) {
                case SOFTMAX, LOG_SOFTMAX -> {
                    Opnd x = add("x", 'F', false, false, false, "logits", rows, cols);
                    Opnd y = add("y", 'F', true, false, false, "", rows, cols);
                    overlapPairs.add(new Opnd[] {y, x});
                    inPlacePairs.add(new Opnd[] {y, x});
                }
                case LOG_SUM_EXP -> {
                    Opnd x = add("x", 'F', false, false, false, "logits", rows, cols);
                    Opnd out = add("out", 'F', true, false, true, "", 1, rows);
                    overlapPairs.add(new Opnd[] {out, x});
                }
                case SOFTMAX_EX -> {
                    Opnd x = add("x", 'F', false, false, false, "logits", rows, cols);
                    Opnd y = add("y", 'F', true, false, false, "", rows, cols);
                    Opnd mask = add("mask", 'B', false, true, false, "mask", rows, cols);
                    Opnd bias = add("bias", 'F', false, true, false, "bias", rows, cols);
                    mask.present = r.nextBoolean();
                    bias.present = r.nextBoolean();
                    overlapPairs.add(new Opnd[] {y, x});
                    if (bias.present) {
                        overlapPairs.add(new Opnd[] {y, bias});
                    }
                    inPlacePairs.add(new Opnd[] {y, x});
                    flags = r.nextInt(4);
                    temperature = switch (r.nextInt(4)) {
                        case 0 -> 1;
                        case 1 -> f64 ? Double.MIN_NORMAL : Float.MIN_NORMAL * 4.0; // large logits/T: still finite outputs
                        default -> 0.25 + r.nextDouble() * 4;
                    };
                    if (temperature < 1e-30) {
                        temperature = 0.25; // keep references simple; tiny temperatures are NumbersTest's job
                    }
                }
                case BACKWARD, LOG_BACKWARD, LOG_JVP -> {
                    String[] nm = op == Op.BACKWARD ? new String[] {"p", "dy", "dx"}
                            : op == Op.LOG_BACKWARD ? new String[] {"logp", "dy", "dx"} : new String[] {"logp", "v", "out"};
                    Opnd a = add(nm[0], 'F', false, false, false, op == Op.BACKWARD ? "prob" : "logp", rows, cols);
                    Opnd b = add(nm[1], 'F', false, false, false, "grad", rows, cols);
                    Opnd o = add(nm[2], 'F', true, false, false, "", rows, cols);
                    overlapPairs.add(new Opnd[] {o, a});
                    overlapPairs.add(new Opnd[] {o, b});
                    inPlacePairs.add(new Opnd[] {o, a});
                    inPlacePairs.add(new Opnd[] {o, b});
                }
                case JACOBIAN -> {
                    flags = r.nextInt(2) | (r.nextBoolean() ? Panmax.FROM_LOGITS : 0);
                    Opnd x = add("x", 'F', false, false, false, (flags & Panmax.FROM_LOGITS) != 0 ? "logits" : "prob", rows, cols);
                    Opnd jac = add("jac", 'F', true, false, true, "", rows, cols * cols);
                    overlapPairs.add(new Opnd[] {jac, x});
                }
                case JACOBIAN_MATMUL -> {
                    rows = Math.max(rows, 1); // n >= 1
                    cols = 1 + r.nextInt(6); // k
                    flags = r.nextInt(2);
                    Opnd p = add("p", 'F', false, false, true, "prob", 1, rows);
                    Opnd v = add("v", 'F', false, false, false, "grad", rows, cols);
                    Opnd out = add("out", 'F', true, false, false, "", rows, cols);
                    overlapPairs.add(new Opnd[] {out, p});
                    overlapPairs.add(new Opnd[] {out, v});
                }
                case CE_LABELS, CE_SOFT -> {
                    reduction = Reduction.values()[r.nextInt(3)];
                    smoothing = r.nextInt(3) == 0 ? 0 : r.nextDouble();
                    Opnd x = add("logits", 'F', false, false, false, "logits", rows, cols);
                    Opnd t = op == Op.CE_LABELS ? add("labels", 'L', false, false, true, "labels", 1, rows)
                            : add("target", 'F', false, false, false, "target", rows, cols);
                    if (op == Op.CE_LABELS) {
                        ignoreIndex = switch (r.nextInt(4)) {
                            case 0 -> -1;
                            case 1 -> cols - 1;
                            default -> Panmax.DEFAULT_IGNORE_INDEX;
                        };
                    }
                    Opnd grad = add("grad", 'F', true, false, false, "", rows, cols);
                    grad.present = r.nextInt(4) != 0;
                    Opnd loss = add("loss", 'F', true, false, true, "", 1, reduction == Reduction.NONE ? rows : 1);
                    if (grad.present) {
                        overlapPairs.add(new Opnd[] {grad, x});
                        if (op == Op.CE_SOFT) {
                            overlapPairs.add(new Opnd[] {grad, t});
                        }
                        overlapPairs.add(new Opnd[] {loss, grad});
                        inPlacePairs.add(new Opnd[] {grad, x});
                    }
                    overlapPairs.add(new Opnd[] {loss, x});
                    if (op == Op.CE_SOFT) {
                        overlapPairs.add(new Opnd[] {loss, t});
                    }
                }
            }
            for (Opnd o : ops) {
                o.passedStride = o.stride;
            }
            passedRows = rows;
            passedCols = cols;
        }

        void allocate() {
            Opnd[] overlap = bad == Bad.OVERLAP ? overlapPairs.get(r.nextInt(overlapPairs.size())) : null;
            Opnd[] inPlace = bad == Bad.NONE && !inPlacePairs.isEmpty() && r.nextInt(5) == 0
                    ? inPlacePairs.get(r.nextInt(inPlacePairs.size())) : null;
            if (inPlace != null && inPlace[0].stride != inPlace[1].stride) {
                inPlace[0].stride = inPlace[0].passedStride = inPlace[1].stride;
            }
            Opnd closed = null;
            if (bad == Bad.CLOSED) {
                List<Opnd> present = ops.stream().filter(o -> o.present).toList();
                closed = present.get(r.nextInt(present.size()));
            }
            for (Opnd o : ops) {
                if (!o.present || (overlap != null && o == overlap[0]) || (inPlace != null && o == inPlace[0])) {
                    continue;
                }
                int el = o.elem(e);
                long bytes = o.span() * el;
                long extraOut = overlap != null && o == overlap[1] ? overlap[0].span() * overlap[0].elem(e) : 0;
                long payload = Math.max(bytes, extraOut) + 2L * el + 8; // slack for misaligned and shifted views
                Kind kind = Kind.values()[r.nextInt(3)];
                MemorySegment whole;
                if (o == closed) {
                    Arena a = Arena.ofConfined();
                    pools.toClose.add(a);
                    whole = a.allocate(payload + 2L * GUARD, 16);
                } else {
                    whole = pools.alloc(kind, o.type == 'F' ? (f64 ? 'd' : 'f') : o.type, payload + 2L * GUARD);
                }
                whole.fill(POISON);
                o.whole = whole;
                o.start = GUARD + (long) r.nextInt(2) * el; // element offsets as slices
                long len = bytes + (r.nextInt(3) == 0 ? (long) r.nextInt(2) * el : 0);
                o.seg = whole.asSlice(o.start, len);
            }
            if (inPlace != null) {
                Opnd out = inPlace[0];
                Opnd in = inPlace[1];
                out.whole = in.whole;
                out.start = in.start;
                out.seg = in.seg;
                out.aliasOf = in;
            }
            if (overlap != null) {
                Opnd out = overlap[0];
                Opnd in = overlap[1];
                out.whole = in.whole;
                out.start = in.start + in.elem(e); // one element further on: a partial overlap
                out.seg = in.whole.asSlice(out.start, out.span() * out.elem(e));
            }
        }

        double value(String how) {
            return switch (how) {
                case "logits" -> r.nextInt(40) == 0 ? Double.NEGATIVE_INFINITY : r.nextDouble() * 20 - 10;
                case "prob", "target" -> r.nextDouble();
                case "logp" -> -r.nextDouble() * 6;
                case "grad" -> r.nextDouble() * 2 - 1;
                case "mask" -> r.nextInt(5) == 0 ? 0 : 1 + r.nextInt(255);
                case "bias" -> r.nextInt(30) == 0 ? Double.NEGATIVE_INFINITY : r.nextDouble() * 4 - 2;
                case "labels" -> r.nextInt(6) == 0 ? ignoreIndex : r.nextInt((int) cols);
                default -> 0;
            };
        }

        void fill() {
            for (Opnd o : ops) {
                if (!o.present || o.output) {
                    continue;
                }
                o.vals = new double[(int) o.span()];
                for (long rr = 0; rr < o.rows; rr++) {
                    for (long j = 0; j < o.cols; j++) {
                        long i = rr * o.stride + j;
                        double v = value(o.values);
                        if (o.values.equals("logits") && (op == Op.CE_LABELS || op == Op.CE_SOFT) && v == Double.NEGATIVE_INFINITY) {
                            v = -30; // -inf logits make CE losses infinite; the rules there are NumbersTest's
                        }
                        o.set(e, i, v);
                        o.vals[(int) i] = o.get(e, i); // as stored (rounded to float)
                    }
                }
            }
            if (op == Op.CE_LABELS && bad == Bad.LABEL) {
                Opnd labels = find("labels");
                long v = switch (r.nextInt(4)) {
                    case 0 -> cols;
                    case 1 -> ignoreIndex == -1 ? -2 : -1;
                    case 2 -> Long.MAX_VALUE;
                    default -> Long.MIN_VALUE;
                };
                if (v == ignoreIndex) {
                    v = cols + 1;
                }
                labels.seg.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, r.nextInt((int) rows), v);
            }
        }

        Opnd find(String name) {
            for (Opnd o : ops) {
                if (o.name.equals(name)) {
                    return o;
                }
            }
            throw new IllegalStateException(name);
        }

        void mutate() {
            switch (bad) {
                case NULL -> {
                    List<Opnd> req = ops.stream().filter(o -> o.present && !List.of("mask", "bias", "grad", "labels", "target")
                            .contains(o.name)).toList();
                    int pick = r.nextInt(req.size() + 1);
                    if (pick == req.size()) {
                        nullDType = true;
                    } else {
                        req.get(pick).seg = null;
                    }
                }
                case NEG_ROWS -> passedRows = -1 - r.nextInt(3);
                case COLS0 -> passedCols = 0;
                case STRIDE -> {
                    List<Opnd> s = ops.stream().filter(o -> o.present && !o.fixedStride).toList();
                    Opnd o = s.get(r.nextInt(s.size()));
                    o.passedStride = o.broadcast ? -1 - r.nextInt(3) : o.cols - 1 - r.nextInt(3);
                    if (o.broadcast && r.nextBoolean() && o.cols > 1) {
                        o.passedStride = o.cols - 1; // neither >= cols nor 0
                    }
                }
                case OUT_OF_BOUNDS -> {
                    List<Opnd> s = ops.stream().filter(o -> o.present && o.span() > 0).toList();
                    Opnd o = s.get(r.nextInt(s.size()));
                    long need = o.span() * o.elem(e);
                    o.seg = o.whole.asSlice(o.start, need - 1 - r.nextInt(o.elem(e)));
                }
                case MISALIGNED -> {
                    List<Opnd> s = ops.stream().filter(o -> o.present && o.elem(e) > 1).toList();
                    Opnd o = s.get(r.nextInt(s.size()));
                    o.seg = o.whole.asSlice(o.start + 1 + r.nextInt(o.elem(e) - 1), o.seg.byteSize());
                }
                case READ_ONLY_OUT -> {
                    List<Opnd> s = ops.stream().filter(o -> o.present && o.output).toList();
                    Opnd o = s.get(r.nextInt(s.size()));
                    o.seg = o.seg.asReadOnly();
                }
                case FLAGS -> flags |= op == Op.JACOBIAN_MATMUL ? (r.nextBoolean() ? Panmax.FROM_LOGITS : Panmax.EXACT)
                        : op == Op.JACOBIAN ? (r.nextBoolean() ? Panmax.EXACT : 1 << (3 + r.nextInt(28)))
                        : (r.nextBoolean() ? Panmax.FROM_LOGITS : 1 << (3 + r.nextInt(28)));
                case TEMPERATURE -> {
                    double[] badT = {0, -0.0, -1, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY,
                        f64 ? Double.MIN_VALUE : Float.MIN_VALUE, f64 ? Double.MIN_NORMAL / 2 : Float.MIN_NORMAL / 2,
                        f64 ? Double.POSITIVE_INFINITY : 1e39};
                    temperature = badT[r.nextInt(badT.length)];
                }
                case SMOOTHING -> {
                    double[] badS = {-1e-9, -1, 1.0000001, 2, Double.NaN, Double.POSITIVE_INFINITY};
                    smoothing = badS[r.nextInt(badS.length)];
                }
                case OVERFLOW -> {
                    if (r.nextBoolean()) {
                        passedRows = Long.MAX_VALUE / (2 + r.nextInt(2)); // times 4 bytes overflows
                    } else {
                        List<Opnd> s = ops.stream().filter(o -> o.present && !o.fixedStride && !o.broadcast).toList();
                        Opnd o = s.get(r.nextInt(s.size()));
                        o.passedStride = (1L << 62) + r.nextInt(1000);
                        if (op == Op.JACOBIAN_MATMUL && o.name.equals("p")) {
                            passedRows = Long.MAX_VALUE / 4;
                        }
                    }
                    if (op == Op.JACOBIAN && r.nextBoolean()) {
                        passedRows = rows;
                        passedCols = (1L << 32) + r.nextInt(10);
                    }
                }
                default -> { }
            }
            if (bad == Bad.CLOSED) {
                pools.toClose.get(0).close();
            }
            // read-only views of inputs are valid
            for (Opnd o : ops) {
                if (o.present && !o.output && o.seg != null && r.nextInt(6) == 0 && bad != Bad.OVERLAP && !isAliased(o)) {
                    o.seg = o.seg.asReadOnly();
                }
            }
        }

        boolean isAliased(Opnd in) {
            for (Opnd o : ops) {
                if (o.aliasOf == in) {
                    return true;
                }
            }
            return false;
        }

        MemorySegment s(String name) {
            Opnd o = find(name);
            return o.present ? o.seg : null;
        }

        long st(String name) {
            return find(name).passedStride;
        }

        void invoke() {
            DType t = nullDType ? null : f64 ? DType.F64 : DType.F32;
            switch (op) {
                case SOFTMAX -> pm.softmax(t, s("x"), st("x"), s("y"), st("y"), passedRows, passedCols);
                case LOG_SOFTMAX -> pm.logSoftmax(t, s("x"), st("x"), s("y"), st("y"), passedRows, passedCols);
                case LOG_SUM_EXP -> pm.logSumExp(t, s("x"), st("x"), s("out"), passedRows, passedCols);
                case SOFTMAX_EX -> pm.softmaxEx(t, s("x"), st("x"), s("y"), st("y"), passedRows, passedCols, temperature,
                        s("mask"), st("mask"), s("bias"), st("bias"), flags);
                case BACKWARD -> pm.softmaxBackward(t, s("p"), st("p"), s("dy"), st("dy"), s("dx"), st("dx"), passedRows, passedCols);
                case LOG_BACKWARD -> pm.logSoftmaxBackward(t, s("logp"), st("logp"), s("dy"), st("dy"), s("dx"), st("dx"),
                        passedRows, passedCols);
                case LOG_JVP -> pm.logSoftmaxJvp(t, s("logp"), st("logp"), s("v"), st("v"), s("out"), st("out"), passedRows, passedCols);
                case JACOBIAN -> pm.jacobian(t, s("x"), st("x"), s("jac"), passedRows, passedCols, flags);
                case JACOBIAN_MATMUL -> pm.jacobianMatmul(t, s("p"), passedRows, s("v"), st("v"), s("out"), st("out"), passedCols, flags);
                case CE_LABELS -> pm.crossEntropy(t, s("logits"), st("logits"), s("labels"), null, 0, s("grad"), st("grad"),
                        s("loss"), passedRows, passedCols, ignoreIndex, smoothing, reduction);
                case CE_SOFT -> pm.crossEntropy(t, s("logits"), st("logits"), null, s("target"), st("target"), s("grad"),
                        st("grad"), s("loss"), passedRows, passedCols, ignoreIndex, smoothing, reduction);
            }
        }

        void check() {
            Map<MemorySegment, byte[]> snaps = new IdentityHashMap<>();
            for (Opnd o : ops) {
                if (o.present && o.whole != null && o.whole.scope().isAlive()) {
                    snaps.computeIfAbsent(o.whole, w -> w.toArray(ValueLayout.JAVA_BYTE));
                }
            }
            Throwable thrown = null;
            try {
                invoke();
            } catch (Throwable ex) {
                thrown = ex;
            }
            if (bad != Bad.NONE) {
                if (thrown == null) {
                    throw new AssertionFailedError("accepted an invalid call: " + where());
                }
                if (!expected(bad).isInstance(thrown) || thrown instanceof Error) {
                    throw new AssertionFailedError("threw " + thrown + " instead of " + expected(bad).getSimpleName() + ": "
                            + where(), thrown);
                }
                for (Map.Entry<MemorySegment, byte[]> en : snaps.entrySet()) {
                    byte[] now = en.getKey().toArray(ValueLayout.JAVA_BYTE);
                    if (!Arrays.equals(en.getValue(), now)) {
                        throw new AssertionFailedError("a rejected call (" + thrown + ") wrote into a buffer: " + where());
                    }
                }
                return;
            }
            if (thrown != null) {
                throw new AssertionFailedError("rejected a valid call: " + thrown + " " + where(), thrown);
            }
            // bytes outside the output elements: unchanged
            for (Map.Entry<MemorySegment, byte[]> en : snaps.entrySet()) {
                byte[] before = en.getValue();
                byte[] now = en.getKey().toArray(ValueLayout.JAVA_BYTE);
                boolean[] writable = new boolean[before.length];
                for (Opnd o : ops) {
                    if (o.present && o.output && o.whole == en.getKey()) {
                        int el = o.elem(e);
                        for (long rr = 0; rr < o.rows; rr++) {
                            for (long j = 0; j < o.cols; j++) {
                                long b = o.start + (rr * o.stride + j) * el;
                                Arrays.fill(writable, (int) b, (int) (b + el), true);
                            }
                        }
                    }
                }
                for (int i = 0; i < before.length; i++) {
                    if (!writable[i] && before[i] != now[i]) {
                        throw new AssertionFailedError("wrote byte " + i + " outside its output elements: " + where());
                    }
                }
            }
            reference();
        }

        // ------------------------------------------------------------------------------------------------
        // references (double)

        double in(String name, long rr, long j) {
            Opnd o = find(name);
            return o.vals[(int) (rr * o.stride + j)];
        }

        void expect(String name, long idx, double want, double scale) {
            double got = find(name).get(e, idx);
            double tol = (f64 ? 1e-9 : 2e-4) * (1 + Math.abs(want) + scale);
            boolean ok = Double.isNaN(want) ? Double.isNaN(got)
                    : Double.isInfinite(want) ? got == want : Math.abs(got - want) <= tol;
            if (!ok) {
                throw new AssertionFailedError(name + "[" + idx + "] = " + got + ", reference " + want + ": " + where());
            }
        }

        double[] row(String name, long rr) {
            double[] z = new double[(int) cols];
            for (int j = 0; j < cols; j++) {
                z[j] = in(name, rr, j);
            }
            return z;
        }

        void reference() {
            int c = (int) cols;
            switch (op) {
                case SOFTMAX, LOG_SOFTMAX -> {
                    for (long rr = 0; rr < rows; rr++) {
                        double[] p = Reference.softmax(row("x", rr), 1, op == Op.LOG_SOFTMAX);
                        for (int j = 0; j < c; j++) {
                            expect("y", rr * find("y").stride + j, p[j], 0);
                        }
                    }
                }
                case LOG_SUM_EXP -> {
                    for (long rr = 0; rr < rows; rr++) {
                        expect("out", rr, Reference.logSumExp(row("x", rr)), 0);
                    }
                }
                case SOFTMAX_EX -> {
                    Opnd mask = find("mask");
                    Opnd bias = find("bias");
                    for (long rr = 0; rr < rows; rr++) {
                        double[] z = new double[c];
                        for (int j = 0; j < c; j++) {
                            boolean keep = !mask.present || mask.vals[(int) (rr * mask.stride + j)] != 0;
                            double b = bias.present ? bias.vals[(int) (rr * bias.stride + j)] : 0;
                            z[j] = keep ? (in("x", rr, j) + b) / temperature : Double.NEGATIVE_INFINITY;
                        }
                        double[] p = Reference.softmax(z, 1, (flags & Panmax.LOG) != 0);
                        for (int j = 0; j < c; j++) {
                            expect("y", rr * find("y").stride + j, p[j], 0);
                        }
                    }
                }
                case BACKWARD, LOG_BACKWARD, LOG_JVP -> {
                    String[] nm = op == Op.BACKWARD ? new String[] {"p", "dy", "dx"}
                            : op == Op.LOG_BACKWARD ? new String[] {"logp", "dy", "dx"} : new String[] {"logp", "v", "out"};
                    for (long rr = 0; rr < rows; rr++) {
                        double[] a = row(nm[0], rr);
                        double[] b = row(nm[1], rr);
                        double[] want = switch (op) {
                            case BACKWARD -> Reference.softmaxBackward(a, b);
                            case LOG_BACKWARD -> Reference.logSoftmaxBackward(a, b);
                            default -> Reference.logSoftmaxJvp(a, b);
                        };
                        double scale = Math.abs(Reference.sum(b)) + c * 0.1;
                        for (int j = 0; j < c; j++) {
                            expect(nm[2], rr * find(nm[2]).stride + j, want[j], scale);
                        }
                    }
                }
                case JACOBIAN -> {
                    for (long rr = 0; rr < rows; rr++) {
                        double[] p = (flags & Panmax.FROM_LOGITS) != 0 ? Reference.softmax(row("x", rr), 1, false) : row("x", rr);
                        double[] jac = Reference.jacobian(p, (flags & Panmax.LOG) != 0);
                        for (int i = 0; i < c * c; i++) {
                            expect("jac", rr * c * c + i, jac[i], 0);
                        }
                    }
                }
                case JACOBIAN_MATMUL -> {
                    int n = (int) rows;
                    double[] p = new double[n];
                    double[][] v = new double[n][];
                    for (int i = 0; i < n; i++) {
                        p[i] = find("p").vals[i];
                        v[i] = row("v", i);
                    }
                    double[][] want = Reference.jacobianMatmul(p, v, (flags & Panmax.LOG) != 0);
                    for (int i = 0; i < n; i++) {
                        for (int kk = 0; kk < c; kk++) {
                            expect("out", (long) i * find("out").stride + kk, want[i][kk], n * 0.5);
                        }
                    }
                }
                case CE_LABELS, CE_SOFT -> ceReference();
            }
        }

        void ceReference() {
            int c = (int) cols;
            Opnd grad = find("grad");
            double[][] z = new double[(int) rows][];
            double[][] t = op == Op.CE_SOFT ? new double[(int) rows][] : null;
            long[] labels = op == Op.CE_LABELS ? new long[(int) rows] : null;
            for (int rr = 0; rr < rows; rr++) {
                z[rr] = row("logits", rr);
                if (labels != null) {
                    labels[rr] = (long) find("labels").vals[rr];
                } else {
                    t[rr] = row("target", rr);
                }
            }
            Reference.CrossEntropy want = Reference.crossEntropy(z, labels, t, null, smoothing, ignoreIndex, reduction);
            double lossScale = 40 * c; // losses of up to ~20 * cols; float sums
            switch (reduction) {
                case NONE -> {
                    for (int rr = 0; rr < rows; rr++) {
                        expect("loss", rr, want.loss()[rr], lossScale);
                    }
                }
                case SUM -> expect("loss", 0, want.loss()[0], lossScale * rows);
                case MEAN -> expect("loss", 0, want.loss()[0], lossScale);
            }
            if (grad.present) {
                for (int rr = 0; rr < rows; rr++) {
                    for (int j = 0; j < c; j++) {
                        expect("grad", (long) rr * grad.stride + j, want.grad()[rr][j], 1);
                    }
                }
            }
        }
    }
}
