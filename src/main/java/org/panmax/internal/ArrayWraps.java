package org.panmax.internal;

import java.lang.foreign.MemorySegment;
import java.lang.ref.WeakReference;

/**
 * The heap segments of the arrays the one-row shortcuts ({@code softmax(float[], float[])} and the like) were last
 * called with, per thread and argument position, so that a call on the arrays of the thread's previous call makes
 * no new segment whatever C2 inlines.
 *
 * <p>Why: {@code MemorySegment.ofArray} allocates a segment and its session (72 bytes an array). Escape analysis
 * removes them only when C2 inlines the JDK's whole wrapping chain into the method that makes the downcall, and
 * whether it does depends on the JDK's own call-site profiles, that is on compile order: JMH measured 144 B per
 * call in 1 of 6 forks of the n = 16 shortcut ({@code SegmentFactories::fromArray} judged "too big" at a call site
 * C2 thought cold). With this cache the steady state allocates nothing even with escape analysis switched off
 * (FacadeAllocationTest runs the facade under -XX:-DoEscapeAnalysis).
 *
 * <p>How: one slot per (thread stripe, argument position); threads are spread over {@value #STRIPES} stripes by
 * id. A slot holds weak references to the array and to its segment, so the cache never keeps a caller's array
 * alive (a segment refers to its array; after a collection the segment is gone and the next call wraps again). A
 * miss (another array, another thread on the same stripe, a collection) wraps the array anew: correct, and the
 * allocation a call without the cache would make. The slots are read and written without locks: a slot's
 * references are final or set in their constructors, so a racing reader sees either a complete slot, or a
 * cleared reference (a miss), never another array's segment.
 */
final class ArrayWraps {
    private ArrayWraps() {}

    /** Thread stripes (a power of two). */
    static final int STRIPES = 64;
    /** Argument positions: x, y and a third array (the backward pass's dx). */
    static final int POSITIONS = 3;

    private static final Slot[] SLOTS = new Slot[STRIPES * POSITIONS];

    /** A cached wrapper: the segment (this reference's referent) and the array it wraps. */
    private static final class Slot extends WeakReference<MemorySegment> {
        final WeakReference<Object> array;

        Slot(Object array, MemorySegment segment) {
            super(segment);
            this.array = new WeakReference<>(array);
        }
    }

    private static int slot(int position) {
        return ((int) Thread.currentThread().threadId() & (STRIPES - 1)) * POSITIONS + position;
    }

    /** The segment over the whole of {@code a}. */
    static MemorySegment of(int position, float[] a) {
        int i = slot(position);
        MemorySegment s = cached(i, a);
        return s != null ? s : remember(i, a, MemorySegment.ofArray(a));
    }

    /** The segment over the whole of {@code a}. */
    static MemorySegment of(int position, double[] a) {
        int i = slot(position);
        MemorySegment s = cached(i, a);
        return s != null ? s : remember(i, a, MemorySegment.ofArray(a));
    }

    private static MemorySegment cached(int i, Object a) {
        Slot w = SLOTS[i];
        return w != null && w.array.refersTo(a) ? w.get() : null;
    }

    private static MemorySegment remember(int i, Object a, MemorySegment s) {
        SLOTS[i] = new Slot(a, s);
        return s;
    }
}
