package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;

/**
 * A port's bounded outbound queue: frames wait here until the port's transport drains them once per event-loop
 * turn. When full the newest frame is dropped and counted, so a slow member never grows memory or blocks others.
 * The ring starts small and doubles up to its capacity, so the many idle ports cost little and a busy one can
 * take a whole burst (a TCP NAT window) in one turn. Owned by one event loop; not thread-safe.
 */
public final class FrameQueue {

    private static final int INITIAL_SLOTS = 16;

    private final int capacity;
    private ByteBuf[] ring;
    private final Counters counters;
    private int head;
    private int size;
    private long droppedFull;

    public FrameQueue(int capacity, Counters counters) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.capacity = capacity;
        this.ring = new ByteBuf[Math.min(capacity, INITIAL_SLOTS)];
        this.counters = counters;
    }

    /** Takes over one reference of {@code frame}; returns false (frame released, drop counted) when full. */
    public boolean offer(ByteBuf frame) {
        if (size == ring.length) {
            if (size == capacity) {
                frame.release();
                counters.increment(Counter.DROP_QUEUE_FULL);
                droppedFull++;
                return false;
            }
            grow();
        }
        ring[(head + size) % ring.length] = frame;
        size++;
        return true;
    }

    /** The oldest frame, whose reference passes to the caller, or null when empty. */
    public ByteBuf poll() {
        if (size == 0) {
            return null;
        }
        ByteBuf frame = ring[head];
        ring[head] = null;
        head = (head + 1) % ring.length;
        size--;
        return frame;
    }

    private void grow() {
        ByteBuf[] larger = new ByteBuf[Math.min(capacity, ring.length * 2)];
        for (int i = 0; i < size; i++) {
            larger[i] = ring[(head + i) % ring.length];
        }
        ring = larger;
        head = 0;
    }

    public int size() {
        return size;
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
}
