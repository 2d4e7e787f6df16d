package org.panmax.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.panmax.Panmax;
import org.panmax.bindings.panmax_h;

/**
 * Floors measured in the same run as the kernels: the cost of an empty critical downcall
 * (panmax_version, which returns a constant) and the memory bandwidth of MemorySegment.copy of
 * `bytes` bytes off-heap (the report scales it by the bytes each algorithm must move).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"})
public class FloorBenchmark {
    static final MethodHandle EMPTY;

    static {
        Panmax.backends(); // loads libpanmax.so
        EMPTY = Linker.nativeLinker().downcallHandle(panmax_h.panmax_version$address(), panmax_h.panmax_version$descriptor(),
                Linker.Option.critical(false));
    }

    @Param({"4096"})
    public long bytes;

    Arena arena;
    MemorySegment src;
    MemorySegment dst;

    @Setup(Level.Trial)
    public void setup() {
        arena = Arena.ofShared();
        src = arena.allocate(bytes, 64);
        dst = arena.allocate(bytes, 64);
        src.fill((byte) 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public int emptyCriticalDowncall() throws Throwable {
        return (int) EMPTY.invokeExact();
    }

    @Benchmark
    public MemorySegment copy() {
        MemorySegment.copy(src, 0, dst, 0, bytes);
        return dst;
    }
}
