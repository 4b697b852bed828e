package dev.riscvrelay.relay.metrics;

import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The relay's counters: one slot per {@link Counter}, safe to read from any thread.
 *
 * <p>Each event loop thread (Netty's {@link FastThreadLocalThread}s: the workers) counts into a row of its own, with a
 * plain store that only it makes, so a count on the hot path costs no locked instruction and two workers never
 * fight over one cache line; every other thread (the control thread, client libraries' threads) shares one row with
 * atomic adds. A read sums the rows.
 */
public final class Counters {

    private static final Counter[] ALL = Counter.values();

    /** The row of threads without one of their own: several writers, so atomic adds. */
    private final AtomicLongArray shared = new AtomicLongArray(ALL.length);
    /** One row per event loop thread that has counted; each written by its thread only. */
    private final List<AtomicLongArray> rows = new CopyOnWriteArrayList<>();
    private final FastThreadLocal<AtomicLongArray> own = new FastThreadLocal<>() {
        @Override
        protected AtomicLongArray initialValue() {
            AtomicLongArray row = new AtomicLongArray(ALL.length);
            rows.add(row);
            return row;
        }
    };

    public void increment(Counter counter) {
        add(counter, 1);
    }

    public void add(Counter counter, long amount) {
        int slot = counter.ordinal();
        if (Thread.currentThread() instanceof FastThreadLocalThread) {
            AtomicLongArray row = own.get();
            // The only writer of this row: read, add, publish; readers see the old or the new value, never a torn one.
            row.setRelease(slot, row.getPlain(slot) + amount);
        } else {
            shared.addAndGet(slot, amount);
        }
    }

    public long get(Counter counter) {
        int slot = counter.ordinal();
        long sum = shared.get(slot);
        for (AtomicLongArray row : rows) {
            sum += row.getAcquire(slot);
        }
        return sum;
    }

    /** A copy of the counters that are not zero, in the counters' order: what moved, for logs and test failures. */
    public Map<Counter, Long> nonZero() {
        Map<Counter, Long> moved = new EnumMap<>(Counter.class);
        for (Counter counter : ALL) {
            long value = get(counter);
            if (value != 0) {
                moved.put(counter, value);
            }
        }
        return moved;
    }

    /** A copy of every counter, for exporters and tests. */
    public Map<Counter, Long> snapshot() {
        Map<Counter, Long> copy = new EnumMap<>(Counter.class);
        for (Counter counter : ALL) {
            copy.put(counter, get(counter));
        }
        return copy;
    }
}
