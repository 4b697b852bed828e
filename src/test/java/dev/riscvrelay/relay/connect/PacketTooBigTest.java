package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

class PacketTooBigTest {

    private static final long HOST_MAC = 0x02_00_00_00_00_15L;
    private static final long PEER_MAC = 0x02_00_00_00_00_16L;
    private static final int HOST = 0x0A00020F; // 10.0.2.15
    private static final int PEER = 0x0A000210; // 10.0.2.16

    private final PacketTooBig packetTooBig = new PacketTooBig(UnpooledByteBufAllocator.DEFAULT);

    @Test
    void aFullSizeTcpSegmentWithDfGetsFragmentationNeededNamingTheMtuThatFits() {
        ByteBuf segment = ipv4(true, Ipv4Packet.PROTOCOL_TCP, 1399, 0);
        ByteBuf answer = packetTooBig.answer(segment, 1341);
        try {
            assertThat(answer).isNotNull();
            EthernetFrame ethernet = new EthernetFrame();
            assertThat(ethernet.wrap(answer)).isEqualTo(ParseResult.OK);
            assertThat(ethernet.destination()).as("back to the sender").isEqualTo(HOST_MAC);
            assertThat(ethernet.source()).as("from the MAC it sent to").isEqualTo(PEER_MAC);
            Ipv4Packet ip = new Ipv4Packet();
            assertThat(ip.wrap(answer, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(ip.source()).isEqualTo(PEER);
            assertThat(ip.destination()).isEqualTo(HOST);
            assertThat(ip.protocol()).isEqualTo(Ipv4Packet.PROTOCOL_ICMP);
            int icmp = ip.payloadOffset();
            assertThat((int) answer.getUnsignedByte(icmp)).isEqualTo(IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
            assertThat((int) answer.getUnsignedByte(icmp + 1)).isEqualTo(PacketTooBig.CODE_FRAGMENTATION_NEEDED);
            assertThat(answer.getUnsignedShort(icmp + 6)).as("next-hop MTU (RFC 1191)").isEqualTo(1341);
            assertThat(Checksums.verifies(answer, icmp, ip.payloadLength())).as("ICMP checksum").isTrue();
            // RFC 792: the offending IP header and the first 8 bytes of its data, byte for byte.
            assertThat(ip.payloadLength()).isEqualTo(IcmpPacket.HEADER_LENGTH + 20 + 8);
            assertThat(ByteBufUtil.getBytes(answer, icmp + IcmpPacket.HEADER_LENGTH, 28))
                    .isEqualTo(ByteBufUtil.getBytes(segment, EthernetFrame.HEADER_LENGTH, 28));
        } finally {
            segment.release();
            answer.release();
        }
    }

    @Test
    void packetsWithoutDfAnIcmpErrorAndNonIpv4FramesGetNoAnswer() {
        ByteBuf withoutDf = ipv4(false, Ipv4Packet.PROTOCOL_UDP, 1399, 0);
        ByteBuf icmpError = ipv4(true, Ipv4Packet.PROTOCOL_ICMP, 1399, IcmpPacket.TYPE_DESTINATION_UNREACHABLE);
        ByteBuf arp = ByteBufAllocator.DEFAULT.heapBuffer(60);
        arp.writerIndex(60);
        EthernetFrame.writeHeader(arp, 0, PEER_MAC, HOST_MAC, EthernetFrame.TYPE_ARP);
        try {
            assertThat(packetTooBig.answer(withoutDf, 1341)).as("no DF: a router would fragment").isNull();
            assertThat(packetTooBig.answer(icmpError, 1341)).as("never an error about an error").isNull();
            assertThat(packetTooBig.answer(arp, 1341)).isNull();
        } finally {
            withoutDf.release();
            icmpError.release();
            arp.release();
        }
    }

    @Test
    void anOversizedEchoRequestIsAnswered() {
        ByteBuf ping = ipv4(true, Ipv4Packet.PROTOCOL_ICMP, 1399, IcmpPacket.TYPE_ECHO_REQUEST);
        ByteBuf answer = packetTooBig.answer(ping, 1341);
        try {
            assertThat(answer).isNotNull();
        } finally {
            ping.release();
            answer.release();
        }
    }

    /** An IPv4 frame from the host to its peer, {@code ipLength} bytes of IP, whose payload starts with {@code first}. */
    private static ByteBuf ipv4(boolean dontFragment, int protocol, int ipLength, int first) {
        ByteBuf frame = ByteBufAllocator.DEFAULT.heapBuffer(EthernetFrame.HEADER_LENGTH + ipLength);
        frame.writerIndex(EthernetFrame.HEADER_LENGTH + ipLength);
        EthernetFrame.writeHeader(frame, 0, PEER_MAC, HOST_MAC, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, EthernetFrame.HEADER_LENGTH, ipLength, 7, dontFragment, 64, protocol, HOST,
                PEER);
        for (int i = EthernetFrame.HEADER_LENGTH + 20; i < frame.writerIndex(); i++) {
            frame.setByte(i, i);
        }
        frame.setByte(EthernetFrame.HEADER_LENGTH + 20, first);
        return frame;
    }
}
