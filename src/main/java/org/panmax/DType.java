package org.panmax;

import java.lang.foreign.ValueLayout;

/** Element type of a {@link Matrix}: the two floating-point types, plus labels and mask bytes. */
public enum DType {
    /** IEEE binary32, {@code float}. */
    F32(ValueLayout.JAVA_FLOAT),
    /** IEEE binary64, {@code double}. */
    F64(ValueLayout.JAVA_DOUBLE),
    /** Signed 64-bit integers, {@code long}: class labels of cross-entropy. */
    I64(ValueLayout.JAVA_LONG),
    /** Bytes, {@code byte}: keep-masks (nonzero = keep). */
    U8(ValueLayout.JAVA_BYTE);

    private final ValueLayout layout;

    DType(ValueLayout layout) {
        this.layout = layout;
    }

    /**
     * Size of one element in bytes.
     *
     * @return 4, 8, 8 or 1
     */
    public int bytes() {
        return (int) layout.byteSize();
    }

    /**
     * The value layout of one element.
     *
     * @return the {@link ValueLayout} of this type, used to read and write a {@link Matrix}'s memory
     */
    public ValueLayout layout() {
        return layout;
    }

    /**
     * True for {@link #F32} and {@link #F64}.
     *
     * @return whether this is a floating-point type
     */
    public boolean isFloating() {
        return this == F32 || this == F64;
    }
}
