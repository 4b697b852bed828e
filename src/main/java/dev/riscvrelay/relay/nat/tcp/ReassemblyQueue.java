package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.after;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * Segments from the VM that arrived after a gap, held until it fills: sorted by sequence number, bounded, each a
 * retained slice of the frame it came in (no copy, unless that would pin a buffer much larger than the segment).
 * Reports what it holds as SACK blocks (RFC 2018). Its arrays start small and grow to the bound only on a path that
 * loses segments: most connections never hold one.
 */
final class ReassemblyQueue {

    /** Without timestamps the option space takes four blocks. */
    static final int MAX_SACK_BLOCKS = 4;

    /** The first arrays' size; they double up to {@link #capacity}. */
    private static final int INITIAL_SLOTS = 8;
    /** A slice of a buffer larger than this, and more than twice the segment, is copied instead of retained. */
    private static final int PIN_LIMIT_BYTES = 4096;

    private final int capacity;
    private int[] sequence;
    private int[] length;
    private boolean[] fin;
    private ByteBuf[] data;
    private int count;
    private int heldBytes;
    private int lastHeldSequence;
    final int[] sackLeft = new int[MAX_SACK_BLOCKS];
    final int[] sackRight = new int[MAX_SACK_BLOCKS];

    ReassemblyQueue(int capacity) {
        this.capacity = capacity;
        int slots = Math.min(INITIAL_SLOTS, capacity);
        sequence = new int[slots];
        length = new int[slots];
        fin = new boolean[slots];
        data = new ByteBuf[slots];
    }

    /** What {@link #hold} did with a segment. */
    enum Held { HELD, ALREADY_HELD, FULL }

    /** Keeps a segment; takes a retained slice of {@code length} bytes of {@code buf} from {@code index}. */
    Held hold(int segmentSequence, ByteBuf buf, int index, int segmentLength, boolean segmentFin) {
        int at = count;
        while (at > 0 && after(sequence[at - 1], segmentSequence)) {
            at--;
        }
        if (at > 0 && sequence[at - 1] == segmentSequence) {
            return Held.ALREADY_HELD;
        }
        if (count == capacity) {
            return Held.FULL;
        }
        if (count == data.length) {
            int slots = Math.min(capacity, 2 * data.length);
            sequence = Arrays.copyOf(sequence, slots);
            length = Arrays.copyOf(length, slots);
            fin = Arrays.copyOf(fin, slots);
            data = Arrays.copyOf(data, slots);
        }
        System.arraycopy(sequence, at, sequence, at + 1, count - at);
        System.arraycopy(length, at, length, at + 1, count - at);
        System.arraycopy(fin, at, fin, at + 1, count - at);
        System.arraycopy(data, at, data, at + 1, count - at);
        sequence[at] = segmentSequence;
        length[at] = segmentLength;
        fin[at] = segmentFin;
        data[at] = buf.capacity() > PIN_LIMIT_BYTES && buf.capacity() > 2 * segmentLength
                ? buf.alloc().buffer(segmentLength).writeBytes(buf, index, segmentLength)
                : buf.retainedSlice(index, segmentLength);
        count++;
        heldBytes += segmentLength;
        lastHeldSequence = segmentSequence;
        return Held.HELD;
    }

    int count() {
        return count;
    }

    /** Bytes of the segments held. */
    int heldBytes() {
        return heldBytes;
    }

    boolean isEmpty() {
        return count == 0;
    }

    int sequence(int i) {
        return sequence[i];
    }

    int length(int i) {
        return length[i];
    }

    boolean fin(int i) {
        return fin[i];
    }

    /** The data of held segment {@code i}; the caller takes over its reference and must then {@link #dropFirst}. */
    ByteBuf takeData(int i) {
        ByteBuf taken = data[i];
        data[i] = null;
        return taken;
    }

    /** Removes the first {@code n} segments, whose data the caller took. */
    void dropFirst(int n) {
        if (n == 0) {
            return;
        }
        for (int i = 0; i < n; i++) {
            heldBytes -= length[i];
        }
        System.arraycopy(sequence, n, sequence, 0, count - n);
        System.arraycopy(length, n, length, 0, count - n);
        System.arraycopy(fin, n, fin, 0, count - n);
        System.arraycopy(data, n, data, 0, count - n);
        for (int i = count - n; i < count; i++) {
            data[i] = null;
        }
        count -= n;
    }

    /** Releases every held segment from {@code from} on and empties the queue. */
    void releaseFrom(int from) {
        for (int i = from; i < count; i++) {
            if (data[i] != null) {
                data[i].release();
                data[i] = null;
            }
        }
        count = 0;
        heldBytes = 0;
    }

    /**
     * The held ranges as SACK blocks in {@link #sackLeft} / {@link #sackRight} (RFC 2018 section 4): adjacent
     * segments merged, the block with the most recently held segment first; returns how many.
     */
    int sackBlocks() {
        int blocks = 0;
        int latest = 0;
        for (int i = 0; i < count; i++) {
            int left = sequence[i];
            int right = left + length[i];
            if (blocks > 0 && !after(left, sackRight[blocks - 1])) {
                if (after(right, sackRight[blocks - 1])) {
                    sackRight[blocks - 1] = right;
                }
            } else if (blocks < MAX_SACK_BLOCKS) {
                sackLeft[blocks] = left;
                sackRight[blocks] = right;
                blocks++;
            } else {
                break;
            }
            if (sequence[i] == lastHeldSequence) {
                latest = blocks - 1;
            }
        }
        if (latest > 0) {
            int left = sackLeft[latest];
            int right = sackRight[latest];
            System.arraycopy(sackLeft, 0, sackLeft, 1, latest);
            System.arraycopy(sackRight, 0, sackRight, 1, latest);
            sackLeft[0] = left;
            sackRight[0] = right;
        }
        return blocks;
    }
}
