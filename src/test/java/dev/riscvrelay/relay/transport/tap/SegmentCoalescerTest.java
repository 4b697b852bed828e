package dev.riscvrelay.relay.transport.tap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.TcpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SegmentCoalescerTest {

    private static final long VM_MAC = 0x5254_0012_3415L;
    private static final long GATEWAY_MAC = 0x5254_0012_3456L;
    private static final int ISS = 0xFFFF_F000; // wraps within the test's segments
    private static final int ACK = TcpPacket.FLAG_ACK;
    private static final int PSH = TcpPacket.FLAG_PSH;

    private final Counters counters = new Counters();
    private final List<byte[]> written = new ArrayList<>();
    /** Every frame a test made, released after it: the coalescer copies and never releases. */
    private final List<ByteBuf> made = new ArrayList<>();
    private final SegmentCoalescer coalescer = new SegmentCoalescer(this::capture, counters);

    @AfterEach
    void close() {
        coalescer.close();
        made.forEach(ByteBuf::release);
    }

    private void capture(ByteBuf headerAndFrame) {
        written.add(ByteBufUtil.getBytes(headerAndFrame));
        headerAndFrame.release();
    }

    @Test
    void consecutiveSegmentsOfABurstLeaveAsOneSuperFrameTheKernelCanSplitBack() {
        List<ByteBuf> segments = List.of(
                segment(ISS, 1000, ACK, 1), segment(ISS + 1000, 1000, ACK, 2),
                segment(ISS + 2000, 1000, ACK, 3), segment(ISS + 3000, 400, ACK | PSH, 4));
        segments.forEach(this::offer);

        assertThat(written).hasSize(1); // the short PSH segment ended it without a flush
        byte[] out = written.getFirst();
        assertThat(out[0]).isEqualTo(TapDevice.VNET_F_NEEDS_CSUM);
        assertThat(out[1]).isEqualTo(TapDevice.VNET_GSO_TCPV4);
        assertThat(littleShort(out, TapDevice.VNET_HDR_LEN)).isEqualTo(14 + 20 + 20);
        assertThat(littleShort(out, TapDevice.VNET_GSO_SIZE)).isEqualTo(1000);
        assertThat(littleShort(out, TapDevice.VNET_CSUM_START)).isEqualTo(34);
        assertThat(littleShort(out, TapDevice.VNET_CSUM_OFFSET)).isEqualTo(16);
        assertThat(counters.get(Counter.TAP_SEGMENTS_COALESCED)).isEqualTo(3);

        ByteBuf frame = Unpooled.wrappedBuffer(out, TapDevice.VNET_HEADER, out.length - TapDevice.VNET_HEADER);
        assertThat(frame.readableBytes()).isEqualTo(14 + 20 + 20 + 3400);
        assertThat(frame.getUnsignedShort(14 + 2)).isEqualTo(20 + 20 + 3400);
        assertThat(Checksums.internetChecksum(frame, 14, 20)).as("IPv4 header checksum verifies").isZero();
        assertThat(frame.getInt(34 + 4)).isEqualTo(ISS);
        assertThat((int) frame.getUnsignedByte(34 + 13)).isEqualTo(ACK | PSH);
        byte[] payload = new byte[3400];
        frame.getBytes(54, payload);
        byte[] expected = new byte[3400];
        for (int i = 0; i < 4; i++) {
            ByteBuf s = segments.get(i);
            s.getBytes(54, expected, i * 1000, s.readableBytes() - 54);
        }
        assertThat(payload).isEqualTo(expected);
        // What the kernel does with NEEDS_CSUM: sum from csum_start to the end over the field's pseudo-header sum.
        int tcpLength = frame.readableBytes() - 34;
        frame.setShort(34 + 16, Checksums.finish(Checksums.sum(frame, 34, tcpLength)));
        long verify = Checksums.pseudoHeaderSum(TcpFrames.PEER, TcpFrames.GUEST, 6, tcpLength) + Checksums.sum(frame, 34, tcpLength);
        assertThat(Checksums.fold(verify)).as("the finished TCP checksum verifies").isEqualTo(0xFFFF);
    }

    @Test
    void aLoneSegmentAndAnythingElseLeaveUnchangedBehindAnEmptyHeader() {
        ByteBuf alone = segment(ISS, 1000, ACK, 1);
        ByteBuf arp = Unpooled.buffer(60).writerIndex(60);
        made.add(arp);
        EthernetFrame.writeHeader(arp, 0, -1L & 0xFFFF_FFFF_FFFFL, GATEWAY_MAC, 0x0806);
        offer(alone);
        offer(arp);

        assertThat(written).hasSize(2);
        assertThat(frameOf(written.get(0))).isEqualTo(bytes(alone));
        assertThat(headerOf(written.get(0))).containsOnly(0);
        assertThat(frameOf(written.get(1))).isEqualTo(bytes(arp));
        assertThat(headerOf(written.get(1))).containsOnly(0);
        assertThat(counters.get(Counter.TAP_SEGMENTS_COALESCED)).isZero();
    }

    @Test
    void aSegmentWaitsForTheFlushAtTheEndOfTheBurst() {
        offer(segment(ISS, 1000, ACK, 1));
        offer(segment(ISS + 1000, 1000, ACK, 2));
        assertThat(written).isEmpty();

        coalescer.flush();

        assertThat(written).hasSize(1);
        assertThat(littleShort(written.getFirst(), TapDevice.VNET_GSO_SIZE)).isEqualTo(1000);
        coalescer.flush();
        assertThat(written).hasSize(1);
    }

    @Test
    void framesThatDoNotContinueTheSuperFrameEndItAndKeepTheirOrder() {
        ByteBuf first = segment(ISS, 1000, ACK, 1);
        ByteBuf gap = segment(ISS + 2000, 1000, ACK, 2); // 1000 bytes missing
        ByteBuf otherFlow = segment(ISS + 3000, 1000, ACK, 3);
        otherFlow.setShort(34, 81); // another source port
        ByteBuf otherWindow = segment(ISS + 3000, 1000, ACK, 4);
        otherWindow.setShort(34 + 14, 77);
        ByteBuf larger = segment(ISS + 4000, 1200, ACK, 5);
        for (ByteBuf frame : List.of(first, gap, otherFlow, otherWindow, larger)) {
            offer(frame);
        }
        coalescer.flush();

        assertThat(written).hasSize(5);
        assertThat(frameOf(written.get(0))).isEqualTo(bytes(first));
        assertThat(frameOf(written.get(1))).isEqualTo(bytes(gap));
        assertThat(frameOf(written.get(2))).isEqualTo(bytes(otherFlow));
        assertThat(frameOf(written.get(3))).isEqualTo(bytes(otherWindow));
        assertThat(counters.get(Counter.TAP_SEGMENTS_COALESCED)).isZero();
    }

    @Test
    void onlyPlainDataSegmentsJoin() {
        int[] refused = {TcpPacket.FLAG_SYN | ACK, TcpPacket.FLAG_FIN | ACK, TcpPacket.FLAG_RST | ACK,
            TcpPacket.FLAG_URG | ACK, PSH /* no ACK */};
        int sequence = ISS;
        for (int flags : refused) {
            offer(segment(sequence, 1000, ACK, 1));
            offer(segment(sequence + 1000, 1000, flags, 2));
            sequence += 2000;
        }
        ByteBuf ipOptions = segment(sequence, 1000, ACK, 3);
        ipOptions.setByte(14, 0x46);
        ByteBuf fragment = segment(sequence, 1000, ACK, 4);
        fragment.setShort(14 + 6, 0x2000); // more fragments
        ByteBuf pureAck = segment(sequence, 0, ACK, 5);
        offer(ipOptions);
        offer(fragment);
        offer(pureAck);
        coalescer.flush();

        assertThat(counters.get(Counter.TAP_SEGMENTS_COALESCED)).isZero();
        assertThat(written).hasSize(2 * refused.length + 3);
        assertThat(written).allSatisfy(out -> assertThat(headerOf(out)).containsOnly(0));
    }

    @Test
    void aSuperFrameStopsAt64SegmentsAnd64KiB() {
        for (int i = 0; i < SegmentCoalescer.MAX_SEGMENTS + 1; i++) {
            offer(segment(ISS + i * 100, 100, ACK, i));
        }
        coalescer.flush();
        assertThat(written).hasSize(2);
        assertThat(frameOf(written.get(0)).length).isEqualTo(54 + SegmentCoalescer.MAX_SEGMENTS * 100);

        written.clear();
        for (int i = 0; i < 50; i++) {
            offer(segment(ISS + i * 1460, 1460, ACK, i));
        }
        coalescer.flush();
        assertThat(written).hasSize(2);
        int firstIpLength = frameOf(written.get(0)).length - 14;
        assertThat(firstIpLength).isLessThanOrEqualTo(65535).isEqualTo(40 + 44 * 1460);
    }

    @Test
    void ethernetPaddingIsNotPayload() {
        ByteBuf padded = Unpooled.buffer(80);
        made.add(padded);
        ByteBuf small = segment(ISS, 4, ACK, 1);
        padded.writeBytes(small, 0, small.readableBytes()).writeZero(80 - small.readableBytes());
        offer(padded);
        offer(segment(ISS + 4, 4, ACK | PSH, 2));

        assertThat(written).hasSize(1);
        assertThat(frameOf(written.getFirst()).length).isEqualTo(54 + 8);
    }

    @Test
    void afterCloseFramesAreIgnoredAndNothingIsWritten() {
        offer(segment(ISS, 1000, ACK, 1));
        coalescer.close();
        offer(segment(ISS + 1000, 1000, ACK, 2));
        coalescer.flush();
        assertThat(written).isEmpty();
    }

    private void offer(ByteBuf frame) {
        coalescer.offer(frame);
        assertThat(frame.refCnt()).as("the coalescer copies and never releases").isPositive();
    }

    /** A TCP segment to the VM with checksums, payload bytes derived from {@code mark}. */
    private ByteBuf segment(int sequence, int payload, int flags, int mark) {
        byte[] data = new byte[payload];
        for (int i = 0; i < payload; i++) {
            data[i] = (byte) (mark * 31 + i);
        }
        ByteBuf frame = TcpFrames.segment(VM_MAC, sequence, 12345, mark, flags, data);
        made.add(frame);
        return frame;
    }

    private static byte[] bytes(ByteBuf frame) {
        byte[] copy = new byte[frame.readableBytes()];
        frame.getBytes(frame.readerIndex(), copy);
        return copy;
    }

    private static byte[] headerOf(byte[] out) {
        return Arrays.copyOf(out, TapDevice.VNET_HEADER);
    }

    private static byte[] frameOf(byte[] out) {
        return Arrays.copyOfRange(out, TapDevice.VNET_HEADER, out.length);
    }

    private static int littleShort(byte[] out, int offset) {
        return Short.toUnsignedInt(MemorySegment.ofArray(out)
                .get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), offset));
    }
}
