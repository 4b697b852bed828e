package dev.riscvrelay.relay.gateway.dhcp;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.gateway.Gateway;
import dev.riscvrelay.relay.gateway.ReplyCheckingLan;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.DhcpMessage;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.time.Duration;

/**
 * Any conversation of DHCP messages guests have with the gateway's server, each wrapped in a valid Ethernet, IPv4
 * and UDP frame from the client's port 68 (so the fuzzer spends its time on DHCP, not on checksums): the server
 * never throws, never holds more leases than its pool, and only offers or acknowledges addresses from its pool;
 * every reply is a valid frame ({@link ReplyCheckingLan}).
 *
 * <p>Input: records of a control byte, a 16-bit length and that many bytes of DHCP message. Control bits 0..1 pick
 * the destination (limited broadcast, the gateway, the LAN broadcast); bits 2..4 move the clock forward by 16^k
 * seconds first, so offers and leases expire.
 */
class DhcpServerFuzzTest {

    private static final int POOL_FIRST = 0x0A00_020F;
    private static final int POOL_SIZE = 4;
    /** What fits in one frame to the gateway after the IPv4 and UDP headers. */
    private static final int MAX_MESSAGE = 1500 - 28;
    private static final long FALLBACK_MAC = 0x5255_0A00_020FL;

    @FuzzTest(maxDuration = "60s")
    void conversation(byte[] input) {
        long[] now = {1_000_000_000L};
        NetworkConfig config = NetworkConfig.defaults().withPool(POOL_FIRST, POOL_SIZE);
        ReplyCheckingLan lan = new ReplyCheckingLan(DhcpServerFuzzTest::checkReply);
        Gateway gateway = new Gateway(config, lan, UnpooledByteBufAllocator.DEFAULT, new Counters());
        DhcpServer server = new DhcpServer(config, () -> now[0]);
        gateway.addIpHandler(server);
        lan.attach(gateway);

        int at = 0;
        while (at + 3 <= input.length) {
            int control = input[at] & 0xFF;
            int length = Math.min((input[at + 1] & 0xFF) << 8 | (input[at + 2] & 0xFF), input.length - at - 3);
            length = Math.min(length, MAX_MESSAGE);
            at += 3;
            int k = control >>> 2 & 0x07;
            now[0] += k == 0 ? 0 : Duration.ofSeconds(1L << (4 * k)).toNanos();
            ByteBuf frame = clientFrame(input, at, length, control & 0x03, config);
            at += length;
            gateway.send(frame);
            assertThat(frame.refCnt()).isZero();
            assertThat(server.boundLeases()).isBetween(0, POOL_SIZE);
        }
    }

    private static void checkReply(DhcpMessage reply) {
        int yiaddr = reply.yourAddress();
        if (reply.messageType() == DhcpMessage.NAK || yiaddr == 0) {
            assertThat(yiaddr).isZero();
            return;
        }
        assertThat(Integer.toUnsignedLong(yiaddr - POOL_FIRST)).as(Ipv4Address.format(yiaddr) + " is in the pool")
                .isLessThan(POOL_SIZE);
    }

    /** The message as UDP 68 → 67 from its chaddr (when the message is long enough to have one) and ciaddr. */
    private static ByteBuf clientFrame(byte[] input, int at, int length, int destinationChoice,
            NetworkConfig config) {
        long mac = length >= 34 ? macAt(input, at + 28) : FALLBACK_MAC;
        if (!MacAddress.isValidSource(mac)) {
            mac = FALLBACK_MAC;
        }
        int source = length >= 16 ? (input[at + 12] & 0xFF) << 24 | (input[at + 13] & 0xFF) << 16
                | (input[at + 14] & 0xFF) << 8 | (input[at + 15] & 0xFF) : 0;
        int destination = switch (destinationChoice) {
            case 1 -> config.gatewayAddress();
            case 2 -> config.broadcastAddress();
            default -> Ipv4Address.BROADCAST;
        };
        long destinationMac = destinationChoice == 1 ? config.gatewayMac() : MacAddress.BROADCAST;
        int udpLength = UdpPacket.HEADER_LENGTH + length;
        int ipLength = Ipv4Packet.MIN_HEADER_LENGTH + udpLength;
        ByteBuf frame = Unpooled.directBuffer(EthernetFrame.HEADER_LENGTH + ipLength);
        frame.writeZero(EthernetFrame.HEADER_LENGTH + ipLength);
        EthernetFrame.writeHeader(frame, 0, destinationMac, mac, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, 14, ipLength, 1, false, 64, Ipv4Packet.PROTOCOL_UDP, source, destination);
        UdpPacket.writeHeader(frame, 34, DhcpServer.CLIENT_PORT, DhcpServer.SERVER_PORT, udpLength);
        frame.setBytes(42, input, at, length);
        UdpPacket.fillChecksum(frame, 34, udpLength, source, destination);
        return frame;
    }

    private static long macAt(byte[] bytes, int at) {
        long mac = 0;
        for (int i = 0; i < 6; i++) {
            mac = mac << 8 | (bytes[at + i] & 0xFF);
        }
        return mac;
    }
}
