package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The reassembly's rules and bounds, piece by piece; GatewayTest feeds it Linux's own fragments. */
class Ipv4ReassemblyTest {

    private static final long VM_MAC = MacAddress.parse("52:55:0a:00:02:0f");
    private static final long GATEWAY_MAC = MacAddress.parse("52:54:00:12:34:56");
    private static final int VM = Ipv4Address.parse("10.0.2.15");
    private static final int HOST = Ipv4Address.parse("203.0.113.10");
    private static final long SECOND = 1_000_000_000L;

    private final Counters counters = new Counters();
    private final UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(true);
    private final Ipv4Reassembly reassembly = new Ipv4Reassembly(allocator, counters);
    private final EthernetFrame ethernet = new EthernetFrame();
    private final Ipv4Packet ip = new Ipv4Packet();
    private final List<ByteBuf> wholes = new ArrayList<>();

    @AfterEach
    void nothingIsHeld() {
        reassembly.clear();
        assertThat(reassembly.inProgress()).isZero();
        for (ByteBuf whole : wholes) {
            assertThat(whole.refCnt()).isEqualTo(1);
            whole.release();
        }
        assertThat(allocator.metric().usedDirectMemory()).as("every buffer back in the pool").isZero();
    }

    @Test
    void piecesInAnyOrderMakeTheDatagramWithAPlainHeader() {
        byte[] payload = pattern(2000);
        assertThat(offer(7, 1480, false, slice(payload, 1480, 2000), 0)).isNull();
        assertThat(offer(7, 0, true, slice(payload, 0, 736), 0)).isNull();
        ByteBuf whole = offer(7, 736, true, slice(payload, 736, 1480), 0);

        assertThat(whole).isNotNull();
        assertThat(ethernet.wrap(whole)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.source()).isEqualTo(VM_MAC);
        assertThat(ethernet.destination()).isEqualTo(GATEWAY_MAC);
        assertThat(ip.wrap(whole, ethernet.payloadOffset(), ethernet.payloadLength()))
                .as("a valid header, checksum included").isEqualTo(ParseResult.OK);
        assertThat(ip.isFragment()).isFalse();
        assertThat(ip.totalLength()).isEqualTo(20 + 2000);
        assertThat(ip.source()).isEqualTo(VM);
        assertThat(ip.destination()).isEqualTo(HOST);
        assertThat(ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_UDP);
        assertThat(ip.identification()).isEqualTo(7);
        assertThat(ByteBufUtil.getBytes(whole, ip.payloadOffset(), ip.payloadLength())).isEqualTo(payload);
        assertThat(counters.get(Counter.IP_FRAGMENTS_IN)).isEqualTo(3);
        assertThat(counters.get(Counter.IP_DATAGRAMS_REASSEMBLED)).isEqualTo(1);
        assertThat(reassembly.inProgress()).isZero();
    }

    @Test
    void twoDatagramsInterleavedStayApartByIdentification() {
        byte[] a = pattern(1600);
        byte[] b = new byte[1600];
        assertThat(offer(1, 0, true, slice(a, 0, 800), 0)).isNull();
        assertThat(offer(2, 0, true, slice(b, 0, 800), 0)).isNull();
        ByteBuf wholeB = offer(2, 800, false, slice(b, 800, 1600), 0);
        ByteBuf wholeA = offer(1, 800, false, slice(a, 800, 1600), 0);
        assertThat(ByteBufUtil.getBytes(wholeA, 34, 1600)).isEqualTo(a);
        assertThat(ByteBufUtil.getBytes(wholeB, 34, 1600)).isEqualTo(b);
    }

    @Test
    void anExactRepeatIsIgnoredAndAnOverlapSpoilsTheDatagram() {
        byte[] payload = pattern(1600);
        offer(3, 0, true, slice(payload, 0, 800), 0);
        assertThat(offer(3, 0, true, slice(payload, 0, 800), 0)).as("a repeat").isNull();
        assertThat(reassembly.inProgress()).isEqualTo(1);
        assertThat(offer(3, 792, false, slice(payload, 792, 1600), 0)).as("8 bytes over the first piece").isNull();
        assertThat(reassembly.inProgress()).isZero();
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(1);
        // What was left of it starts a datagram of its own, which never completes.
        assertThat(offer(3, 800, false, slice(payload, 800, 1600), 0)).isNull();
    }

    @Test
    void piecesThatCannotBelongToOneDatagramSpoilIt() {
        byte[] payload = pattern(4000);
        offer(4, 0, true, slice(payload, 0, 1001), 0); // not a multiple of 8, yet more follow
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(1);

        offer(5, 1600, false, slice(payload, 1600, 2000), 0); // ends the datagram at 2000 bytes
        offer(5, 2000, true, slice(payload, 2000, 2400), 0); // a piece past that end
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(2);

        offer(6, 65_528, false, new byte[16], 0); // past 65,535 bytes with its header
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(3);
        assertThat(reassembly.inProgress()).isZero();
        assertThat(counters.get(Counter.IP_DATAGRAMS_REASSEMBLED)).isZero();
    }

    @Test
    void theLargestDatagramGoesThroughAndTooManyPiecesDoNot() {
        byte[] payload = pattern(0xFFFF - 20);
        ByteBuf whole = null;
        for (int at = 0; at < payload.length; at += 1160) {
            int end = Math.min(payload.length, at + 1160);
            whole = offer(8, at, end < payload.length, slice(payload, at, end), 0);
        }
        assertThat(whole).isNotNull();
        assertThat(ByteBufUtil.getBytes(whole, 34, payload.length)).isEqualTo(payload);

        for (int piece = 0; piece <= FragmentReassembly.MAX_FRAGMENTS; piece++) {
            offer(9, piece * 8, true, new byte[8], 0);
        }
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(1);
        assertThat(reassembly.inProgress()).isZero();
    }

    @Test
    void piecesWaitFiveSecondsAtMost() {
        byte[] payload = pattern(1600);
        offer(10, 0, true, slice(payload, 0, 800), 0);
        reassembly.expire(5 * SECOND);
        assertThat(reassembly.inProgress()).as("not yet").isEqualTo(1);
        reassembly.expire(5 * SECOND + 1);
        assertThat(reassembly.inProgress()).isZero();
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_TIMEOUT)).isEqualTo(1);

        // A late piece finds its datagram gone even before the next sweep.
        offer(11, 0, true, slice(payload, 0, 800), 0);
        assertThat(offer(11, 800, false, slice(payload, 800, 1600), 6 * SECOND)).isNull();
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_TIMEOUT)).isEqualTo(2);
    }

    @Test
    void aNewDatagramWhenAllSlotsAreTakenEvictsTheOldest() {
        byte[] payload = pattern(1600);
        for (int id = 0; id < FragmentReassembly.MAX_DATAGRAMS; id++) {
            offer(100 + id, 0, true, slice(payload, 0, 800), id);
        }
        offer(999, 0, true, slice(payload, 0, 800), 100);
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_EVICTED)).isEqualTo(1);
        assertThat(reassembly.inProgress()).isEqualTo(FragmentReassembly.MAX_DATAGRAMS);
        // The oldest's last piece starts a datagram of its own, evicting the next oldest (101).
        assertThat(offer(100, 800, false, slice(payload, 800, 1600), 100)).as("the oldest is gone").isNull();
        assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_EVICTED)).isEqualTo(2);
        assertThat(offer(102, 800, false, slice(payload, 800, 1600), 100)).as("a later one is whole").isNotNull();
    }

    /** Offers one fragment of datagram {@code id}: {@code data} at payload {@code offset}, MF as given. */
    private ByteBuf offer(int id, int offset, boolean more, byte[] data, long now) {
        ByteBuf frame = allocator.directBuffer(34 + data.length);
        frame.writerIndex(34 + data.length);
        EthernetFrame.writeHeader(frame, 0, GATEWAY_MAC, VM_MAC, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeFragmentHeader(frame, 14, 20 + data.length, id, offset, more, 64, Ipv4Packet.PROTOCOL_UDP,
                VM, HOST);
        frame.setBytes(34, data);
        try {
            assertThat(ethernet.wrap(frame)).isEqualTo(ParseResult.OK);
            assertThat(ip.wrap(frame, 14, 20 + data.length)).isEqualTo(ParseResult.OK);
            ByteBuf whole = reassembly.offer(ethernet, ip, now);
            if (whole != null) {
                wholes.add(whole);
            }
            return whole;
        } finally {
            frame.release();
        }
    }

    private static byte[] pattern(int length) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (i * 31 + i / 251);
        }
        return bytes;
    }

    private static byte[] slice(byte[] bytes, int from, int to) {
        return java.util.Arrays.copyOfRange(bytes, from, to);
    }
}
