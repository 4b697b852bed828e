package dev.riscvrelay.relay.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLongArray;

/** The relay's counters: one slot per {@link Counter}, safe to read from any thread. */
public final class Counters {

    private static final Counter[] ALL = Counter.values();

    private final AtomicLongArray values = new AtomicLongArray(ALL.length);

    public void increment(Counter counter) {
        values.incrementAndGet(counter.ordinal());
    }

    public void add(Counter counter, long amount) {
        values.addAndGet(counter.ordinal(), amount);
    }

    public long get(Counter counter) {
        return values.get(counter.ordinal());
    }

    /** A copy of every counter, for exporters and tests. */
    public Map<Counter, Long> snapshot() {
        Map<Counter, Long> copy = new EnumMap<>(Counter.class);
        for (Counter counter : ALL) {
            copy.put(counter, values.get(counter.ordinal()));
        }
        return copy;
    }
}
