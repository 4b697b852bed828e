package dev.riscvrelay.relay.transport.webtransport;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * The running XOR of one group of {@link LinkRecovery#PARITY_GROUP} frames, each padded with zeros to the longest,
 * and the XOR of their lengths: the sender's is the parity it sends, the receiver's the frames it got and the parity.
 * When all but one of a group's frames and its parity went in, what is left is the missing frame. Words of a long
 * array, so that XORing a 1,400-byte frame is 175 operations; nothing is allocated after construction.
 */
final class ParityXor {

    private final long[] words;
    /** The group's number: its first sequence number shifted right by the group's size in bits. */
    private int group = -1;
    private int length;
    private int lengthXor;
    /** One bit per frame position in the group that went in. */
    private int present;
    private boolean parity;

    /** @param capacity the longest frame, in bytes */
    ParityXor(int capacity) {
        this.words = new long[(capacity + Long.BYTES - 1) / Long.BYTES];
    }

    /** Starts over for {@code group}. */
    void reset(int group) {
        Arrays.fill(words, 0, (length + Long.BYTES - 1) / Long.BYTES, 0L);
        this.group = group;
        length = 0;
        lengthXor = 0;
        present = 0;
        parity = false;
    }

    int group() {
        return group;
    }

    /** The longest frame that went in (a parity counts as its own length). */
    int length() {
        return length;
    }

    int lengthXor() {
        return lengthXor;
    }

    /** Whether the frame at {@code position} in the group went in. */
    boolean has(int position) {
        return (present & (1 << position)) != 0;
    }

    int frames() {
        return Integer.bitCount(present);
    }

    boolean hasParity() {
        return parity;
    }

    /** Whether {@code length} bytes fit. */
    boolean fits(int bytes) {
        return bytes <= words.length * Long.BYTES;
    }

    /** XORs in the group's frame at {@code position}: {@code frameLength} bytes of {@code buf} at {@code index}. */
    void addFrame(int position, ByteBuf buf, int index, int frameLength) {
        present |= 1 << position;
        lengthXor ^= frameLength;
        xor(buf, index, frameLength);
    }

    /** XORs in the group's parity: its lengths' XOR and {@code parityLength} bytes of {@code buf} at {@code index}. */
    void addParity(int parityLengthXor, ByteBuf buf, int index, int parityLength) {
        parity = true;
        lengthXor ^= parityLengthXor;
        xor(buf, index, parityLength);
    }

    private void xor(ByteBuf buf, int index, int bytes) {
        int full = bytes >>> 3;
        for (int w = 0; w < full; w++) {
            words[w] ^= buf.getLong(index + (w << 3));
        }
        int tail = bytes & 7;
        if (tail != 0) {
            long last = 0;
            int at = index + (full << 3);
            for (int i = 0; i < tail; i++) {
                last |= (buf.getByte(at + i) & 0xFFL) << (56 - 8 * i);
            }
            words[full] ^= last;
        }
        length = Math.max(length, bytes);
    }

    /** Writes the first {@code bytes} bytes of the XOR to {@code out}. */
    void writeBytes(ByteBuf out, int bytes) {
        int full = bytes >>> 3;
        for (int w = 0; w < full; w++) {
            out.writeLong(words[w]);
        }
        for (int i = 0; i < (bytes & 7); i++) {
            out.writeByte((int) (words[full] >>> (56 - 8 * i)));
        }
    }
}
