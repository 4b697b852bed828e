package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.TimeUnit;

/**
 * What IPv4 and IPv6 reassembly share ({@link Ipv4Reassembly}, {@link Ipv6Reassembly}): datagrams in progress, each
 * keyed by its addresses (two longs each, an IPv4 address in the low half of the first), identification and, for
 * IPv4, protocol; the pieces each has as byte ranges of its payload; the rules a piece must keep and the bounds.
 *
 * <p>The rules: every piece but the last a multiple of 8 bytes (RFC 791, RFC 8200 section 4.5; Linux trims such an
 * IPv4 piece instead); no piece past the last one's end or past the most a datagram carries. A piece that overlaps
 * another without repeating it exactly spoils the datagram, as in Linux's {@code ip_fragment.c} and as RFC 5722
 * requires of IPv6 (overlaps are a way to slip one header past a filter that checked another, RFC 1858); an exact
 * repeat is ignored.
 *
 * <p>Bounded: at most {@link #MAX_DATAGRAMS} in progress per LAN, each of at most {@link #MAX_FRAGMENTS} pieces
 * and held for at most {@link #TIMEOUT_NANOS}; a new datagram when all are taken evicts the oldest. Each drop is
 * counted by reason. A datagram's bytes collect in a frame-shaped buffer with room in front for Ethernet and the
 * family's plain header, which the caller writes once the datagram is whole.
 *
 * <p>Owned by the gateway's event loop.
 */
final class FragmentReassembly {

    /** Datagrams in progress per LAN and family: a VM's bursts of large datagrams complete within a round trip. */
    static final int MAX_DATAGRAMS = 16;
    /** Pieces per datagram: 65,535 bytes on a LAN of 576 (IPv4's least MTU a host must take) take 119. */
    static final int MAX_FRAGMENTS = 128;
    /** How long the pieces of one datagram wait for the rest; its pieces cross one LAN, not the internet. */
    static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final int FIRST_CAPACITY = 4096;

    private final ByteBufAllocator allocator;
    private final Counters counters;
    /** Where a datagram's payload starts in its buffer: after Ethernet and the family's plain header. */
    private final int payloadAt;
    /** The most payload one datagram carries. */
    private final int maxPayload;
    private final Datagram[] datagrams = new Datagram[MAX_DATAGRAMS];

    /** The protocol the first piece (offset 0) named, of the datagram {@link #offer} last completed. */
    private int completedUpper;
    /** How many bytes the first piece carried, of the datagram {@link #offer} last completed. */
    private int completedFirstLength;

    FragmentReassembly(ByteBufAllocator allocator, Counters counters, int headerLength, int maxPayload) {
        this.allocator = allocator;
        this.counters = counters;
        this.payloadAt = EthernetFrame.HEADER_LENGTH + headerLength;
        this.maxPayload = maxPayload;
        for (int i = 0; i < MAX_DATAGRAMS; i++) {
            datagrams[i] = new Datagram();
        }
    }

    /**
     * Takes one piece: {@code length} bytes at absolute {@code index} of {@code data} (not retained), {@code start}
     * bytes into its datagram's payload, the last piece unless {@code more}. {@code upper} is the protocol a piece at
     * offset 0 names (IPv6 keeps it in the fragment header, not in the key). Returns the datagram's buffer once its
     * last missing piece arrived, readable from index 0 to the payload's end with the headers still to write (the
     * caller releases it), else null.
     */
    ByteBuf offer(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow, int identification,
            int protocol, int upper, ByteBuf data, int index, int start, int length, boolean more, long now) {
        counters.increment(Counter.IP_FRAGMENTS_IN);
        Datagram datagram = find(sourceHigh, sourceLow, destinationHigh, destinationLow, identification, protocol,
                now);
        int end = start + length;
        boolean last = !more;
        if ((!last && (length & 7) != 0) || length == 0 || end > maxPayload
                || (last && datagram.total >= 0 && end != datagram.total)
                || (!last && datagram.total >= 0 && end > datagram.total)
                || (last && end < datagram.highest)) {
            spoil(datagram);
            return null;
        }
        for (int i = 0; i < datagram.pieces; i++) {
            int otherStart = datagram.starts[i];
            int otherEnd = datagram.ends[i];
            if (start < otherEnd && otherStart < end) {
                if (start == otherStart && end == otherEnd) {
                    return null; // sent twice: the first copy stands
                }
                spoil(datagram);
                return null;
            }
        }
        if (datagram.pieces == MAX_FRAGMENTS) {
            spoil(datagram);
            return null;
        }
        ByteBuf frame = datagram.frame;
        if (frame.capacity() < payloadAt + end) {
            frame.capacity(Math.min(payloadAt + maxPayload, Math.max(payloadAt + end, 2 * frame.capacity())));
        }
        frame.setBytes(payloadAt + start, data, index, length);
        datagram.starts[datagram.pieces] = start;
        datagram.ends[datagram.pieces] = end;
        datagram.pieces++;
        datagram.received += length;
        datagram.highest = Math.max(datagram.highest, end);
        if (start == 0) {
            datagram.upper = upper;
            datagram.firstLength = length;
        }
        if (last) {
            datagram.total = end;
        }
        if (datagram.total < 0 || datagram.received != datagram.total) {
            return null;
        }
        frame.setIndex(0, payloadAt + datagram.total);
        completedUpper = datagram.upper;
        completedFirstLength = datagram.firstLength;
        datagram.frame = null;
        datagram.clear();
        counters.increment(Counter.IP_DATAGRAMS_REASSEMBLED);
        return frame;
    }

    /** Of the datagram {@link #offer} returned last: the protocol its first piece named. */
    int completedUpper() {
        return completedUpper;
    }

    /** Of the datagram {@link #offer} returned last: how many bytes its first piece carried. */
    int completedFirstLength() {
        return completedFirstLength;
    }

    /** Counts a datagram that came whole but may not be used; the caller releases it. */
    void rejectCompleted() {
        counters.increment(Counter.DROP_IP_REASSEMBLY_INVALID);
    }

    /** Drops every datagram whose time is up; call about once a second. */
    void expire(long now) {
        for (Datagram datagram : datagrams) {
            if (datagram.inUse() && now - datagram.started > TIMEOUT_NANOS) {
                counters.increment(Counter.DROP_IP_REASSEMBLY_TIMEOUT);
                datagram.release();
            }
        }
    }

    /** Drops every datagram in progress, uncounted (the LAN is closing). */
    void clear() {
        for (Datagram datagram : datagrams) {
            datagram.release();
        }
    }

    /** Datagrams in progress. */
    int inProgress() {
        int count = 0;
        for (Datagram datagram : datagrams) {
            count += datagram.inUse() ? 1 : 0;
        }
        return count;
    }

    /** The datagram a piece belongs to: one in progress, else a free or expired slot, else the oldest. */
    private Datagram find(long sourceHigh, long sourceLow, long destinationHigh, long destinationLow,
            int identification, int protocol, long now) {
        Datagram free = null;
        Datagram oldest = null;
        for (Datagram datagram : datagrams) {
            if (!datagram.inUse()) {
                free = free == null ? datagram : free;
                continue;
            }
            if (datagram.identification == identification && datagram.sourceLow == sourceLow
                    && datagram.destinationLow == destinationLow && datagram.sourceHigh == sourceHigh
                    && datagram.destinationHigh == destinationHigh && datagram.protocol == protocol) {
                if (now - datagram.started <= TIMEOUT_NANOS) {
                    return datagram;
                }
                counters.increment(Counter.DROP_IP_REASSEMBLY_TIMEOUT);
                datagram.release();
                free = datagram;
                break;
            }
            if (oldest == null || datagram.started - oldest.started < 0) {
                oldest = datagram;
            }
        }
        if (free == null) {
            boolean expired = now - oldest.started > TIMEOUT_NANOS;
            counters.increment(expired ? Counter.DROP_IP_REASSEMBLY_TIMEOUT : Counter.DROP_IP_REASSEMBLY_EVICTED);
            oldest.release();
            free = oldest;
        }
        free.frame = allocator.directBuffer(FIRST_CAPACITY);
        free.sourceHigh = sourceHigh;
        free.sourceLow = sourceLow;
        free.destinationHigh = destinationHigh;
        free.destinationLow = destinationLow;
        free.identification = identification;
        free.protocol = protocol;
        free.started = now;
        return free;
    }

    private void spoil(Datagram datagram) {
        counters.increment(Counter.DROP_IP_REASSEMBLY_INVALID);
        datagram.release();
    }

    /** One datagram in progress: its key, the pieces it has (as byte ranges of its payload) and their bytes. */
    private static final class Datagram {
        final int[] starts = new int[MAX_FRAGMENTS];
        final int[] ends = new int[MAX_FRAGMENTS];
        /** Frame-shaped: room for Ethernet and a plain header, then the payload at its offset. */
        ByteBuf frame;
        long sourceHigh;
        long sourceLow;
        long destinationHigh;
        long destinationLow;
        int identification;
        int protocol;
        long started;
        int pieces;
        int received;
        int highest;
        int upper = -1;
        int firstLength;
        /** The payload's length once the last piece came, else -1. */
        int total = -1;

        boolean inUse() {
            return frame != null;
        }

        void release() {
            if (frame != null) {
                frame.release();
                frame = null;
            }
            clear();
        }

        void clear() {
            pieces = 0;
            received = 0;
            highest = 0;
            upper = -1;
            firstLength = 0;
            total = -1;
        }
    }
}
