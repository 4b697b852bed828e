package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.FlowHash;
import io.netty.buffer.ByteBuf;

/**
 * A port's bounded outbound queue: frames wait here until the port's transport drains them once per event-loop
 * turn. When full the newest frame is dropped and counted, so a slow member never grows memory or blocks others;
 * but a sparse flow's frame takes the place of the newest bulk frame instead.
 * The rings start small and double up to their capacity, so the many idle ports cost little and a busy one can
 * take a whole burst (a TCP NAT window) in one turn. Owned by one event loop; not thread-safe.
 *
 * <p>Sparse flows go first, as in fq_codel (RFC 8290 section 4.1): a frame whose flow ({@link FlowHash}) has no
 * frame waiting behind the others and less than a full frame's bytes ahead of them joins the short sparse ring,
 * which drains before the rest. A ping reply, a DNS answer or an SSH keystroke then waits for at most one frame of
 * each bulk flow, not for a whole window of a download queued in the same turn. A flow's frames never pass each
 * other: once one of them waits behind the others, the rest of that flow follow it. Flows are counted in a few
 * slots by hash; two flows in one slot only lose their priority, never their order.
 */
public final class FrameQueue {

    private static final int INITIAL_SLOTS = 16;
    /** Flow slots: enough that a handful of busy flows rarely share one with a sparse flow. */
    private static final int FLOW_SLOTS = 64;
    /** Bytes a flow may have in the sparse ring: one full-size frame (fq_codel's quantum). */
    static final int SPARSE_QUANTUM = 1514;
    /** Frames the sparse ring holds at most; more wait behind the others. */
    static final int SPARSE_CAPACITY = 64;

    private final int capacity;
    private final Counters counters;
    private final Ring sparse;
    private final Ring bulk;
    /** Per flow slot: bytes waiting in the sparse ring, frames waiting in the bulk ring. */
    private final int[] sparseBytes = new int[FLOW_SLOTS];
    private final int[] bulkFrames = new int[FLOW_SLOTS];
    private final FlowHash flows = new FlowHash();
    private long droppedFull;

    public FrameQueue(int capacity, Counters counters) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.capacity = capacity;
        this.counters = counters;
        this.sparse = new Ring(Math.min(capacity, SPARSE_CAPACITY));
        this.bulk = new Ring(capacity);
    }

    /** Takes over one reference of {@code frame}; returns false (frame released, drop counted) when full. */
    public boolean offer(ByteBuf frame) {
        int slot = flows.of(frame) & (FLOW_SLOTS - 1);
        int length = frame.readableBytes();
        boolean sparseFrame = bulkFrames[slot] == 0 && sparseBytes[slot] + length <= SPARSE_QUANTUM
                && sparse.hasRoom();
        if (size() == capacity) {
            if (!sparseFrame || bulk.size == 0) {
                dropFull(frame);
                return false;
            }
            // Full of bulk: the newest bulk frame goes instead of a sparse newcomer, as fq_codel drops from the
            // fattest flow (RFC 8290 section 4.1.3), so a flood that fills the queue cannot shut out a ping or a
            // paced flow. The newest frame has none of its flow behind it, so no flow's order changes.
            bulkFrames[bulk.tailSlot()]--;
            dropFull(bulk.removeLast());
        }
        if (sparseFrame) {
            sparse.add(frame, slot, length);
            sparseBytes[slot] += length;
        } else {
            bulk.add(frame, slot, length);
            bulkFrames[slot]++;
        }
        return true;
    }

    private void dropFull(ByteBuf frame) {
        frame.release();
        counters.increment(Counter.DROP_QUEUE_FULL);
        droppedFull++;
    }

    /** The next frame (a sparse flow's first), whose reference passes to the caller, or null when empty. */
    public ByteBuf poll() {
        if (sparse.size > 0) {
            // The length it was counted with: a frame's indices are its holder's business once it is handed out.
            sparseBytes[sparse.headSlot()] -= sparse.headLength();
            return sparse.remove();
        }
        if (bulk.size > 0) {
            bulkFrames[bulk.headSlot()]--;
            return bulk.remove();
        }
        return null;
    }

    public int size() {
        return sparse.size + bulk.size;
    }

    /** Frames that {@link #poll} hands out before the rest: the sparse ring's. */
    public int sparseSize() {
        return sparse.size;
    }

    /**
     * Whether frames of a bulk flow wait behind a sparse frame of a flow that has nothing else queued (an answer,
     * not the head of a window): then sending the sparse frames on their own is worth a send.
     */
    public boolean loneFlowAheadOfBulk() {
        if (bulk.size == 0) {
            return false;
        }
        for (int i = 0; i < sparse.size; i++) {
            if (bulkFrames[sparse.slotAt(i)] == 0) {
                return true;
            }
        }
        return false;
    }

    public int capacity() {
        return capacity;
    }

    /** Frames dropped because this queue was full (this port's share of {@code reason="queue_full"}). */
    public long droppedFull() {
        return droppedFull;
    }

    /** Releases every queued frame, e.g. when the port closes. */
    public void clear() {
        ByteBuf frame;
        while ((frame = poll()) != null) {
            frame.release();
        }
    }

    /** A FIFO ring of frames, their flow slots and lengths, that starts small and doubles up to its capacity. */
    private static final class Ring {
        private final int capacity;
        private ByteBuf[] frames;
        private byte[] slots;
        private int[] lengths;
        private int head;
        private int size;

        Ring(int capacity) {
            this.capacity = capacity;
            this.frames = new ByteBuf[Math.min(capacity, INITIAL_SLOTS)];
            this.slots = new byte[frames.length];
            this.lengths = new int[frames.length];
        }

        boolean hasRoom() {
            return size < capacity;
        }

        void add(ByteBuf frame, int slot, int length) {
            if (size == frames.length) {
                grow();
            }
            int tail = (head + size) % frames.length;
            frames[tail] = frame;
            slots[tail] = (byte) slot;
            lengths[tail] = length;
            size++;
        }

        int headSlot() {
            return slots[head];
        }

        int headLength() {
            return lengths[head];
        }

        int tailSlot() {
            return slots[(head + size - 1) % frames.length];
        }

        /** Takes the newest frame out (size > 0). */
        ByteBuf removeLast() {
            int tail = (head + size - 1) % frames.length;
            ByteBuf frame = frames[tail];
            frames[tail] = null;
            size--;
            return frame;
        }

        int slotAt(int index) {
            return slots[(head + index) % frames.length];
        }

        ByteBuf remove() {
            ByteBuf frame = frames[head];
            frames[head] = null;
            head = (head + 1) % frames.length;
            size--;
            return frame;
        }

        private void grow() {
            int length = Math.min(capacity, frames.length * 2);
            ByteBuf[] largerFrames = new ByteBuf[length];
            byte[] largerSlots = new byte[length];
            int[] largerLengths = new int[length];
            for (int i = 0; i < size; i++) {
                int from = (head + i) % frames.length;
                largerFrames[i] = frames[from];
                largerSlots[i] = slots[from];
                largerLengths[i] = lengths[from];
            }
            frames = largerFrames;
            slots = largerSlots;
            lengths = largerLengths;
            head = 0;
        }
    }
}
