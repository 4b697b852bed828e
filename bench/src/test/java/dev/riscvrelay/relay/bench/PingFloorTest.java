package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.nat.TestFrames;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.Checksums;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the ping floor's gateway answers, and what it leaves alone. */
class PingFloorTest {

    private static final long HOST_MAC = 0x02_00_00_00_00_15L;
    private static final int HOST = Ipv4Address.parse("10.0.2.15");
    private static final int GATEWAY = NetworkConfig.defaults().gatewayAddress();
    private static final long GATEWAY_MAC = NetworkConfig.defaults().gatewayMac();

    private final PingFloor floor = new PingFloor();

    @Test
    void anEchoRequestToTheGatewayBecomesItsReplyWithTheSameDataAndValidChecksums() {
        byte[] data = "floor".getBytes(StandardCharsets.US_ASCII);
        ByteBuf frame = TestFrames.echoRequest(HOST_MAC, HOST, GATEWAY, 7, 42, data);
        try {
            assertThat(floor.answer(frame)).isTrue();

            TestFrames.Parsed reply = new TestFrames.Parsed(frame);
            assertThat(reply.ethernet.destination()).isEqualTo(HOST_MAC);
            assertThat(reply.ethernet.source()).isEqualTo(GATEWAY_MAC);
            assertThat(reply.ip.source()).isEqualTo(GATEWAY);
            assertThat(reply.ip.destination()).isEqualTo(HOST);
            assertThat(Checksums.verifies(frame, reply.ip.offset(), reply.ip.headerLength())).isTrue();
            IcmpPacket icmp = new IcmpPacket();
            assertThat(icmp.wrap(frame, reply.ip.payloadOffset(), reply.ip.payloadLength()))
                    .isEqualTo(ParseResult.OK);
            assertThat(icmp.type()).isEqualTo(IcmpPacket.TYPE_ECHO_REPLY);
            assertThat(icmp.identifier()).isEqualTo(7);
            assertThat(icmp.sequenceNumber()).isEqualTo(42);
            assertThat(ByteBufUtil.getBytes(frame, icmp.dataOffset(), icmp.dataLength())).isEqualTo(data);
        } finally {
            frame.release();
        }
    }

    @Test
    void anArpRequestForTheGatewayBecomesItsReply() {
        ByteBuf frame = arpRequest(GATEWAY);
        assertThat(floor.answer(frame)).isTrue();

        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(frame)).isEqualTo(ParseResult.OK);
        assertThat(ethernet.destination()).isEqualTo(HOST_MAC);
        assertThat(ethernet.source()).isEqualTo(GATEWAY_MAC);
        ArpPacket arp = new ArpPacket();
        assertThat(arp.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
        assertThat(arp.operation()).isEqualTo(ArpPacket.OPERATION_REPLY);
        assertThat(arp.senderMac()).isEqualTo(GATEWAY_MAC);
        assertThat(arp.senderIp()).isEqualTo(GATEWAY);
        assertThat(arp.targetMac()).isEqualTo(HOST_MAC);
        assertThat(arp.targetIp()).isEqualTo(HOST);
    }

    @Test
    void framesForAnyoneElseOrOfAnotherKindAreLeftUnanswered() {
        int other = Ipv4Address.parse("10.0.2.16");
        ByteBuf echoToAnother = TestFrames.echoRequest(HOST_MAC, HOST, other, 1, 1, new byte[8]);
        ByteBuf udpToGateway = TestFrames.udp(HOST_MAC, HOST, 5000, GATEWAY, 53, new byte[8]);
        try {
            for (ByteBuf frame : new ByteBuf[] {echoToAnother, udpToGateway, arpRequest(other),
                    Unpooled.wrappedBuffer(new byte[10])}) {
                byte[] before = ByteBufUtil.getBytes(frame);
                assertThat(floor.answer(frame)).isFalse();
                assertThat(ByteBufUtil.getBytes(frame)).isEqualTo(before);
            }
        } finally {
            echoToAnother.release();
            udpToGateway.release();
        }
    }

    private static ByteBuf arpRequest(int target) {
        ByteBuf frame = Unpooled.buffer(EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH);
        EthernetFrame.writeHeader(frame, 0, MacAddress.BROADCAST, HOST_MAC, EthernetFrame.TYPE_ARP);
        ArpPacket.write(frame, EthernetFrame.HEADER_LENGTH, ArpPacket.OPERATION_REQUEST, HOST_MAC, HOST, 0, target);
        return frame.writerIndex(EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH);
    }
}
