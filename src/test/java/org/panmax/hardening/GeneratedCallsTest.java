package org.panmax.hardening;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
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
import org.panmax.CrossEntropyOptions;
import org.panmax.DType;
import org.panmax.JacobianOptions;
import org.panmax.Matrix;
import org.panmax.Panmax;
import org.panmax.Reduction;
import org.panmax.Reference;
import org.panmax.SoftmaxOptions;

/**
 * Seeded generated calls of every operation on every backend, through views ({@link Matrix}) and options records:
 * random shapes, strides, element offsets, broadcast rows, vectors as rows or columns, dtypes and buffer kinds
 * (heap arrays, heap segments over their own and over other array types, native, mapped file, read-only input
 * views), in-place use where documented, and one broken rule in about 40% of the calls.
 *
 * <p>A valid call is built first; an invalid one is that call with exactly one rule broken, so its documented
 * exception type and the step that must throw it are known: making a view ({@link Matrix#of}: negative rows, cols
 * 0, stride &lt; cols, out of bounds, negative offset, misaligned native segment, a heap segment whose array is
 * less aligned than the element type, overflowing size, closed arena), making the options record (non-finite or
 * non-positive temperature, smoothing outside [0, 1]), or the call (null, shape, element type, broadcast row where
 * none is allowed, read-only output, partial overlap, a read-only heap input overlapping an output of the same
 * array, arena closed after the views were made, subnormal or too large temperature, fromLogits where unsupported,
 * bad label, bad class weight). Every invalid call must throw that type at that step and leave every byte of every
 * buffer unchanged (guard zones included). Every valid call must match a plain double reference within loose bounds
 * and change no byte outside its output elements (poisoned guard zones before and after, and the gaps between rows).
 *
 * <p>-Dpanmax.seed=N replays a run; -Dpanmax.generated.calls=N sets the calls per operation and backend.
 */
class GeneratedCallsTest {
    static final long SEED = Long.getLong("panmax.seed", System.nanoTime());
    static final int CALLS = Integer.getInteger("panmax.generated.calls", 1500);
    static final byte POISON = (byte) 0xA5;
    static final int GUARD = 48;

    enum Op { SOFTMAX, LOG_SOFTMAX, LOG_SUM_EXP, SOFTMAX_EX, BACKWARD, LOG_BACKWARD, LOG_JVP, JACOBIAN, JACOBIAN_MATMUL,
        CE_LABELS, CE_SOFT, ROW }

    /** The step of a call that must reject a broken rule. */
    enum Step { VIEW, OPTIONS, CALL }

    enum Bad {
        NONE(null),
        // rejected by Matrix.of when the view is made
        NEG_ROWS(Step.VIEW), COLS0(Step.VIEW), STRIDE(Step.VIEW), OUT_OF_BOUNDS(Step.VIEW), NEG_OFFSET(Step.VIEW),
        MISALIGNED(Step.VIEW), UNDER_ALIGNED(Step.VIEW), OVERFLOW(Step.VIEW), CLOSED_BEFORE(Step.VIEW),
        // rejected by the call (TEMPERATURE and SMOOTHING partly by the options record)
        NULL(Step.CALL), SHAPE(Step.CALL), DTYPE(Step.CALL), BROADCAST(Step.CALL), READ_ONLY_OUT(Step.CALL),
        OVERLAP(Step.CALL), HIDDEN_OVERLAP(Step.CALL), CLOSED_AFTER(Step.CALL), TEMPERATURE(Step.CALL),
        OPTIONS(Step.CALL), LABEL(Step.CALL), SMOOTHING(Step.OPTIONS), WEIGHT(Step.CALL);

        final Step step;

        Bad(Step step) {
            this.step = step;
        }
    }

    /**
     * Where an operand lives: a view of a heap array, a heap segment of an array of its own type, a heap segment of
     * an array of another type (int[] for F32, long[] or double[] for anything: as aligned as the element), native,
     * a file mapping.
     */
    enum Kind { ARRAY, HEAP, OTHER_HEAP, NATIVE, MAPPED }

    static Class<? extends Throwable> expected(Bad b) {
        return switch (b) {
            case NULL -> NullPointerException.class;
            case CLOSED_BEFORE, CLOSED_AFTER -> IllegalStateException.class;
            case OUT_OF_BOUNDS, NEG_OFFSET -> IndexOutOfBoundsException.class;
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
        Map<Kind, Integer> kinds = new EnumMap<>(Kind.class);
        long t0 = System.nanoTime();
        try (Arena runArena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            Pools pools = new Pools(runArena.allocate(1 << 21, 64), ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 21, runArena));
            for (Op op : Op.values()) {
                SplittableRandom r = new SplittableRandom(SEED ^ (backend.hashCode() * 31L + op.ordinal()));
                for (int c = 0; c < CALLS; c++) {
                    Gen g = Gen.run(pm, op, r.nextLong(), pools);
                    counts.merge(g.bad, 1, Integer::sum);
                    for (Opnd o : g.ops) {
                        if (o.present && o.kind != null) {
                            kinds.merge(o.kind, 1, Integer::sum);
                        }
                    }
                }
            }
        } finally {
            Files.deleteIfExists(file);
        }
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        System.out.printf("[panmax] generated calls on %s: %d (%d ops x %d) in %.1f s; by class %s; operands by kind %s%n",
                backend, total, Op.values().length, CALLS, (System.nanoTime() - t0) / 1e9, counts, kinds);
        assertTrue(counts.getOrDefault(Bad.NONE, 0) > total / 3, "too few valid calls: " + counts);
        for (Bad b : Bad.values()) {
            assertTrue(counts.getOrDefault(b, 0) > 0, "class never generated: " + b + " " + counts);
        }
        for (Kind k : Kind.values()) {
            assertTrue(kinds.getOrDefault(k, 0) > 0, "kind never generated: " + k + " " + kinds);
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
                Bad want = f.length > 3 ? Bad.valueOf(f[3]) : null;
                List<String> on = f[0].equals("*") ? Panmax.backends()
                        : Panmax.backends().contains(f[0]) ? List.of(f[0]) : List.of();
                for (String b : on) {
                    tests.add(DynamicTest.dynamicTest(b + " " + op + " " + seed, () -> {
                        Bad got = replay(b, op, seed);
                        if (want != null && got != want) {
                            throw new AssertionFailedError("seed " + seed + " now generates " + got + ", not " + want
                                    + ": the generator changed; find a new seed for this case");
                        }
                    }));
                }
            }
        }
        assertTrue(!tests.isEmpty(), "no regression case applies to this machine");
        return tests.stream();
    }

    /** Replays one call (as printed by a failure) and rethrows what it found; returns its class. */
    static Bad replay(String backend, Op op, long callSeed) throws IOException {
        Path file = Files.createTempFile("panmax-gen", ".bin");
        try (Arena a = Arena.ofConfined(); FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            return Gen.run(Panmax.backend(backend), op, callSeed,
                    new Pools(a.allocate(1 << 21, 64), ch.map(FileChannel.MapMode.READ_WRITE, 0, 1 << 21, a))).bad;
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Native and mapped memory carved per call (reset each call). */
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

        MemorySegment carve(boolean map, long bytes) {
            long n = (bytes + 63) & ~63L;
            if (map && mapAt + n <= mapped.byteSize()) {
                MemorySegment m = mapped.asSlice(mapAt, n);
                mapAt += n;
                return m;
            }
            if (natAt + n > nat.byteSize()) {
                throw new IllegalStateException("native pool exhausted: " + bytes + " bytes");
            }
            MemorySegment s = nat.asSlice(natAt, n);
            natAt += n;
            return s;
        }
    }

    static int size(DType t) {
        return t.bytes();
    }

    /** One view argument (matrix or vector). */
    static final class Opnd {
        final String name;
        DType type;
        final boolean output;
        final boolean broadcastOk;
        final boolean vector;
        final boolean fixedStride;
        final String values; // how inputs are filled
        long rows;
        long cols;
        long stride;
        long offset; // element offset passed to Matrix.of (segments: within the slice)
        // what is passed to Matrix.of (differs from the above only for the view-rule classes)
        long pRows;
        long pCols;
        long pStride;
        long pOffset;
        Kind kind;
        boolean readOnly;
        boolean present = true;
        boolean nullView;
        MemorySegment whole; // the whole buffer with its guard zones (arrays: their heap segment)
        Object array;        // ARRAY kind: the array; heap kinds: the array under the segment
        long base;           // byte offset of element (0, 0) in whole
        MemorySegment slice; // segment kinds: what Matrix.of receives
        double[] vals;       // input values by element index r * stride + j
        Opnd aliasOf;        // exact in-place: the same memory as this input
        Arena arena;         // a closable arena of its own (CLOSED_*)

        Opnd(String name, DType type, boolean output, boolean broadcastOk, boolean vector, boolean fixedStride,
             String values) {
            this.name = name;
            this.type = type;
            this.output = output;
            this.broadcastOk = broadcastOk;
            this.vector = vector;
            this.fixedStride = fixedStride;
            this.values = values;
        }

        int el() {
            return size(type);
        }

        long span() {
            return rows <= 0 ? 0 : (rows - 1) * stride + cols;
        }

        long index(long r, long j) {
            return r * stride + j;
        }

        ValueLayout layout() {
            return switch (type) {
                case F32 -> ValueLayout.JAVA_FLOAT_UNALIGNED;
                case F64 -> ValueLayout.JAVA_DOUBLE_UNALIGNED;
                case I64 -> ValueLayout.JAVA_LONG_UNALIGNED;
                case U8 -> ValueLayout.JAVA_BYTE;
            };
        }

        double get(long i) {
            long at = base + i * el();
            return switch (type) {
                case F32 -> whole.get(ValueLayout.JAVA_FLOAT_UNALIGNED, at);
                case F64 -> whole.get(ValueLayout.JAVA_DOUBLE_UNALIGNED, at);
                case I64 -> whole.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
                case U8 -> whole.get(ValueLayout.JAVA_BYTE, at);
            };
        }

        void set(long i, double v) {
            long at = base + i * el();
            switch (type) {
                case F32 -> whole.set(ValueLayout.JAVA_FLOAT_UNALIGNED, at, (float) v);
                case F64 -> whole.set(ValueLayout.JAVA_DOUBLE_UNALIGNED, at, v);
                case I64 -> whole.set(ValueLayout.JAVA_LONG_UNALIGNED, at, (long) v);
                case U8 -> whole.set(ValueLayout.JAVA_BYTE, at, (byte) v);
            }
        }

        boolean heapMemory() {
            return kind == Kind.ARRAY || kind == Kind.HEAP || kind == Kind.OTHER_HEAP;
        }

        /** Makes the view as a user would (throws what Matrix.of throws). */
        Matrix view() {
            if (nullView || !present) {
                return null;
            }
            if (kind == Kind.ARRAY) {
                return switch (type) {
                    case F32 -> Matrix.of((float[]) array, pOffset, pRows, pCols, pStride);
                    case F64 -> Matrix.of((double[]) array, pOffset, pRows, pCols, pStride);
                    case I64 -> Matrix.of((long[]) array, pOffset, pRows, pCols, pStride);
                    case U8 -> Matrix.of((byte[]) array, pOffset, pRows, pCols, pStride);
                };
            }
            return Matrix.of(type, readOnly ? slice.asReadOnly() : slice, pOffset, pRows, pCols, pStride);
        }

        String describe() {
            if (!present) {
                return name + "=absent";
            }
            return name + "{" + type + " " + pRows + "x" + pCols + " stride=" + pStride + " offset=" + pOffset + " " + kind
                    + (array != null ? "(" + array.getClass().getSimpleName() + ")" : "") + (readOnly ? " ro" : "")
                    + (nullView ? " null" : "") + (aliasOf != null ? " inplace:" + aliasOf.name : "") + "}";
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
        DType ft;
        long rows;
        long cols; // jacobianMatmul: rows = n, cols = k
        boolean log;
        boolean exact;
        boolean fromLogits;
        double temperature = 1;
        long ignoreIndex = -100;
        double smoothing;
        Reduction reduction = Reduction.NONE;
        boolean nullOptions;
        int rowMode; // ROW: 0 softmax, 1 log-softmax, 2 backward
        int weightVariant; // WEIGHT: 0 length, 1 type, 2 a bad value
        Bad bad = Bad.NONE;
        Step expectedStep;
        Step step;
        final List<Opnd> ops = new ArrayList<>();
        final List<Opnd[]> overlapPairs = new ArrayList<>();
        final List<Opnd[]> inPlacePairs = new ArrayList<>();
        Opnd closing;

        Gen(Panmax pm, Op op, long seed, Pools pools) {
            this.pm = pm;
            this.op = op;
            this.seed = seed;
            this.r = new SplittableRandom(seed);
            this.pools = pools;
        }

        static Gen run(Panmax pm, Op op, long seed, Pools pools) {
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
                        // the CLOSED cases closed it already
                    }
                }
                pools.toClose.clear();
            }
            return g;
        }

        String where() {
            StringBuilder sb = new StringBuilder(pm.name() + " " + op + " " + bad + " " + ft + " rows=" + rows + " cols="
                    + cols);
            switch (op) {
                case SOFTMAX_EX -> sb.append(" T=").append(temperature).append(" log=").append(log).append(" exact=").append(exact);
                case JACOBIAN, JACOBIAN_MATMUL -> sb.append(" log=").append(log).append(" fromLogits=").append(fromLogits);
                case CE_LABELS, CE_SOFT -> sb.append(" ignore=").append(ignoreIndex).append(" smoothing=").append(smoothing)
                        .append(' ').append(reduction);
                case ROW -> sb.append(" mode=").append(rowMode);
                default -> { }
            }
            for (Opnd o : ops) {
                sb.append(' ').append(o.describe());
            }
            return sb + (step != null ? " thrown at " + step : "") + " [replay: GeneratedCallsTest.replay(\"" + pm.name()
                    + "\", Op." + op + ", " + seed + "L)]";
        }

        Opnd add(String name, DType type, boolean output, boolean broadcastOk, String values, long rows, long cols) {
            Opnd o = new Opnd(name, type, output, broadcastOk, false, false, values);
            o.rows = rows;
            o.cols = cols;
            o.stride = cols;
            if (r.nextInt(3) == 0) {
                o.stride = cols + 1 + r.nextInt(5);
            }
            if (broadcastOk && r.nextInt(4) == 0) {
                o.stride = 0; // one row for every row
            }
            ops.add(o);
            return o;
        }

        /** A contiguous vector of n elements: one row, or (at random) one column of stride 1. */
        Opnd vector(String name, DType type, boolean output, String values, long n) {
            Opnd o = new Opnd(name, type, output, false, true, true, values);
            boolean column = n == 0 || r.nextBoolean();
            o.rows = column ? n : 1;
            o.cols = column ? 1 : n;
            o.stride = column ? 1 : n;
            ops.add(o);
            return o;
        }

        /** A matrix whose stride is fixed (the Jacobian's contiguous output). */
        Opnd fixed(String name, DType type, boolean output, long rows, long cols) {
            Opnd o = new Opnd(name, type, output, false, false, true, "");
            o.rows = rows;
            o.cols = cols;
            o.stride = cols;
            ops.add(o);
            return o;
        }

        Opnd find(String name) {
            for (Opnd o : ops) {
                if (o.name.equals(name)) {
                    return o;
                }
            }
            throw new IllegalStateException(name);
        }

        <T> T pick(List<T> l) {
            return l.get(r.nextInt(l.size()));
        }

        void build() {
            f64 = r.nextBoolean();
            ft = f64 ? DType.F64 : DType.F32;
            rows = r.nextInt(12) == 0 ? 0 : 1 + r.nextInt(5);
            int maxCols = op == Op.JACOBIAN ? 12 : 48;
            cols = 1 + (r.nextInt(4) == 0 ? r.nextInt(3) : r.nextInt(maxCols));
            if (op == Op.ROW) {
                buildRow();
                return;
            }
            List<Bad> classes = new ArrayList<>(List.of(Bad.NEG_ROWS, Bad.COLS0, Bad.STRIDE, Bad.OUT_OF_BOUNDS,
                    Bad.NEG_OFFSET, Bad.MISALIGNED, Bad.UNDER_ALIGNED, Bad.OVERFLOW, Bad.CLOSED_BEFORE, Bad.NULL, Bad.SHAPE,
                    Bad.DTYPE, Bad.BROADCAST, Bad.READ_ONLY_OUT, Bad.OVERLAP, Bad.HIDDEN_OVERLAP, Bad.CLOSED_AFTER));
            switch (op) {
                case SOFTMAX_EX -> classes.add(Bad.TEMPERATURE);
                case JACOBIAN_MATMUL -> classes.add(Bad.OPTIONS);
                case CE_LABELS -> classes.addAll(List.of(Bad.LABEL, Bad.SMOOTHING, Bad.WEIGHT));
                case CE_SOFT -> classes.addAll(List.of(Bad.SMOOTHING, Bad.WEIGHT));
                default -> { }
            }
            if (r.nextInt(5) < 2) {
                bad = pick(classes);
            }
            expectedStep = bad.step;
            if (bad != Bad.NONE && bad != Bad.NEG_ROWS && bad != Bad.COLS0) {
                rows = Math.max(rows, bad == Bad.OVERFLOW ? 3 : 1);
            }
            if (bad == Bad.OVERLAP || bad == Bad.HIDDEN_OVERLAP || bad == Bad.STRIDE || bad == Bad.BROADCAST
                    || bad == Bad.SHAPE) {
                cols = Math.max(cols, 2);
                rows = Math.max(rows, 2); // partial overlaps need 2 elements; a broadcast needs 2 rows
            }
            shapes();
            preMutate();
            allocate();
            fill();
            postMutate();
        }

        void shapes() {
            switch (op) {
                case SOFTMAX, LOG_SOFTMAX -> {
                    Opnd x = add("x", ft, false, false, "logits", rows, cols);
                    Opnd y = add("y", ft, true, false, "", rows, cols);
                    overlapPairs.add(new Opnd[] {y, x});
                    inPlacePairs.add(new Opnd[] {y, x});
                }
                case LOG_SUM_EXP -> {
                    Opnd x = add("x", ft, false, false, "logits", rows, cols);
                    Opnd out = vector("out", ft, true, "", rows);
                    overlapPairs.add(new Opnd[] {out, x});
                }
                case SOFTMAX_EX -> {
                    Opnd x = add("x", ft, false, false, "logits", rows, cols);
                    Opnd y = add("y", ft, true, false, "", rows, cols);
                    Opnd mask = add("mask", DType.U8, false, true, "mask", rows, cols);
                    Opnd bias = add("bias", ft, false, true, "bias", rows, cols);
                    mask.present = r.nextBoolean();
                    bias.present = r.nextBoolean();
                    overlapPairs.add(new Opnd[] {y, x});
                    if (bias.present) {
                        overlapPairs.add(new Opnd[] {y, bias});
                    }
                    inPlacePairs.add(new Opnd[] {y, x});
                    log = r.nextBoolean();
                    exact = r.nextBoolean();
                    temperature = switch (r.nextInt(4)) {
                        case 0 -> 1;
                        case 1 -> f64 ? 1e-300 : 1e-30; // tiny: large logits / T, still finite outputs
                        default -> 0.25 + r.nextDouble() * 4;
                    };
                    if (!f64) {
                        temperature = (float) temperature;
                    }
                }
                case BACKWARD, LOG_BACKWARD, LOG_JVP -> {
                    String[] nm = names();
                    Opnd a = add(nm[0], ft, false, false, op == Op.BACKWARD ? "prob" : "logp", rows, cols);
                    Opnd b = add(nm[1], ft, false, false, "grad", rows, cols);
                    Opnd o = add(nm[2], ft, true, false, "", rows, cols);
                    overlapPairs.add(new Opnd[] {o, a});
                    overlapPairs.add(new Opnd[] {o, b});
                    inPlacePairs.add(new Opnd[] {o, a});
                    inPlacePairs.add(new Opnd[] {o, b});
                }
                case JACOBIAN -> {
                    log = r.nextBoolean();
                    fromLogits = r.nextBoolean();
                    Opnd x = add("x", ft, false, false, fromLogits ? "logits" : "prob", rows, cols);
                    Opnd jac = fixed("jac", ft, true, rows * cols, cols);
                    overlapPairs.add(new Opnd[] {jac, x});
                }
                case JACOBIAN_MATMUL -> {
                    rows = Math.max(rows, 1); // n >= 1
                    cols = 1 + r.nextInt(6); // k
                    if (bad == Bad.OVERLAP || bad == Bad.HIDDEN_OVERLAP || bad == Bad.STRIDE || bad == Bad.BROADCAST) {
                        cols = Math.max(cols, 2);
                    }
                    log = r.nextBoolean();
                    Opnd p = vector("p", ft, false, "prob", rows);
                    Opnd v = add("v", ft, false, false, "grad", rows, cols);
                    Opnd out = add("out", ft, true, false, "", rows, cols);
                    overlapPairs.add(new Opnd[] {out, p});
                    overlapPairs.add(new Opnd[] {out, v});
                }
                case CE_LABELS, CE_SOFT -> {
                    reduction = Reduction.values()[r.nextInt(3)];
                    smoothing = r.nextInt(3) == 0 ? 0 : r.nextDouble();
                    if (!f64) {
                        smoothing = (float) smoothing;
                    }
                    Opnd x = add("logits", ft, false, false, "logits", rows, cols);
                    if (op == Op.CE_LABELS) {
                        ignoreIndex = switch (r.nextInt(4)) {
                            case 0 -> -1;
                            case 1 -> cols - 1;
                            default -> -100;
                        };
                    }
                    Opnd t = op == Op.CE_LABELS ? vector("targets", DType.I64, false, "labels", rows)
                            : add("targets", ft, false, false, "target", rows, cols);
                    Opnd grad = add("grad", ft, true, false, "", rows, cols);
                    grad.present = r.nextInt(4) != 0;
                    Opnd loss = vector("loss", ft, true, "", reduction == Reduction.NONE ? rows : 1);
                    Opnd w = vector("weight", ft, false, "weight", cols);
                    w.present = bad == Bad.WEIGHT || r.nextInt(3) == 0;
                    if (grad.present) {
                        overlapPairs.add(new Opnd[] {grad, x});
                        overlapPairs.add(new Opnd[] {grad, t});
                        overlapPairs.add(new Opnd[] {loss, grad});
                        inPlacePairs.add(new Opnd[] {grad, x});
                        if (w.present) {
                            overlapPairs.add(new Opnd[] {grad, w});
                        }
                    }
                    overlapPairs.add(new Opnd[] {loss, x});
                    overlapPairs.add(new Opnd[] {loss, t});
                    if (w.present) {
                        overlapPairs.add(new Opnd[] {loss, w});
                    }
                }
                default -> throw new IllegalStateException(op.toString());
            }
            for (Opnd o : ops) {
                o.kind = Kind.values()[r.nextInt(Kind.values().length)];
            }
        }

        String[] names() {
            return op == Op.BACKWARD ? new String[] {"p", "dy", "dx"}
                    : op == Op.LOG_BACKWARD ? new String[] {"logp", "dy", "dx"} : new String[] {"logp", "v", "out"};
        }

        List<Opnd> present() {
            return ops.stream().filter(o -> o.present).toList();
        }

        /** The classes broken in the view's description itself, decided before the memory is laid out. */
        void preMutate() {
            switch (bad) {
                case SHAPE -> {
                    // any operand but the first (whose shape every other one must follow)
                    Opnd o = pick(present().subList(1, present().size()));
                    if (o.vector && o.rows > 1 && r.nextBoolean()) {
                        o.stride = 2; // a column with a gap is no vector
                    } else if (o.vector) {
                        long n = Math.max(o.rows, o.cols) + 1;
                        o.rows = o.rows > 1 || o.cols == 1 ? n : 1;
                        o.cols = o.rows == 1 ? n : 1;
                        o.stride = o.rows == 1 ? n : 1;
                    } else if (r.nextBoolean() || o.stride == 0) {
                        o.cols++;
                        o.stride = o.stride == 0 ? 0 : Math.max(o.stride, o.cols);
                    } else {
                        o.rows++;
                    }
                }
                case DTYPE -> {
                    List<Opnd> s = present().subList(1, present().size()).stream()
                            .filter(o -> o.type != DType.I64).toList();
                    Opnd o = pick(s);
                    o.type = o.type == DType.U8 ? ft : o.type == DType.F32 ? DType.F64 : DType.F32; // mask: a float
                }
                case BROADCAST -> {
                    List<Opnd> s = present().stream().filter(o -> !o.broadcastOk && !o.vector && o.rows >= 2).toList();
                    Opnd o = pick(s);
                    o.stride = 0;
                }
                case WEIGHT -> {
                    weightVariant = r.nextInt(3);
                    Opnd w = find("weight");
                    if (weightVariant == 0) { // one weight too many
                        w.rows = w.rows == 1 ? 1 : w.rows + 1;
                        w.cols = w.rows == 1 ? w.cols + 1 : 1;
                        w.stride = w.rows == 1 ? w.cols : 1;
                    } else if (weightVariant == 1) { // not the logits' type
                        w.type = f64 ? DType.F32 : DType.F64;
                    }
                }
                default -> { }
            }
        }

        /** A fresh heap array of the element type, or of another type as aligned (OTHER_HEAP), of {@code bytes}. */
        Object heapArray(Kind kind, DType type, long bytes) {
            int n8 = (int) ((bytes + 7) / 8);
            if (kind == Kind.OTHER_HEAP) {
                int c = r.nextInt(3);
                return switch (type) {
                    case F32 -> c == 0 ? new int[n8 * 2] : c == 1 ? new long[n8] : new double[n8];
                    case F64, I64 -> c == 0 && type == DType.I64 ? new double[n8] : new long[n8];
                    case U8 -> c == 0 ? new int[n8 * 2] : new float[n8 * 2];
                };
            }
            return switch (type) {
                case F32 -> new float[n8 * 2];
                case F64 -> new double[n8];
                case I64 -> new long[n8];
                case U8 -> new byte[n8 * 8];
            };
        }

        static MemorySegment heapSegment(Object a) {
            return switch (a) {
                case float[] f -> MemorySegment.ofArray(f);
                case double[] d -> MemorySegment.ofArray(d);
                case long[] l -> MemorySegment.ofArray(l);
                case int[] i -> MemorySegment.ofArray(i);
                case short[] s -> MemorySegment.ofArray(s);
                case char[] c -> MemorySegment.ofArray(c);
                case byte[] b -> MemorySegment.ofArray(b);
                case ByteBuffer bb -> MemorySegment.ofBuffer(bb);
                default -> throw new IllegalArgumentException(String.valueOf(a));
            };
        }

        void allocate() {
            Opnd[] overlap = bad == Bad.OVERLAP || bad == Bad.HIDDEN_OVERLAP ? pick(overlapPairs) : null;
            Opnd[] inPlace = bad == Bad.NONE && !inPlacePairs.isEmpty() && r.nextInt(5) == 0 ? pick(inPlacePairs) : null;
            if (inPlace != null) {
                Opnd out = inPlace[0];
                Opnd in = inPlace[1];
                if (!in.present || !out.present) {
                    inPlace = null;
                } else {
                    out.stride = in.stride; // exact: same start, same stride
                }
            }
            if (overlap != null) {
                Opnd in = overlap[1];
                if (bad == Bad.HIDDEN_OVERLAP) {
                    // the input reached through a read-only heap segment, the output through the same array
                    in.kind = r.nextBoolean() ? Kind.HEAP : Kind.OTHER_HEAP;
                    in.readOnly = true;
                    overlap[0].kind = r.nextBoolean() ? Kind.HEAP : Kind.ARRAY;
                }
            }
            if (bad == Bad.CLOSED_BEFORE || bad == Bad.CLOSED_AFTER) {
                List<Opnd> s = present().stream().filter(o -> overlap == null || o != overlap[0]).toList();
                closing = pick(s);
                closing.kind = Kind.NATIVE;
            }
            for (Opnd o : ops) {
                if (!o.present || (overlap != null && o == overlap[0]) || (inPlace != null && o == inPlace[0])) {
                    continue;
                }
                int el = o.el();
                long bytes = o.span() * el;
                long extraOut = overlap != null && o == overlap[1]
                        ? Math.max(overlap[0].el(), el) + overlap[0].span() * overlap[0].el() : 0;
                long payload = Math.max(bytes, extraOut) + 2L * el + 16; // slack for element offsets and shifts
                long total = payload + 2L * GUARD;
                o.offset = r.nextInt(3) == 0 ? 1 + r.nextInt(2) : 0; // element offset within what Matrix.of gets
                if (o == closing) {
                    o.arena = Arena.ofShared();
                    pools.toClose.add(o.arena);
                    o.whole = o.arena.allocate(total, 16);
                } else if (o.kind == Kind.NATIVE || o.kind == Kind.MAPPED) {
                    o.whole = pools.carve(o.kind == Kind.MAPPED, total);
                } else {
                    o.array = heapArray(o.kind, o.type, total);
                    o.whole = heapSegment(o.array);
                }
                o.whole.fill(POISON);
                long lead = GUARD + (long) r.nextInt(3) * el; // where the slice (or the array view) starts
                o.base = lead + o.offset * el;
                if (o.kind == Kind.ARRAY) {
                    o.offset = o.base / el;
                } else {
                    long len = (o.offset + o.span()) * el + (r.nextInt(3) == 0 ? (long) r.nextInt(2) * el : 0);
                    o.slice = o.whole.asSlice(lead, len);
                }
            }
            if (inPlace != null) {
                share(inPlace[0], inPlace[1], 0);
                inPlace[0].aliasOf = inPlace[1];
            }
            if (overlap != null) {
                // one element further on (the larger element of the two): a partial overlap
                share(overlap[0], overlap[1], Math.max(overlap[0].el(), overlap[1].el()));
            }
            for (Opnd o : ops) {
                o.pRows = o.rows;
                o.pCols = o.cols;
                o.pStride = o.stride;
                o.pOffset = o.offset;
            }
        }

        /** out gets the memory of in, {@code shift} bytes after in's element (0, 0), through its own kind of view. */
        void share(Opnd out, Opnd in, long shift) {
            out.whole = in.whole;
            out.array = in.array;
            out.arena = in.arena;
            out.base = in.base + shift;
            boolean sameArrayType = in.array != null && switch (out.type) {
                case F32 -> in.array instanceof float[];
                case F64 -> in.array instanceof double[];
                case I64 -> in.array instanceof long[];
                case U8 -> in.array instanceof byte[];
            };
            if (in.array == null) {
                out.kind = in.kind;
            } else if (!sameArrayType || out.kind != Kind.ARRAY) {
                out.kind = Kind.HEAP; // a heap segment of the same array
            }
            if (out.kind == Kind.ARRAY) {
                out.offset = out.base / out.el();
            } else {
                out.offset = 0;
                out.slice = in.whole.asSlice(out.base, out.span() * out.el());
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
                case "weight" -> 0.1 + r.nextDouble() * 3;
                default -> 0;
            };
        }

        void fill() {
            for (Opnd o : ops) {
                if (!o.present || o.output || o.whole == null) {
                    continue;
                }
                o.vals = new double[(int) Math.max(o.span(), 0)];
                for (long rr = 0; rr < o.rows; rr++) {
                    for (long j = 0; j < o.cols; j++) {
                        long i = o.index(rr, j);
                        double v = value(o.values);
                        if (o.values.equals("logits") && (op == Op.CE_LABELS || op == Op.CE_SOFT) && v == Double.NEGATIVE_INFINITY) {
                            v = -30; // -inf logits make CE losses infinite; the rules there are NumbersTest's
                        }
                        o.set(i, v);
                        o.vals[(int) i] = o.get(i); // as stored (rounded to float)
                    }
                }
            }
            if (bad == Bad.LABEL) {
                Opnd labels = find("targets");
                long v = switch (r.nextInt(4)) {
                    case 0 -> cols;
                    case 1 -> ignoreIndex == -1 ? -2 : -1;
                    case 2 -> Long.MAX_VALUE;
                    default -> Long.MIN_VALUE;
                };
                if (v == ignoreIndex) {
                    v = cols + 1;
                }
                labels.set(r.nextInt((int) rows), v);
            }
            if (bad == Bad.WEIGHT && weightVariant == 2) {
                Opnd w = find("weight");
                double[] badW = {-1, -1e-30, -Float.MIN_VALUE, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
                w.set(r.nextInt((int) cols), badW[r.nextInt(badW.length)]);
            }
        }

        /** The classes broken in what is passed, after the memory is laid out and filled. */
        void postMutate() {
            switch (bad) {
                case NULL -> {
                    List<Opnd> req = present().stream().filter(o -> !List.of("mask", "bias", "grad", "weight")
                            .contains(o.name)).toList();
                    boolean hasOptions = op == Op.SOFTMAX_EX || op == Op.JACOBIAN || op == Op.JACOBIAN_MATMUL
                            || op == Op.CE_LABELS || op == Op.CE_SOFT;
                    int pick = r.nextInt(req.size() + (hasOptions ? 1 : 0));
                    if (pick == req.size()) {
                        nullOptions = true;
                    } else {
                        req.get(pick).nullView = true;
                    }
                }
                case NEG_ROWS -> pick(present()).pRows = -1 - r.nextInt(3);
                case COLS0 -> pick(present()).pCols = -r.nextInt(2);
                case STRIDE -> {
                    Opnd o = pick(present().stream().filter(x -> x.cols > 1 || x.rows > 1).toList());
                    o.pStride = o.cols > 1 && r.nextBoolean() ? 1 + r.nextInt((int) o.cols - 1) : -1 - r.nextInt(3);
                    if (o.pStride >= o.cols) {
                        o.pStride = -1;
                    }
                }
                case OUT_OF_BOUNDS -> {
                    Opnd o = pick(present().stream().filter(x -> x.span() > 0).toList());
                    if (o.kind == Kind.ARRAY) {
                        long length = o.whole.byteSize() / o.el();
                        o.pOffset = length - o.span() + 1 + r.nextInt(3);
                    } else {
                        long need = (o.offset + o.span()) * o.el();
                        o.slice = o.whole.asSlice(o.base - o.offset * o.el(), need - 1 - r.nextInt(o.el()));
                    }
                }
                case NEG_OFFSET -> pick(present()).pOffset = -1 - r.nextInt(3);
                case MISALIGNED -> {
                    List<Opnd> s = present().stream().filter(o -> o.el() > 1 && o.aliasOf == null).toList();
                    Opnd o = pick(s);
                    if (o.kind != Kind.NATIVE && o.kind != Kind.MAPPED) {
                        o.kind = Kind.NATIVE;
                        o.array = null;
                        o.whole = pools.carve(false, o.whole.byteSize() + 64);
                        o.whole.fill(POISON);
                    }
                    long shift = 1 + r.nextInt(o.el() - 1);
                    o.slice = o.whole.asSlice(o.base - o.offset * o.el() + shift, (o.offset + o.span()) * o.el());
                }
                case UNDER_ALIGNED -> {
                    List<Opnd> s = present().stream().filter(o -> o.el() > 1 && o.aliasOf == null).toList();
                    Opnd o = pick(s);
                    long bytes = o.whole.byteSize();
                    int n = (int) bytes;
                    Object a = switch (o.type == DType.F32 ? r.nextInt(4) : r.nextInt(5)) {
                        case 0 -> new byte[n];
                        case 1 -> new short[(n + 1) / 2];
                        case 2 -> new char[(n + 1) / 2];
                        case 3 -> ByteBuffer.allocate(n);
                        default -> o.type == DType.F64 && r.nextBoolean() ? new float[(n + 3) / 4] : new int[(n + 3) / 4];
                    };
                    o.kind = Kind.OTHER_HEAP;
                    o.array = a;
                    o.whole = heapSegment(a);
                    o.whole.fill(POISON);
                    o.slice = o.whole.asSlice(o.base - o.offset * o.el(), (o.offset + o.span()) * o.el());
                }
                case OVERFLOW -> {
                    Opnd o = pick(present().stream().filter(x -> x.rows >= 3).toList());
                    if (r.nextBoolean()) {
                        o.pRows = Long.MAX_VALUE / 2 - r.nextInt(1000); // (rows - 1) x stride overflows
                        o.pStride = Math.max(o.pStride, 3);
                    } else {
                        o.pStride = Long.MAX_VALUE / 2 + r.nextInt(1000); // >= 2 more rows overflow
                    }
                }
                case READ_ONLY_OUT -> {
                    Opnd o = pick(present().stream().filter(x -> x.output).toList());
                    if (o.kind == Kind.ARRAY) {
                        o.kind = Kind.HEAP;
                        o.slice = o.whole.asSlice(o.base, o.span() * o.el());
                        o.pOffset = o.offset = 0;
                    }
                    o.readOnly = true;
                }
                case TEMPERATURE -> {
                    double[] byRecord = {0, -0.0, -1, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
                    double[] byCall = f64 ? new double[] {Double.MIN_VALUE, Double.MIN_NORMAL / 2}
                            : new double[] {Float.MIN_VALUE, Float.MIN_NORMAL / 2, 1e39, Double.MAX_VALUE};
                    if (r.nextBoolean()) {
                        temperature = byRecord[r.nextInt(byRecord.length)];
                        expectedStep = Step.OPTIONS;
                    } else {
                        temperature = byCall[r.nextInt(byCall.length)];
                    }
                }
                case OPTIONS -> fromLogits = true;
                case SMOOTHING -> {
                    double[] badS = {-1e-9, -1, 1.0000001, 2, Double.NaN, Double.POSITIVE_INFINITY};
                    smoothing = badS[r.nextInt(badS.length)];
                }
                default -> { }
            }
            if (bad == Bad.CLOSED_BEFORE) {
                closing.arena.close();
            }
            // Read-only views of inputs are valid, except a heap one whose range meets a heap output's (panmax
            // cannot tell arrays apart through a read-only heap segment, and rejects that: HIDDEN_OVERLAP).
            for (Opnd o : ops) {
                if (o.present && !o.output && o.kind != Kind.ARRAY && o.slice != null && r.nextInt(6) == 0
                        && bad != Bad.OVERLAP && bad != Bad.HIDDEN_OVERLAP && !isAliased(o) && !meetsHeapOutput(o)) {
                    o.readOnly = true;
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

        /** Whether a heap input's byte range (offset in its array) meets that of a heap output (any array). */
        boolean meetsHeapOutput(Opnd in) {
            if (!in.heapMemory()) {
                return false;
            }
            for (Opnd o : ops) {
                if (o.present && o.output && o.heapMemory() && o.span() > 0 && in.span() > 0
                        && o.base < in.base + in.span() * in.el() && in.base < o.base + o.span() * o.el()) {
                    return true;
                }
            }
            return false;
        }

        Matrix m(String name) {
            return find(name).view();
        }

        /** The call as a user writes it: views, then options, then the operation. */
        void invoke() {
            if (op == Op.ROW) {
                step = Step.CALL;
                invokeRow();
                step = null;
                return;
            }
            step = Step.VIEW;
            Map<String, Matrix> v = new java.util.HashMap<>();
            for (Opnd o : ops) {
                v.put(o.name, o.view());
            }
            if (bad == Bad.CLOSED_AFTER) {
                closing.arena.close();
            }
            step = Step.OPTIONS;
            switch (op) {
                case SOFTMAX -> {
                    step = Step.CALL;
                    pm.softmax(v.get("x"), v.get("y"));
                }
                case LOG_SOFTMAX -> {
                    step = Step.CALL;
                    pm.logSoftmax(v.get("x"), v.get("y"));
                }
                case LOG_SUM_EXP -> {
                    step = Step.CALL;
                    pm.logSumExp(v.get("x"), v.get("out"));
                }
                case SOFTMAX_EX -> {
                    SoftmaxOptions o = nullOptions ? null : new SoftmaxOptions(temperature, v.get("mask"), v.get("bias"), log, exact);
                    step = Step.CALL;
                    pm.softmax(v.get("x"), v.get("y"), o);
                }
                case BACKWARD -> {
                    step = Step.CALL;
                    pm.softmaxBackward(v.get("p"), v.get("dy"), v.get("dx"));
                }
                case LOG_BACKWARD -> {
                    step = Step.CALL;
                    pm.logSoftmaxBackward(v.get("logp"), v.get("dy"), v.get("dx"));
                }
                case LOG_JVP -> {
                    step = Step.CALL;
                    pm.logSoftmaxJvp(v.get("logp"), v.get("v"), v.get("out"));
                }
                case JACOBIAN -> {
                    JacobianOptions o = nullOptions ? null : new JacobianOptions(log, fromLogits);
                    step = Step.CALL;
                    pm.jacobian(v.get("x"), v.get("jac"), o);
                }
                case JACOBIAN_MATMUL -> {
                    JacobianOptions o = nullOptions ? null : new JacobianOptions(log, fromLogits);
                    step = Step.CALL;
                    pm.jacobianMatmul(v.get("p"), v.get("v"), v.get("out"), o);
                }
                case CE_LABELS, CE_SOFT -> {
                    CrossEntropyOptions o = nullOptions ? null
                            : new CrossEntropyOptions(reduction, ignoreIndex, smoothing, v.get("weight"));
                    step = Step.CALL;
                    pm.crossEntropy(v.get("logits"), v.get("targets"), v.get("grad"), v.get("loss"), o);
                }
                case ROW -> throw new IllegalStateException("no views");
            }
            step = null;
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
                if (step != expectedStep) {
                    throw new AssertionFailedError("threw " + thrown + " at " + step + ", expected at " + expectedStep
                            + ": " + where(), thrown);
                }
                for (Map.Entry<MemorySegment, byte[]> en : snaps.entrySet()) {
                    if (!en.getKey().scope().isAlive()) {
                        continue; // CLOSED_*: freed by the test itself
                    }
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
                        int el = o.el();
                        for (long rr = 0; rr < o.rows; rr++) {
                            for (long j = 0; j < o.cols; j++) {
                                long b = o.base + o.index(rr, j) * el;
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
        // ROW: the one-row array shortcuts (no view)

        void buildRow() {
            rowMode = r.nextInt(3);
            rows = 1;
            List<Bad> classes = List.of(Bad.NULL, Bad.COLS0, Bad.SHAPE);
            if (r.nextInt(5) < 2) {
                bad = pick(classes);
            }
            expectedStep = Step.CALL; // no views here: the call checks everything
            String[] nm = rowMode == 2 ? new String[] {"p", "dy", "dx"} : new String[] {"x", "y"};
            long n = bad == Bad.COLS0 ? 0 : cols;
            int shorter = bad == Bad.SHAPE ? 1 + r.nextInt(nm.length - 1) : -1; // y, or dy or dx
            for (int i = 0; i < nm.length; i++) {
                boolean out = i == nm.length - 1;
                Opnd o = new Opnd(nm[i], ft, out, false, true, true, rowMode == 2 ? (i == 0 ? "prob" : "grad") : "logits");
                o.rows = 1;
                o.cols = n;
                o.stride = n;
                long len = n + (i > 0 && r.nextInt(3) == 0 ? r.nextInt(3) : 0); // the first sets n; others may be longer
                if (i == shorter) {
                    len = n - 1 - r.nextInt((int) n);
                }
                o.kind = Kind.ARRAY;
                o.array = f64 ? new double[(int) len] : new float[(int) len];
                o.whole = heapSegment(o.array);
                o.whole.fill(POISON);
                o.base = 0;
                ops.add(o);
            }
            Opnd out = ops.get(ops.size() - 1);
            if (bad == Bad.NONE && r.nextInt(4) == 0) {
                Opnd in = ops.get(r.nextInt(ops.size() - 1)); // y may be x itself (dx: p or dy)
                if (in.whole.byteSize() == out.whole.byteSize() || r.nextBoolean()) {
                    out.array = in.array;
                    out.whole = in.whole;
                    out.aliasOf = in;
                }
            }
            if (bad == Bad.NULL) {
                ops.get(r.nextInt(ops.size())).nullView = true;
            }
            for (Opnd o : ops) {
                o.pRows = o.rows;
                o.pCols = o.cols;
                o.pStride = o.stride;
                if (o.output && o.aliasOf == null) {
                    continue;
                }
                o.vals = new double[(int) n];
                for (int j = 0; j < n && j < o.whole.byteSize() / o.el(); j++) {
                    o.set(j, value(o.values));
                    o.vals[j] = o.get(j);
                }
            }
            if (out.aliasOf != null) {
                out.aliasOf.vals = out.vals;
            }
        }

        void invokeRow() {
            Object[] a = new Object[ops.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = ops.get(i).nullView ? null : ops.get(i).array;
            }
            if (f64) {
                switch (rowMode) {
                    case 0 -> pm.softmax((double[]) a[0], (double[]) a[1]);
                    case 1 -> pm.logSoftmax((double[]) a[0], (double[]) a[1]);
                    default -> pm.softmaxBackward((double[]) a[0], (double[]) a[1], (double[]) a[2]);
                }
            } else {
                switch (rowMode) {
                    case 0 -> pm.softmax((float[]) a[0], (float[]) a[1]);
                    case 1 -> pm.logSoftmax((float[]) a[0], (float[]) a[1]);
                    default -> pm.softmaxBackward((float[]) a[0], (float[]) a[1], (float[]) a[2]);
                }
            }
        }

        // ------------------------------------------------------------------------------------------------
        // references (double)

        double in(String name, long rr, long j) {
            Opnd o = find(name);
            return o.vals[(int) o.index(rr, j)];
        }

        void expect(String name, long idx, double want, double scale) {
            double got = find(name).get(idx);
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
                            expect("y", find("y").index(rr, j), p[j], 0);
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
                            boolean keep = !mask.present || mask.vals[(int) mask.index(rr, j)] != 0;
                            double b = bias.present ? bias.vals[(int) bias.index(rr, j)] : 0;
                            z[j] = keep ? (in("x", rr, j) + b) / temperature : Double.NEGATIVE_INFINITY;
                        }
                        double[] p = Reference.softmax(z, 1, log);
                        // x + bias is rounded to the element type before max is taken: an absolute error of about
                        // ulp(|z| + max|z|), which 1/T magnifies (T = 1e-30 makes log-probabilities of 1e27 whose
                        // value rests on the difference of two rounded sums). The reference adds in double.
                        double big = 0;
                        for (double v : z) {
                            big = Double.isFinite(v) ? Math.max(big, Math.abs(v)) : big;
                        }
                        double cond = log ? 1e-3 * 2 * big : 0;
                        for (int j = 0; j < c; j++) {
                            expect("y", find("y").index(rr, j), p[j], cond);
                        }
                    }
                }
                case BACKWARD, LOG_BACKWARD, LOG_JVP -> {
                    String[] nm = names();
                    for (long rr = 0; rr < rows; rr++) {
                        double[] a = row(nm[0], rr);
                        double[] b = row(nm[1], rr);
                        backwardRow(a, b, nm[2], rr);
                    }
                }
                case JACOBIAN -> {
                    for (long rr = 0; rr < rows; rr++) {
                        double[] p = fromLogits ? Reference.softmax(row("x", rr), 1, false) : row("x", rr);
                        double[] want = Reference.jacobian(p, log);
                        for (int i = 0; i < c * c; i++) {
                            expect("jac", rr * c * c + i, want[i], 0);
                        }
                    }
                }
                case JACOBIAN_MATMUL -> {
                    int n = (int) rows;
                    double[] p = new double[n];
                    for (int i = 0; i < n; i++) {
                        p[i] = find("p").vals[i];
                    }
                    double[][] v = new double[n][c];
                    for (int i = 0; i < n; i++) {
                        for (int kk = 0; kk < c; kk++) {
                            v[i][kk] = in("v", i, kk);
                        }
                    }
                    double[][] want = Reference.jacobianMatmul(p, v, log);
                    for (int i = 0; i < n; i++) {
                        for (int kk = 0; kk < c; kk++) {
                            expect("out", find("out").index(i, kk), want[i][kk], n * 0.5);
                        }
                    }
                }
                case CE_LABELS, CE_SOFT -> ceReference();
                case ROW -> {
                    double[] a = find(rowMode == 2 ? "p" : "x").vals;
                    if (rowMode == 2) {
                        backwardRow(a, find("dy").vals, "dx", 0);
                    } else {
                        double[] p = Reference.softmax(a, 1, rowMode == 1);
                        for (int j = 0; j < c; j++) {
                            expect("y", j, p[j], 0);
                        }
                    }
                }
            }
        }

        void backwardRow(double[] a, double[] b, String out, long rr) {
            int c = a.length;
            double[] want = switch (op) {
                case BACKWARD, ROW -> Reference.softmaxBackward(a, b);
                case LOG_BACKWARD -> Reference.logSoftmaxBackward(a, b);
                default -> Reference.logSoftmaxJvp(a, b);
            };
            double sum = Reference.sum(b);
            for (int j = 0; j < c; j++) {
                expect(out, find(out).index(rr, j), want[j], Math.abs(sum) + c * 0.1);
            }
        }

        void ceReference() {
            int c = (int) cols;
            Opnd grad = find("grad");
            Opnd wt = find("weight");
            double[] w = new double[c];
            for (int j = 0; j < c; j++) {
                w[j] = wt.present ? wt.vals[j] : 1;
            }
            int r = (int) rows;
            double[][] z = new double[r][];
            long[] labels = op == Op.CE_LABELS ? new long[r] : null;
            double[][] soft = op == Op.CE_LABELS ? null : new double[r][];
            for (int rr = 0; rr < r; rr++) {
                z[rr] = row("logits", rr);
                if (labels != null) {
                    labels[rr] = (long) find("targets").vals[rr];
                } else {
                    soft[rr] = row("targets", rr);
                }
            }
            Reference.CrossEntropy want = Reference.crossEntropy(z, labels, soft, wt.present ? w : null, smoothing,
                    ignoreIndex, reduction);
            double lossScale = 40 * c * (wt.present ? 3 : 1); // losses of up to ~20 * cols; float sums
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
                        expect("grad", grad.index(rr, j), want.grad()[rr][j], wt.present ? 3 : 1);
                    }
                }
            }
        }
    }
}
