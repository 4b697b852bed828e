package dev.riscvrelay.relay.switching;

import java.util.Arrays;

/**
 * The switch's filtering database: MAC address → port index and when the address was last seen.
 *
 * <p>An open-addressing hash table on primitive arrays: keys are MACs packed into a {@code long}, collisions are
 * resolved by linear probing, and deletion shifts the following entries of the probe run back (no tombstones),
 * so lookups never slow down as entries come and go. The capacity is fixed; the slot array is at least twice
 * as large, which keeps probe runs short even when the table is full. No allocation after construction.
 *
 * <p>Entries not seen for the ageing time are gone: {@link #lookup} drops an expired entry it finds, and
 * {@link #expire} sweeps the whole table. Time is whatever nanosecond clock the caller passes in.
 *
 * <p>Owned by one thread; not thread-safe.
 */
public final class MacTable {

    /** Returned by {@link #lookup} when the MAC is unknown or its entry has aged out. */
    public static final int NO_PORT = -1;

    /** The largest capacity accepted: the slot arrays then take 20 bytes × 2²¹ (about 40 MiB). */
    public static final int MAX_CAPACITY = 1 << 20;

    /** What {@link #learn} did. */
    public enum Learned {
        /** The MAC was unknown (or had aged out) and is now in the table. */
        NEW,
        /** The MAC was known on the same port; its age was reset. */
        REFRESHED,
        /** The MAC was known on another port and now points to the new one. */
        MOVED,
        /** The MAC was unknown and the table is full: not learned. */
        TABLE_FULL
    }

    /** MACs are 48-bit, so a key with any of the upper 16 bits set can mark a free slot. */
    private static final long FREE = -1L;

    /** 2⁶⁴ / φ: Fibonacci hashing spreads MACs that differ only in their last octets across the table. */
    private static final long FIBONACCI = 0x9E37_79B9_7F4A_7C15L;

    private final long[] keys;
    private final int[] ports;
    private final long[] lastSeenNanos;
    private final int mask;
    private final int hashShift;
    private final int capacity;
    private final long agingNanos;
    private int size;

    /**
     * @param capacity   the most MACs the table holds
     * @param agingNanos how long an entry lives after its MAC was last seen, in nanoseconds
     */
    public MacTable(int capacity, long agingNanos) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("capacity must be in 1.." + MAX_CAPACITY + ": " + capacity);
        }
        if (agingNanos <= 0) {
            throw new IllegalArgumentException("ageing time must be positive: " + agingNanos + " ns");
        }
        int slots = Integer.highestOneBit(capacity * 2 - 1) << 1; // the power of two ≥ 2 × capacity
        this.keys = new long[slots];
        this.ports = new int[slots];
        this.lastSeenNanos = new long[slots];
        Arrays.fill(keys, FREE);
        this.mask = slots - 1;
        this.hashShift = 64 - Integer.numberOfTrailingZeros(slots);
        this.capacity = capacity;
        this.agingNanos = agingNanos;
    }

    /**
     * The port {@code mac} was learned on, or {@link #NO_PORT} when unknown. An entry that has aged out is
     * removed here, so a silent member stops receiving unicast even before the next sweep.
     */
    public int lookup(long mac, long nowNanos) {
        int slot = find(mac);
        if (slot < 0) {
            return NO_PORT;
        }
        if (isExpired(slot, nowNanos)) {
            removeAt(slot);
            return NO_PORT;
        }
        return ports[slot];
    }

    /** Records that {@code mac} was seen as a source on {@code port} at {@code nowNanos}. */
    public Learned learn(long mac, int port, long nowNanos) {
        checkKey(mac);
        if (port < 0) {
            throw new IllegalArgumentException("port index must not be negative: " + port);
        }
        int slot = home(mac);
        while (true) {
            long key = keys[slot];
            if (key == mac) {
                Learned result;
                if (isExpired(slot, nowNanos)) {
                    result = Learned.NEW;
                } else {
                    result = ports[slot] == port ? Learned.REFRESHED : Learned.MOVED;
                }
                ports[slot] = port;
                lastSeenNanos[slot] = nowNanos;
                return result;
            }
            if (key == FREE) {
                if (size == capacity) {
                    return Learned.TABLE_FULL;
                }
                keys[slot] = mac;
                ports[slot] = port;
                lastSeenNanos[slot] = nowNanos;
                size++;
                return Learned.NEW;
            }
            slot = (slot + 1) & mask;
        }
    }

    /** Forgets {@code mac}; returns whether it was in the table. */
    public boolean remove(long mac) {
        int slot = find(mac);
        if (slot < 0) {
            return false;
        }
        removeAt(slot);
        return true;
    }

    /** Forgets every MAC learned on {@code port} (the port left the LAN); returns how many. */
    public int removePort(int port) {
        int removed = 0;
        int slot = 0;
        while (slot < keys.length) {
            if (keys[slot] != FREE && ports[slot] == port) {
                removeAt(slot);
                removed++;
                // removeAt may have shifted a later entry into this slot: look at it again.
            } else {
                slot++;
            }
        }
        return removed;
    }

    /** Removes every entry not seen for the ageing time; returns how many. The owner calls this periodically. */
    public int expire(long nowNanos) {
        int removed = 0;
        int slot = 0;
        while (slot < keys.length) {
            if (keys[slot] != FREE && isExpired(slot, nowNanos)) {
                removeAt(slot);
                removed++;
            } else {
                slot++;
            }
        }
        return removed;
    }

    /** Entries in the table, including aged ones not yet swept. */
    public int size() {
        return size;
    }

    public int capacity() {
        return capacity;
    }

    public boolean isFull() {
        return size == capacity;
    }

    public long agingNanos() {
        return agingNanos;
    }

    /** The slot a MAC's probe run starts at; exposed to tests that need colliding MACs. */
    int home(long mac) {
        return (int) ((mac * FIBONACCI) >>> hashShift);
    }

    int slotCount() {
        return keys.length;
    }

    private int find(long mac) {
        checkKey(mac);
        int slot = home(mac);
        while (true) {
            long key = keys[slot];
            if (key == mac) {
                return slot;
            }
            if (key == FREE) {
                return -1;
            }
            slot = (slot + 1) & mask;
        }
    }

    private boolean isExpired(int slot, long nowNanos) {
        // Difference, not comparison: nanoTime values may wrap.
        return nowNanos - lastSeenNanos[slot] >= agingNanos;
    }

    /**
     * Backward-shift deletion: walk the probe run after the hole and move back every entry whose home slot
     * lies at or before the hole, so no lookup ever meets a gap before its key.
     */
    private void removeAt(int slot) {
        int hole = slot;
        int next = slot;
        while (true) {
            next = (next + 1) & mask;
            long key = keys[next];
            if (key == FREE) {
                break;
            }
            int distanceFromHome = (next - home(key)) & mask;
            int distanceFromHole = (next - hole) & mask;
            if (distanceFromHome >= distanceFromHole) {
                keys[hole] = key;
                ports[hole] = ports[next];
                lastSeenNanos[hole] = lastSeenNanos[next];
                hole = next;
            }
        }
        keys[hole] = FREE;
        size--;
    }

    private static void checkKey(long mac) {
        if ((mac >>> 48) != 0) {
            throw new IllegalArgumentException("not a 48-bit MAC: 0x" + Long.toHexString(mac));
        }
    }
}
