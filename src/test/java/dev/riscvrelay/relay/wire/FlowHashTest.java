package dev.riscvrelay.relay.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

class FlowHashTest {

    private static final long VM_MAC = 0x52_54_00_12_34_56L;
    private static final long GATEWAY_MAC = 0x52_55_0A_00_02_02L;
    private static final int VM = 0x0A00_020F;
    private static final int SERVER = 0xCB00_710A;

    @Test
    void framesOfOneTcpConnectionHashAlikeWhateverTheyCarry() {
        assertThat(FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 1400)))
                .isEqualTo(FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 0)));
    }

    @Test
    void anotherPortProtocolOrAddressIsAnotherFlow() {
        int flow = FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 100));

        assertThat(FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_001, 80, 0, 100))).isNotEqualTo(flow);
        assertThat(FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 22, 0, 100))).isNotEqualTo(flow);
        assertThat(FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_UDP, 40_000, 80, 0, 100))).isNotEqualTo(flow);
        ByteBuf otherServer = ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 100);
        otherServer.setInt(30, SERVER + 1);
        assertThat(FlowHash.of(otherServer)).isNotEqualTo(flow);
    }

    @Test
    void theFragmentsOfADatagramAreOneFlowThoughOnlyTheFirstCarriesThePorts() {
        int first = FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_UDP, 5000, 53, 0x2000, 1400));
        int later = FlowHash.of(ipv4(Ipv4Packet.PROTOCOL_UDP, 0xABCD, 0x1234, 0x00B9, 600));

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

        assertThat(FlowHash.of(tagged)).isEqualTo(FlowHash.of(untagged));
        assertThat(FlowHash.of(otherPorts)).isNotEqualTo(FlowHash.of(tagged));
    }

    @Test
    void ipv6FlowsAreTheirAddressesNextHeaderAndPorts() {
        int flow = FlowHash.of(ipv6(Ipv6Packet.NEXT_HEADER_UDP, 5000, 0));

        assertThat(FlowHash.of(ipv6(Ipv6Packet.NEXT_HEADER_UDP, 5000, 1))).as("last address byte").isNotEqualTo(flow);
        assertThat(FlowHash.of(ipv6(Ipv6Packet.NEXT_HEADER_UDP, 5001, 0))).isNotEqualTo(flow);
        assertThat(FlowHash.of(ipv6(Ipv6Packet.NEXT_HEADER_FRAGMENT, 5000, 0)))
                .as("ports behind an extension header are not read")
                .isEqualTo(FlowHash.of(ipv6(Ipv6Packet.NEXT_HEADER_FRAGMENT, 5001, 0)));
    }

    @Test
    void theHashReadsOnlyTheReadableBytes() {
        ByteBuf frame = ipv4(Ipv4Packet.PROTOCOL_TCP, 40_000, 80, 0, 0);
        ByteBuf behind = Unpooled.buffer();
        behind.writeZero(7).writeBytes(frame).writeBytes(new byte[] {1, 2, 3});
        behind.readerIndex(7).writerIndex(7 + frame.readableBytes());

        assertThat(FlowHash.of(behind)).isEqualTo(FlowHash.of(frame));
    }

    @Test
    void aRuntOrAnyOtherEtherTypeHashesWithoutThrowing() {
        ByteBuf arp = Unpooled.buffer().writeZero(12).writeShort(EthernetFrame.TYPE_ARP).writeZero(28);
        ByteBuf shortIpv4 = Unpooled.buffer().writeZero(12).writeShort(EthernetFrame.TYPE_IPV4).writeZero(10);

        assertThat(FlowHash.of(Unpooled.buffer().writeZero(5))).isZero();
        assertThat(FlowHash.of(arp)).isEqualTo(FlowHash.of(arp.copy().setByte(20, 7)));
        assertThat(FlowHash.of(shortIpv4)).isNotEqualTo(FlowHash.of(arp));
    }

    /** Ethernet/IPv4 from the server to the VM whose first payload bytes are two ports. */
    private static ByteBuf ipv4(int protocol, int sourcePort, int destinationPort, int fragmentField, int data) {
        ByteBuf frame = Unpooled.buffer();
        EthernetFrame.writeHeader(frame.writerIndex(14), 0, VM_MAC, GATEWAY_MAC, EthernetFrame.TYPE_IPV4);
        frame.writeByte(0x45).writeByte(0).writeShort(20 + 4 + data).writeShort(0x1234).writeShort(fragmentField)
                .writeByte(64).writeByte(protocol).writeShort(0).writeInt(SERVER).writeInt(VM);
        frame.writeShort(sourcePort).writeShort(destinationPort).writeZero(data);
        return frame;
    }

    /** Ethernet/IPv6 from a documentation address to {@code fd00:10:0:2::<last>} with two ports after the header. */
    private static ByteBuf ipv6(int nextHeader, int sourcePort, int last) {
        ByteBuf frame = Unpooled.buffer();
        EthernetFrame.writeHeader(frame.writerIndex(14), 0, VM_MAC, GATEWAY_MAC, EthernetFrame.TYPE_IPV6);
        frame.writeInt(0x6000_0000).writeShort(8).writeByte(nextHeader).writeByte(64)
                .writeLong(0x2001_0DB8_0000_0000L).writeLong(1)
                .writeLong(0xFD00_0010_0000_0002L).writeLong(last);
        frame.writeShort(sourcePort).writeShort(53).writeInt(0);
        return frame;
    }
}
