package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.FlowHash;
import io.netty.buffer.ByteBuf;

/**
 * A port's bounded outbound queue: frames wait here until the port's transport drains them once per event-loop
 * turn. When full the newest frame is dropped and counted, so a slow member never grows memory or blocks others;
 * but a sparse flow's frame, or one of a flow with fewer frames waiting than another flow, takes the place of the
 * newest frame of the flow with the most waiting instead.
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
    /**
     * Flow slots: two flows share one in 256, and then their fate: a ping that shares a flood's slot waits and drops
     * as the flood does. Counted in chars, so that a port's flow table costs 1 KiB.
     */
    static final int FLOW_SLOTS = 256;
    /** Bytes a flow may have in the sparse ring: one full-size frame (fq_codel's quantum). */
    static final int SPARSE_QUANTUM = 1514;
    /** Frames the sparse ring holds at most; more wait behind the others. */
    static final int SPARSE_CAPACITY = 64;

    private final int capacity;
    private final Counters counters;
    private final Ring sparse;
    private final Ring bulk;
    /** Per flow slot: bytes waiting in the sparse ring, frames waiting in the bulk ring. */
    private final char[] sparseBytes = new char[FLOW_SLOTS];
    private final char[] bulkFrames = new char[FLOW_SLOTS];
    private final FlowHash flows = new FlowHash();
    private long droppedFull;

    public FrameQueue(int capacity, Counters counters) {
        if (capacity < 1 || capacity > Character.MAX_VALUE) {
            throw new IllegalArgumentException("capacity must be 1 to " + (int) Character.MAX_VALUE + ": " + capacity);
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
            int fattest = bulk.size == 0 ? -1 : fattestFor(slot, sparseFrame);
            if (fattest < 0) {
                dropFull(frame);
                return false;
            }
            // Full: the fattest flow's newest frame goes instead, as fq_codel drops from the fattest flow (RFC 8290
            // section 4.1.3), so a flood that fills the queue cannot shut out a ping, nor a paced flow whose frames
            // pile up behind it while the port cannot send. A flow's newest frame has none of its flow behind it, so
            // no flow's order changes.
            bulkFrames[fattest]--;
            dropFull(bulk.removeNewestOf(fattest));
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

    /**
     * When the queue is full: the flow slot whose newest bulk frame makes room for a newcomer of {@code slot}, or -1
     * when the newcomer goes instead. A sparse newcomer takes the newest bulk frame's place; another one the place of
     * the newest frame of the flow with the most frames waiting, when that flow has more than the newcomer's own.
     * The slots are searched only when neither the newest frame's flow nor the newcomer's holds most of the queue.
     */
    private int fattestFor(int slot, boolean sparseFrame) {
        int tail = bulk.tailSlot();
        if (sparseFrame || bulkFrames[tail] > bulkFrames[slot]) {
            return tail;
        }
        if (bulkFrames[slot] * 2 > bulk.size) {
            return -1; // the newcomer's flow holds most of the queue: none is fatter
        }
        int fattest = slot;
        for (int i = 0; i < FLOW_SLOTS; i++) {
            if (bulkFrames[i] > bulkFrames[fattest]) {
                fattest = i;
            }
        }
        return fattest == slot ? -1 : fattest;
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
            slots[tail] = (byte) slot; // 0 to 255, read back unsigned
            lengths[tail] = length;
            size++;
        }

        int headSlot() {
            return slots[head] & 0xFF;
        }

        int headLength() {
            return lengths[head];
        }

        int tailSlot() {
            return slots[(head + size - 1) % frames.length] & 0xFF;
        }

        /** Takes the newest frame of flow slot {@code slot} out (one is queued); the frames after it move up. */
        ByteBuf removeNewestOf(int slot) {
            int index = size - 1;
            while (slotAt(index) != slot) {
                index--;
            }
            int at = (head + index) % frames.length;
            ByteBuf frame = frames[at];
            for (int i = index; i < size - 1; i++) {
                int to = (head + i) % frames.length;
                int from = (head + i + 1) % frames.length;
                frames[to] = frames[from];
                slots[to] = slots[from];
                lengths[to] = lengths[from];
            }
            frames[(head + size - 1) % frames.length] = null;
            size--;
            return frame;
        }

        int slotAt(int index) {
            return slots[(head + index) % frames.length] & 0xFF;
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
