package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.SequenceNumbers.after;

import io.netty.buffer.ByteBuf;

/**
 * Segments from the VM that arrived after a gap, held until it fills: sorted by sequence number, bounded, each a
 * retained slice of the frame it came in (no copy). Reports what it holds as SACK blocks (RFC 2018).
 */
final class ReassemblyQueue {

    /** Without timestamps the option space takes four blocks. */
    static final int MAX_SACK_BLOCKS = 4;

    private final int[] sequence;
    private final int[] length;
    private final boolean[] fin;
    private final ByteBuf[] data;
    private int count;
    private int lastHeldSequence;
    final int[] sackLeft = new int[MAX_SACK_BLOCKS];
    final int[] sackRight = new int[MAX_SACK_BLOCKS];

    ReassemblyQueue(int capacity) {
        sequence = new int[capacity];
        length = new int[capacity];
        fin = new boolean[capacity];
        data = new ByteBuf[capacity];
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
        if (count == data.length) {
            return Held.FULL;
        }
        System.arraycopy(sequence, at, sequence, at + 1, count - at);
        System.arraycopy(length, at, length, at + 1, count - at);
        System.arraycopy(fin, at, fin, at + 1, count - at);
        System.arraycopy(data, at, data, at + 1, count - at);
        sequence[at] = segmentSequence;
        length[at] = segmentLength;
        fin[at] = segmentFin;
        data[at] = buf.retainedSlice(index, segmentLength);
        count++;
        lastHeldSequence = segmentSequence;
        return Held.HELD;
    }

    int count() {
        return count;
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
