package org.panmax;

import java.lang.foreign.ValueLayout;

/** Element type of the segments passed to {@link Panmax}. */
public enum DType {
    /** IEEE binary32, {@code float}. */
    F32(ValueLayout.JAVA_FLOAT),
    /** IEEE binary64, {@code double}. */
    F64(ValueLayout.JAVA_DOUBLE);

    private final ValueLayout layout;

    DType(ValueLayout layout) {
        this.layout = layout;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return (int) layout.byteSize();
    }

    /** The value layout of one element. */
    public ValueLayout layout() {
        return layout;
    }
}
