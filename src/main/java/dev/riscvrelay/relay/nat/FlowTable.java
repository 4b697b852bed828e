package dev.riscvrelay.relay.nat;

import java.util.function.Consumer;

/**
 * A fixed-capacity open-addressing map from a 128-bit key (two {@code long}s, e.g. addresses and ports packed by
 * the caller) to a value, with linear probing and backward-shift deletion (no tombstones, so lookups stay short
 * after churn). No boxing and no allocation after construction. Owned by one event loop; not thread-safe.
 */
public final class FlowTable<V> {

    private final long[] keyHigh;
    private final long[] keyLow;
    private final Object[] values;
    private final int mask;
    private final int maxSize;
    private int size;

    /** A table that holds at most {@code maxSize} entries, kept at most half full for short probes. */
    public FlowTable(int maxSize) {
        if (maxSize < 1 || maxSize > (1 << 28)) {
            throw new IllegalArgumentException("maxSize must be 1..2^28: " + maxSize);
        }
        int capacity = Integer.highestOneBit(maxSize * 2 - 1) << 1;
        this.keyHigh = new long[capacity];
        this.keyLow = new long[capacity];
        this.values = new Object[capacity];
        this.mask = capacity - 1;
        this.maxSize = maxSize;
    }

    public int size() {
        return size;
    }

    public int maxSize() {
        return maxSize;
    }

    public boolean isFull() {
        return size == maxSize;
    }

    @SuppressWarnings("unchecked")
    public V get(long high, long low) {
        for (int slot = home(high, low); ; slot = (slot + 1) & mask) {
            Object value = values[slot];
            if (value == null) {
                return null;
            }
            if (keyHigh[slot] == high && keyLow[slot] == low) {
                return (V) value;
            }
        }
    }

    /**
     * Maps the key to {@code value}, replacing an existing mapping.
     *
     * @return false, changing nothing, when the key is new and the table is full
     */
    public boolean put(long high, long low, V value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        int slot = home(high, low);
        while (values[slot] != null) {
            if (keyHigh[slot] == high && keyLow[slot] == low) {
                values[slot] = value;
                return true;
            }
            slot = (slot + 1) & mask;
        }
        if (size == maxSize) {
            return false;
        }
        keyHigh[slot] = high;
        keyLow[slot] = low;
        values[slot] = value;
        size++;
        return true;
    }

    /** Removes the key's mapping and returns its value, or null when there was none. */
    @SuppressWarnings("unchecked")
    public V remove(long high, long low) {
        for (int slot = home(high, low); ; slot = (slot + 1) & mask) {
            Object value = values[slot];
            if (value == null) {
                return null;
            }
            if (keyHigh[slot] == high && keyLow[slot] == low) {
                deleteAt(slot);
                size--;
                return (V) value;
            }
        }
    }

    /** Calls {@code action} for every value; the action must not change the table (collect, then remove). */
    @SuppressWarnings("unchecked")
    public void forEach(Consumer<? super V> action) {
        for (Object value : values) {
            if (value != null) {
                action.accept((V) value);
            }
        }
    }

    /** Empties the slot and shifts later entries of the same probe run back, so no tombstone is needed. */
    private void deleteAt(int hole) {
        int slot = hole;
        while (true) {
            slot = (slot + 1) & mask;
            if (values[slot] == null) {
                break;
            }
            int home = home(keyHigh[slot], keyLow[slot]);
            // The entry may move into the hole unless its home lies cyclically in (hole, slot].
            boolean homeBetween = hole <= slot ? (home > hole && home <= slot) : (home > hole || home <= slot);
            if (!homeBetween) {
                keyHigh[hole] = keyHigh[slot];
                keyLow[hole] = keyLow[slot];
                values[hole] = values[slot];
                hole = slot;
            }
        }
        values[hole] = null;
    }

    private int home(long high, long low) {
        // Stafford's mix13 finaliser over both halves: ports and addresses differ mostly in low bits.
        long h = high * 0x9E37_79B9_7F4A_7C15L + low;
        h = (h ^ (h >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D0_49BB_1331_11EBL;
        h ^= h >>> 31;
        return (int) h & mask;
    }
}
