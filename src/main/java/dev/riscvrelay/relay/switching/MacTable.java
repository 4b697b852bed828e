package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.lan.LongTable;
import java.util.function.Consumer;

/**
 * The switch's filtering database: MAC address → port index and when the address was last seen.
 *
 * <p>A {@link LongTable} keyed by the MAC packed into a {@code long} (open addressing, backward-shift deletion, no
 * boxing), whose values are small mutable entries: an entry leaves the table for a list of spares and the next
 * new MAC takes it again, so at most {@code capacity} entries are ever made and steady forwarding allocates
 * nothing.
 *
 * <p>Entries not seen for the ageing time are gone: {@link #lookup} drops an expired entry it finds, and
 * {@link #expire} sweeps the whole table. Time is whatever nanosecond clock the caller passes in.
 *
 * <p>Owned by one thread; not thread-safe.
 */
public final class MacTable {

    /** Returned by {@link #lookup} when the MAC is unknown or its entry has aged out. */
    public static final int NO_PORT = -1;

    /** The largest capacity accepted: the table then takes about 60 MiB. */
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

    /** Where a MAC was last seen. */
    private static final class Entry {
        long mac;
        int port;
        long lastSeenNanos;
    }

    private final LongTable<Entry> table;
    private final long agingNanos;
    /** Entries out of the table, for the next new MACs. */
    private final Entry[] spares;
    private int spareCount;
    private final Consumer<Entry> toSpares = this::spare;

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
        this.table = new LongTable<>(capacity);
        this.agingNanos = agingNanos;
        this.spares = new Entry[capacity];
    }

    /**
     * The port {@code mac} was learned on, or {@link #NO_PORT} when unknown. An entry that has aged out is
     * removed here, so a silent member stops receiving unicast even before the next sweep.
     */
    public int lookup(long mac, long nowNanos) {
        checkKey(mac);
        Entry entry = table.get(mac);
        if (entry == null) {
            return NO_PORT;
        }
        if (isExpired(entry, nowNanos)) {
            spare(table.remove(mac));
            return NO_PORT;
        }
        return entry.port;
    }

    /** Records that {@code mac} was seen as a source on {@code port} at {@code nowNanos}. */
    public Learned learn(long mac, int port, long nowNanos) {
        checkKey(mac);
        if (port < 0) {
            throw new IllegalArgumentException("port index must not be negative: " + port);
        }
        Entry entry = table.get(mac);
        Learned result;
        if (entry != null) {
            if (isExpired(entry, nowNanos)) {
                result = Learned.NEW;
            } else {
                result = entry.port == port ? Learned.REFRESHED : Learned.MOVED;
            }
        } else {
            if (table.isFull()) {
                return Learned.TABLE_FULL;
            }
            entry = spareCount > 0 ? spares[--spareCount] : new Entry();
            table.put(mac, entry);
            result = Learned.NEW;
        }
        entry.mac = mac;
        entry.port = port;
        entry.lastSeenNanos = nowNanos;
        return result;
    }

    /** Forgets {@code mac}; returns whether it was in the table. */
    public boolean remove(long mac) {
        checkKey(mac);
        Entry entry = table.remove(mac);
        spare(entry);
        return entry != null;
    }

    /** Forgets every MAC learned on {@code port} (the port left the LAN); returns how many. */
    public int removePort(int port) {
        return table.removeIf(entry -> entry.port == port, toSpares);
    }

    /** Removes every entry not seen for the ageing time; returns how many. The owner calls this periodically. */
    public int expire(long nowNanos) {
        return table.removeIf(entry -> isExpired(entry, nowNanos), toSpares);
    }

    /** Sees one MAC and its port index. */
    @FunctionalInterface
    public interface EntryVisitor {
        void visit(long mac, int port);
    }

    /** Shows every entry that has not aged out at {@code nowNanos}; the visitor must not change the table. */
    public void forEachLive(long nowNanos, EntryVisitor visitor) {
        table.forEach(entry -> {
            if (!isExpired(entry, nowNanos)) {
                visitor.visit(entry.mac, entry.port);
            }
        });
    }

    /** Entries in the table, including aged ones not yet swept. */
    public int size() {
        return table.size();
    }

    public int capacity() {
        return table.capacity();
    }

    public boolean isFull() {
        return table.isFull();
    }

    public long agingNanos() {
        return agingNanos;
    }

    /** The slot a MAC's probe run starts at; exposed to tests that need colliding MACs. */
    int home(long mac) {
        return table.home(mac);
    }

    int slotCount() {
        return table.slotCount();
    }

    private boolean isExpired(Entry entry, long nowNanos) {
        // Difference, not comparison: nanoTime values may wrap.
        return nowNanos - entry.lastSeenNanos >= agingNanos;
    }

    private void spare(Entry entry) {
        if (entry != null) {
            spares[spareCount++] = entry;
        }
    }

    private static void checkKey(long mac) {
        if ((mac >>> 48) != 0) {
            throw new IllegalArgumentException("not a 48-bit MAC: 0x" + Long.toHexString(mac));
        }
    }
}
