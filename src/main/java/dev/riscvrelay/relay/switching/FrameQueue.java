package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;

/**
 * A port's bounded outbound queue: frames wait here until the port's transport drains them once per event-loop
 * turn. When full the newest frame is dropped and counted, so a slow member never grows memory or blocks others.
 * Owned by one event loop; not thread-safe.
 */
public final class FrameQueue {

    private final ByteBuf[] ring;
    private final Counters counters;
    private int head;
    private int size;

    public FrameQueue(int capacity, Counters counters) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        }
        this.ring = new ByteBuf[capacity];
        this.counters = counters;
    }

    /** Takes over one reference of {@code frame}; returns false (frame released, drop counted) when full. */
    public boolean offer(ByteBuf frame) {
        if (size == ring.length) {
            frame.release();
            counters.increment(Counter.DROP_QUEUE_FULL);
            return false;
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

    public int size() {
        return size;
    }

    public int capacity() {
        return ring.length;
    }

    /** Releases every queued frame, e.g. when the port closes. */
    public void clear() {
        ByteBuf frame;
        while ((frame = poll()) != null) {
            frame.release();
        }
    }
}
