package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Frames from one event loop to another: a bounded ring with exactly one producer thread and one consumer loop, as
 * Aeron's one-to-one queue. The producer writes a slot and publishes it with one volatile store; the consumer empties
 * the ring in one task per batch, scheduled by the first frame after the ring was seen empty, so a burst costs one
 * wake-up of the consumer, not one per frame, and nothing locks. A full ring drops the frame and counts it.
 *
 * <p>Each frame travels with its target (the session or port it is for); the consumer hands both to its
 * {@link Receiver}.
 *
 * @param <T> what a frame is for
 */
public final class HandOffQueue<T> {

    /** Takes each handed-over frame on the consumer loop; it owns the frame's reference. */
    @FunctionalInterface
    public interface Receiver<T> {
        void receive(T target, ByteBuf frame);

        /** After the last frame of a batch, on the consumer loop: what the receiver does once per batch. */
        default void batchDone() {
        }
    }

    private final Object[] targets;
    private final ByteBuf[] frames;
    private final int mask;
    /** The next slot the producer fills; written by the producer only. */
    private final AtomicLong tail = new AtomicLong();
    /** The next slot the consumer empties; written by the consumer only. */
    private final AtomicLong head = new AtomicLong();
    /** The producer's last look at {@link #head}: it reads the volatile only when the ring looks full. */
    private long headSeen;
    /** Whether a drain task is pending on the consumer: set by the producer that schedules it, cleared by it. */
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Executor consumer;
    private final Receiver<T> receiver;
    private final Counters counters;
    private final Counter full;
    private final Runnable drainTask = this::drain;

    /**
     * @param capacity frames the ring holds (rounded up to a power of two)
     * @param consumer the loop that receives the frames
     */
    public HandOffQueue(int capacity, Executor consumer, Receiver<T> receiver, Counters counters) {
        this(capacity, consumer, receiver, counters, Counter.DROP_HANDOFF_FULL);
    }

    /**
     * @param capacity frames the ring holds (rounded up to a power of two)
     * @param consumer the loop that receives the frames
     * @param full what a frame dropped for a full ring counts as
     */
    public HandOffQueue(int capacity, Executor consumer, Receiver<T> receiver, Counters counters, Counter full) {
        if (capacity < 1 || capacity > (1 << 20)) {
            throw new IllegalArgumentException("capacity must be 1..2^20, not " + capacity);
        }
        int size = capacity == 1 ? 1 : Integer.highestOneBit(capacity - 1) << 1;
        this.targets = new Object[size];
        this.frames = new ByteBuf[size];
        this.mask = size - 1;
        this.consumer = consumer;
        this.receiver = receiver;
        this.counters = counters;
        this.full = full;
    }

    /** Frames the ring holds at most. */
    public int capacity() {
        return frames.length;
    }

    /**
     * On the producer's thread: hands {@code frame} (its reference) over to the consumer for {@code target}.
     * Returns false when the ring is full; the frame is then released and counted.
     */
    public boolean offer(T target, ByteBuf frame) {
        long slot = tail.getPlain();
        if (slot - headSeen >= frames.length) {
            headSeen = head.get();
            if (slot - headSeen >= frames.length) {
                frame.release();
                counters.increment(full);
                return false;
            }
        }
        int index = (int) slot & mask;
        targets[index] = target;
        frames[index] = frame;
        // Volatile: publishes the slot, and comes before the look at 'scheduled' (the drain clears it first, then
        // reads the tail, so one of the two always sees the other and no frame waits for a later one).
        tail.set(slot + 1);
        if (!scheduled.get() && scheduled.compareAndSet(false, true)) {
            try {
                consumer.execute(drainTask);
            } catch (RejectedExecutionException shutDown) {
                scheduled.set(false); // the consumer loop is gone; close() frees what is left
            }
        }
        return true;
    }

    /** Frames handed over since the queue was made (from any thread). */
    public long handedOver() {
        return tail.get();
    }

    /** Frames waiting now (approximate from any thread other than the two ends). */
    public int size() {
        return (int) (tail.get() - head.get());
    }

    private void drain() {
        scheduled.set(false);
        long next = head.getPlain();
        long end = tail.get();
        if (next == end) {
            return;
        }
        while (next != end) {
            int index = (int) next & mask;
            @SuppressWarnings("unchecked")
            T target = (T) targets[index];
            ByteBuf frame = frames[index];
            targets[index] = null;
            frames[index] = null;
            next++;
            head.lazySet(next); // the slot is free for the producer as soon as it is read
            try {
                receiver.receive(target, frame);
            } catch (RuntimeException e) {
                counters.increment(Counter.PORT_SEND_FAILED);
            }
        }
        try {
            receiver.batchDone();
        } catch (RuntimeException e) {
            counters.increment(Counter.PORT_SEND_FAILED);
        }
    }

    /** Releases what is still in the ring; once neither end runs any more (their loops have stopped). */
    public void close() {
        long next = head.get();
        long end = tail.get();
        while (next != end) {
            int index = (int) next & mask;
            ByteBuf frame = frames[index];
            targets[index] = null;
            frames[index] = null;
            if (frame != null) {
                frame.release();
            }
            next++;
        }
        head.set(next);
    }
}
