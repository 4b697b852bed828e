package dev.riscvrelay.relay.lan;

import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * The data plane's one hash table: a fixed-capacity map from a {@code long} key to a value, on two arrays. The
 * switch's MAC table keys it by a 48-bit MAC, the NAT's flow sets by a flow key folded into a {@code long}, the
 * per-VM flow limits by a MAC.
 *
 * <p>Open addressing with linear probing; deletion shifts the following entries of the probe run back (no
 * tombstones), so lookups never slow down as entries come and go. The slot arrays are at least twice the capacity,
 * which keeps probe runs short even when the table is full. Any {@code long} is a key (a free slot is one without
 * a value); values are never null. No boxing and no allocation after construction.
 *
 * <p>Owned by one thread; not thread-safe.
 */
public final class LongTable<V> {

    /** The largest capacity accepted. */
    public static final int MAX_CAPACITY = 1 << 28;

    private final long[] keys;
    private final Object[] values;
    private final int mask;
    private final int capacity;
    private int size;

    /** A table that holds at most {@code capacity} entries. */
    public LongTable(int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be 1.." + MAX_CAPACITY + ": " + capacity);
        }
        int slots = Integer.highestOneBit(capacity * 2 - 1) << 1; // the power of two >= 2 x capacity
        this.keys = new long[slots];
        this.values = new Object[slots];
        this.mask = slots - 1;
        this.capacity = capacity;
    }

    /** The value of {@code key}, or null. */
    @SuppressWarnings("unchecked")
    public V get(long key) {
        int slot = find(key);
        return slot < 0 ? null : (V) values[slot];
    }

    /**
     * Maps {@code key} to {@code value}, replacing an existing mapping.
     *
     * @return false, changing nothing, when the key is new and the table is full
     */
    public boolean put(long key, V value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        int slot = home(key);
        while (values[slot] != null) {
            if (keys[slot] == key) {
                values[slot] = value;
                return true;
            }
            slot = (slot + 1) & mask;
        }
        if (size == capacity) {
            return false;
        }
        keys[slot] = key;
        values[slot] = value;
        size++;
        return true;
    }

    /** Removes the mapping of {@code key} and returns its value, or null when there was none. */
    @SuppressWarnings("unchecked")
    public V remove(long key) {
        int slot = find(key);
        if (slot < 0) {
            return null;
        }
        V value = (V) values[slot];
        removeAt(slot);
        return value;
    }

    /**
     * Removes every entry whose value {@code which} picks, handing each removed value to {@code removed}; returns
     * how many. Neither may change the table.
     */
    @SuppressWarnings("unchecked")
    public int removeIf(Predicate<? super V> which, Consumer<? super V> removed) {
        int count = 0;
        int slot = 0;
        while (slot < values.length) {
            V value = (V) values[slot];
            if (value != null && which.test(value)) {
                removeAt(slot);
                removed.accept(value);
                count++;
                // removeAt may have shifted a later entry into this slot: look at it again.
            } else {
                slot++;
            }
        }
        return count;
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

    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    public boolean isFull() {
        return size == capacity;
    }

    /** The slot a key's probe run starts at; tests use it to build keys that collide. */
    public int home(long key) {
        // Stafford's mix13 finaliser: MACs and packed flow keys differ mostly in their low bits.
        long h = key * 0x9E37_79B9_7F4A_7C15L;
        h = (h ^ (h >>> 30)) * 0xBF58_476D_1CE4_E5B9L;
        h = (h ^ (h >>> 27)) * 0x94D0_49BB_1331_11EBL;
        return (int) (h ^ (h >>> 31)) & mask;
    }

    /** How many slots the arrays have (a power of two, at least twice the capacity). */
    public int slotCount() {
        return keys.length;
    }

    private int find(long key) {
        for (int slot = home(key); ; slot = (slot + 1) & mask) {
            if (values[slot] == null) {
                return -1;
            }
            if (keys[slot] == key) {
                return slot;
            }
        }
    }

    /**
     * Backward-shift deletion: walk the probe run after the hole and move back every entry whose home slot does
     * not lie cyclically in (hole, slot], so no lookup ever meets a gap before its key.
     */
    private void removeAt(int hole) {
        int slot = hole;
        while (true) {
            slot = (slot + 1) & mask;
            if (values[slot] == null) {
                break;
            }
            int distanceFromHome = (slot - home(keys[slot])) & mask;
            int distanceFromHole = (slot - hole) & mask;
            if (distanceFromHome >= distanceFromHole) {
                keys[hole] = keys[slot];
                values[hole] = values[slot];
                hole = slot;
            }
        }
        values[hole] = null;
        size--;
    }
}
