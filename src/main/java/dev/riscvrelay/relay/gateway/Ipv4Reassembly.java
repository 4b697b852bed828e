package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.TimeUnit;

/**
 * Puts back together the IPv4 datagrams VMs send in fragments (RFC 791 section 3.2), so that UDP and ICMP larger
 * than the LAN MTU reach the outside whole: on the default LAN of 1185 bytes, a QUIC client's first packet (at least
 * 1,200 bytes of UDP), a WireGuard tunnel's full-size packets, a large DNS query or ping. The kernel of the host
 * fragments them again where its own path needs it.
 *
 * <p>What a datagram's pieces must agree on: one (source, destination, protocol, identification); every piece but
 * the last a multiple of 8 bytes (RFC 791; Linux trims such a piece instead); no piece past the last one's end or
 * past 65,535 bytes. A piece that overlaps another without repeating it exactly spoils the datagram, as in Linux's
 * {@code ip_fragment.c} (overlaps are a way to slip one header past a filter that checked another, RFC 1858); an
 * exact repeat is ignored.
 *
 * <p>Bounded: at most {@link #MAX_DATAGRAMS} in progress per LAN, each of at most {@link #MAX_FRAGMENTS} pieces
 * and held for at most {@link #TIMEOUT_NANOS}; a new datagram when all are taken evicts the oldest. Each drop is
 * counted by reason. The whole datagram leaves as a fresh frame: Ethernet header of its last piece, an IPv4 header
 * without options (the NAT sends through host sockets, which write their own), the payload in order.
 *
 * <p>Owned by the gateway's event loop.
 */
final class Ipv4Reassembly {

    /** Datagrams in progress per LAN: a VM's bursts of large datagrams complete within a round trip. */
    static final int MAX_DATAGRAMS = 16;
    /** Pieces per datagram: 65,535 bytes on a LAN of 576 (IPv4's least MTU a host must take) take 119. */
    static final int MAX_FRAGMENTS = 128;
    /** How long the pieces of one datagram wait for the rest; its pieces cross one LAN, not the internet. */
    static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    /** The largest IPv4 datagram: header and payload. */
    static final int MAX_DATAGRAM = 0xFFFF;
    private static final int HEADER = Ipv4Packet.MIN_HEADER_LENGTH;
    private static final int PAYLOAD_AT = EthernetFrame.HEADER_LENGTH + HEADER;
    private static final int FIRST_CAPACITY = 4096;

    private final ByteBufAllocator allocator;
    private final Counters counters;
    private final Datagram[] datagrams = new Datagram[MAX_DATAGRAMS];

    Ipv4Reassembly(ByteBufAllocator allocator, Counters counters) {
        this.allocator = allocator;
        this.counters = counters;
        for (int i = 0; i < MAX_DATAGRAMS; i++) {
            datagrams[i] = new Datagram();
        }
    }

    /**
     * Takes the fragment {@code ip} of {@code ethernet} (not retained). Returns the whole datagram in a new frame
     * once its last missing piece arrived (the caller releases it), else null.
     */
    ByteBuf offer(EthernetFrame ethernet, Ipv4Packet ip, long now) {
        counters.increment(Counter.IP_FRAGMENTS_IN);
        Datagram datagram = find(ip, now);
        int start = ip.fragmentOffset();
        int length = ip.payloadLength();
        int end = start + length;
        boolean last = !ip.moreFragments();
        if ((!last && (length & 7) != 0) || length == 0 || HEADER + end > MAX_DATAGRAM
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
        if (frame.capacity() < PAYLOAD_AT + end) {
            frame.capacity(Math.min(PAYLOAD_AT + MAX_DATAGRAM - HEADER,
                    Math.max(PAYLOAD_AT + end, 2 * frame.capacity())));
        }
        frame.setBytes(PAYLOAD_AT + start, ip.buffer(), ip.payloadOffset(), length);
        datagram.starts[datagram.pieces] = start;
        datagram.ends[datagram.pieces] = end;
        datagram.pieces++;
        datagram.received += length;
        datagram.highest = Math.max(datagram.highest, end);
        if (last) {
            datagram.total = end;
        }
        if (datagram.total < 0 || datagram.received != datagram.total) {
            return null;
        }
        // Complete: Ethernet from this piece (the VM's MAC to the gateway's), a plain header, the whole payload.
        frame.setBytes(0, ethernet.buffer(), ethernet.offset(), EthernetFrame.HEADER_LENGTH);
        Ipv4Packet.writeHeader(frame, EthernetFrame.HEADER_LENGTH, HEADER + datagram.total, datagram.identification,
                false, ip.ttl(), datagram.protocol, datagram.source, datagram.destination);
        frame.setIndex(0, PAYLOAD_AT + datagram.total);
        datagram.frame = null;
        datagram.clear();
        counters.increment(Counter.IP_DATAGRAMS_REASSEMBLED);
        return frame;
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

    /** The datagram {@code ip} belongs to: one in progress, else a free or expired slot, else the oldest. */
    private Datagram find(Ipv4Packet ip, long now) {
        Datagram free = null;
        Datagram oldest = null;
        for (Datagram datagram : datagrams) {
            if (!datagram.inUse()) {
                free = free == null ? datagram : free;
                continue;
            }
            if (datagram.source == ip.source() && datagram.destination == ip.destination()
                    && datagram.protocol == ip.protocol() && datagram.identification == ip.identification()) {
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
        free.start(allocator.directBuffer(FIRST_CAPACITY), ip, now);
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
        /** Frame-shaped: room for Ethernet and a plain IPv4 header, then the payload at its offset. */
        ByteBuf frame;
        int source;
        int destination;
        int protocol;
        int identification;
        long started;
        int pieces;
        int received;
        int highest;
        /** The payload's length once the last piece came, else -1. */
        int total = -1;

        boolean inUse() {
            return frame != null;
        }

        void start(ByteBuf buffer, Ipv4Packet ip, long now) {
            frame = buffer;
            source = ip.source();
            destination = ip.destination();
            protocol = ip.protocol();
            identification = ip.identification();
            started = now;
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
            total = -1;
        }
    }
}
