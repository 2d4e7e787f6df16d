package org.panmax.bench;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * A one-node ONNX model, {@code y = Softmax(x, axis = -1)} (opset 13) on a static float32 or float64 shape
 * [rows, cols], written as ModelProto bytes by a protobuf encoder of a few lines: there is no ONNX model builder
 * on the JVM without a protobuf dependency, and this model needs only varints and length-delimited fields.
 *
 * <p>Field numbers from onnx/onnx.proto: ModelProto ir_version = 1, producer_name = 2, graph = 7,
 * opset_import = 8; OperatorSetIdProto domain = 1, version = 2; GraphProto node = 1, name = 2, input = 11,
 * output = 12; NodeProto input = 1, output = 2, name = 3, op_type = 4, attribute = 5; AttributeProto name = 1,
 * i = 3, type = 20 (INT = 2); ValueInfoProto name = 1, type = 2; TypeProto tensor_type = 1; TypeProto.Tensor
 * elem_type = 1 (TensorProto.DataType FLOAT = 1, DOUBLE = 11), shape = 2; TensorShapeProto dim = 1;
 * Dimension dim_value = 1. IR version 7 is the one opset 13 was released with. ORT itself checks the result:
 * {@link OnnxSoftmax} asks the session for the input's type and shape and compares the output with the reference.
 */
final class OnnxModel {
    private OnnxModel() {}

    static final String INPUT = "x";
    static final String OUTPUT = "y";
    static final int FLOAT = 1;
    static final int DOUBLE = 11;

    static byte[] softmax(long rows, long cols, boolean f64) {
        if (rows < 1 || cols < 1) {
            throw new IllegalArgumentException("rows and cols must be >= 1, were " + rows + " and " + cols);
        }
        int elem = f64 ? DOUBLE : FLOAT;
        Message axis = new Message().string(1, "axis").varint(20, 2).varint(3, -1);
        Message node = new Message().string(1, INPUT).string(2, OUTPUT).string(3, "softmax").string(4, "Softmax")
                .message(5, axis);
        Message graph = new Message().message(1, node).string(2, "softmax").message(11, value(INPUT, elem, rows, cols))
                .message(12, value(OUTPUT, elem, rows, cols));
        Message opset = new Message().string(1, "").varint(2, 13);
        return new Message().varint(1, 7).string(2, "panmax-bench").message(7, graph).message(8, opset).bytes();
    }

    /** ValueInfoProto {name, type: TypeProto {tensor_type: {elem_type, shape: {dim: [rows, cols]}}}}. */
    private static Message value(String name, int elem, long rows, long cols) {
        Message shape = new Message().message(1, new Message().varint(1, rows)).message(1, new Message().varint(1, cols));
        Message tensor = new Message().varint(1, elem).message(2, shape);
        return new Message().string(1, name).message(2, new Message().message(1, tensor));
    }

    /** A protobuf message being written: fields in the order given (wire types 0, varint, and 2, length-delimited). */
    static final class Message {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        /** An int32/int64/enum field: a negative value takes ten bytes (two's complement, as protobuf's int64). */
        Message varint(int field, long value) {
            raw((long) field << 3);
            raw(value);
            return this;
        }

        Message string(int field, String s) {
            return bytes(field, s.getBytes(StandardCharsets.UTF_8));
        }

        Message message(int field, Message m) {
            return bytes(field, m.bytes());
        }

        private Message bytes(int field, byte[] b) {
            raw((long) field << 3 | 2);
            raw(b.length);
            out.writeBytes(b);
            return this;
        }

        private void raw(long v) {
            while ((v & ~0x7FL) != 0) {
                out.write((int) (v & 0x7F) | 0x80);
                v >>>= 7;
            }
            out.write((int) v);
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
