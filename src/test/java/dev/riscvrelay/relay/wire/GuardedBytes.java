package dev.riscvrelay.relay.wire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Fuzz inputs placed where a parser that reads outside its range is caught. The input sits at {@link #GUARD} in a
 * direct buffer whose capacity ends right after it, so a read past the end throws
 * {@link IndexOutOfBoundsException}; the bytes before it are guard bytes of a chosen fill, so a read before the
 * start shows up as a different result when the same input is parsed again behind a different fill.
 */
public final class GuardedBytes {

    /** Bytes of guard in front of the input: the reader index of a guarded buffer. */
    public static final int GUARD = 16;

    /** Two fills that differ in every bit. */
    public static final int FILL_LOW = 0x00;
    public static final int FILL_HIGH = 0xFF;

    private GuardedBytes() {
    }

    /** {@code data} at index {@link #GUARD} (the reader index) of a fresh direct buffer that ends with it. */
    public static ByteBuf guarded(byte[] data, int fill) {
        return guarded(data, 0, data.length, fill);
    }

    /** {@code length} bytes of {@code data} from {@code from}, guarded like {@link #guarded(byte[], int)}. */
    public static ByteBuf guarded(byte[] data, int from, int length, int fill) {
        ByteBuf buf = Unpooled.directBuffer(GUARD + length, GUARD + length);
        for (int i = 0; i < GUARD; i++) {
            buf.writeByte(fill);
        }
        buf.writeBytes(data, from, length);
        buf.readerIndex(GUARD);
        if (buf.capacity() != GUARD + length) {
            throw new AssertionError("guarded buffer must end with the input");
        }
        return buf;
    }
}
