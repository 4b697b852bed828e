package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class FlowHashTest {

    private final FlowHash hash = new FlowHash();

    private static final long VM_MAC = 0x52_54_00_12_34_56L;
    private static final long GATEWAY_MAC = 0x52_55_0A_00_02_02L;
    private static final int VM = 0x0A00_020F;
    private static final int SERVER = 0xCB00_710A;

    @Test
    void framesOfOneTcpConnectionHashAlikeWhateverTheyCarry() {
        assertThat(hash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 1400)))
                .isEqualTo(hash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 0)));
    }

    @Test
    void anotherPortProtocolOrAddressIsAnotherFlow() {
        int flow = hash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 100));

        assertThat(hash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_001, 80, 0, 100))).isNotEqualTo(flow);
        assertThat(hash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 22, 0, 100))).isNotEqualTo(flow);
        assertThat(hash.of(ipv4(Ipv4Packet.PROTOCOL_UDP, 40_000, 80, 0, 100))).isNotEqualTo(flow);
        ByteBuf otherServer = ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 100);
        otherServer.setInt(30, SERVER + 1);
        assertThat(hash.of(otherServer)).isNotEqualTo(flow);
    }

    @Test
    void theFragmentsOfADatagramAreOneFlowThoughOnlyTheFirstCarriesThePorts() {
        int first = hash.of(ipv4(Ipv4Packet.PROTOCOL_UDP, 5000, 53, 0x2000, 1400));
        int later = hash.of(ipv4(Ipv4Packet.PROTOCOL_UDP, 0xABCD, 0x1234, 0x00B9, 600));

        assertThat(later).isEqualTo(first);
    }

    @Test
    void aVlanTagDoesNotHideTheFlow() {
        ByteBuf untagged = ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 10);
        ByteBuf tagged = Unpooled.buffer();
        tagged.writeBytes(untagged, 0, 12).writeShort(EthernetFrame.TYPE_VLAN).writeShort(5)
                .writeBytes(untagged, 12, untagged.readableBytes() - 12);
        ByteBuf otherPorts = Unpooled.buffer();
        otherPorts.writeBytes(tagged, 0, tagged.readableBytes());
        otherPorts.setShort(18 + 20, 40_001);

        assertThat(hash.of(tagged)).isEqualTo(hash.of(untagged));
        assertThat(hash.of(otherPorts)).isNotEqualTo(hash.of(tagged));
    }

    @Test
    void ipv6FlowsAreTheirAddressesNextHeaderAndPorts() {
        int flow = hash.of(ipv6(Ipv6Packet.NEXT_HEADER_UDP, 5000, 0));

        assertThat(hash.of(ipv6(Ipv6Packet.NEXT_HEADER_UDP, 5000, 1))).as("last address byte").isNotEqualTo(flow);
        assertThat(hash.of(ipv6(Ipv6Packet.NEXT_HEADER_UDP, 5001, 0))).isNotEqualTo(flow);
        assertThat(hash.of(ipv6(Ipv6Packet.NEXT_HEADER_FRAGMENT, 5000, 0)))
                .as("ports behind an extension header are not read")
                .isEqualTo(hash.of(ipv6(Ipv6Packet.NEXT_HEADER_FRAGMENT, 5001, 0)));
    }

    @Test
    void theHashReadsOnlyTheReadableBytes() {
        ByteBuf frame = ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 0);
        int withoutPorts = frame.readableBytes() - 4;
        // The whole frame 7 bytes in, but readable only up to its ports: they lie beyond the writer index.
        ByteBuf cut = Unpooled.buffer();
        cut.writeZero(7).writeBytes(frame, frame.readerIndex(), frame.readableBytes());
        cut.readerIndex(7).writerIndex(7 + withoutPorts);

        assertThat(hash.of(cut)).isEqualTo(hash.of(frame.slice(frame.readerIndex(), withoutPorts)))
                .isNotEqualTo(hash.of(frame));
    }

    @Test
    void aRuntOrAnyOtherEtherTypeHashesWithoutThrowing() {
        ByteBuf arp = Unpooled.buffer().writeZero(12).writeShort(EthernetFrame.TYPE_ARP).writeZero(28);
        ByteBuf shortIpv4 = Unpooled.buffer().writeZero(12).writeShort(EthernetFrame.TYPE_IPV4).writeZero(10);

        assertThat(hash.of(Unpooled.buffer().writeZero(5))).isZero();
        assertThat(hash.of(arp)).isEqualTo(hash.of(arp.copy().setByte(20, 7)));
        assertThat(hash.of(shortIpv4)).isNotEqualTo(hash.of(arp));
    }

    @Test
    void framesOfAnotherEtherTypeAreOneFlowPerPairOfStations() {
        ByteBuf flood = other(MacAddress.BROADCAST, VM_MAC, 1000);
        ByteBuf paced = other(GATEWAY_MAC, VM_MAC + 1, 400);

        assertThat(hash.of(other(MacAddress.BROADCAST, VM_MAC, 60))).as("whatever the payload")
                .isEqualTo(hash.of(flood));
        assertThat(hash.of(paced)).as("another source").isNotEqualTo(hash.of(flood));
        assertThat(hash.of(other(VM_MAC + 1, VM_MAC, 400))).as("another destination").isNotEqualTo(hash.of(flood));
    }

    /** A frame of a local experimental EtherType (0x88B5) with {@code length} bytes in all. */
    private static ByteBuf other(long destination, long source, int length) {
        ByteBuf frame = Unpooled.buffer(length).writerIndex(length);
        EthernetFrame.writeHeader(frame, 0, destination, source, 0x88B5);
        frame.setByte(length - 1, length);
        return frame;
    }

    /** Ethernet/IPv4 from the server to the VM whose first payload bytes are two ports. */
    private static ByteBuf ipv4(int protocol, int sourcePort, int destinationPort, int fragmentField, int data) {
        int payload = 4 + data;
        ByteBuf frame = Unpooled.buffer(34 + payload).writerIndex(34 + payload);
        EthernetFrame.writeHeader(frame, 0, VM_MAC, GATEWAY_MAC, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, 14, 20 + payload, 0x1234, false, 64, protocol, SERVER, VM);
        frame.setShort(14 + 6, fragmentField); // flags and fragment offset
        frame.setShort(34, sourcePort).setShort(36, destinationPort);
        return frame;
    }

    /** Ethernet/IPv6 from a documentation address to {@code fd00:10:0:2::<last>} with two ports after the header. */
    private static ByteBuf ipv6(int nextHeader, int sourcePort, int last) {
        byte[] ports = {(byte) (sourcePort >>> 8), (byte) sourcePort, 0, 53, 0, 0, 0, 0};
        return Unpooled.wrappedBuffer(Ipv6Fixtures.frame(VM_MAC, GATEWAY_MAC, "2001:db8::1",
                "fd00:10:0:2::" + Integer.toHexString(last), 64, nextHeader, ports));
    }
}
