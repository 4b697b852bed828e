package dev.riscvrelay.relay.nat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.IcmpPacket;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.TcpPacket;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.function.BiConsumer;

/** Hand-built frames a VM would send, and views over what comes back. */
public final class TestFrames {

    public static final long GATEWAY_MAC = NetworkConfig.DEFAULT_GATEWAY_MAC;

    private TestFrames() {
    }

    /** Ethernet/IPv4/UDP from a VM to the gateway's MAC, checksums filled in. */
    public static ByteBuf udp(long vmMac, int vmAddress, int vmPort, int destination, int destinationPort,
            byte[] data) {
        int udpLength = UdpPacket.HEADER_LENGTH + data.length;
        ByteBuf frame = ipv4FromVm(vmMac, vmAddress, destination, Ipv4Packet.PROTOCOL_UDP, 0x1234, udpLength);
        UdpPacket.writeHeader(frame, 34, vmPort, destinationPort, udpLength);
        frame.setBytes(42, data);
        UdpPacket.fillChecksum(frame, 34, udpLength, vmAddress, destination);
        return frame;
    }

    /** Ethernet/IPv4/ICMP echo request from a VM. */
    public static ByteBuf echoRequest(long vmMac, int vmAddress, int destination, int identifier, int sequence,
            byte[] data) {
        int icmpLength = IcmpPacket.HEADER_LENGTH + data.length;
        ByteBuf frame = ipv4FromVm(vmMac, vmAddress, destination, Ipv4Packet.PROTOCOL_ICMP, 0x4321, icmpLength);
        IcmpPacket.writeEchoHeader(frame, 34, IcmpPacket.TYPE_ECHO_REQUEST, identifier, sequence);
        frame.setBytes(42, data);
        IcmpPacket.fillChecksum(frame, 34, icmpLength);
        return frame;
    }

    /** Ethernet/IPv4/TCP SYN (no options) from a VM, opening a connection through the NAT. */
    public static ByteBuf tcpSyn(long vmMac, int vmAddress, int vmPort, int destination, int destinationPort,
            int sequence) {
        int tcpLength = TcpPacket.MIN_HEADER_LENGTH;
        ByteBuf frame = ipv4FromVm(vmMac, vmAddress, destination, Ipv4Packet.PROTOCOL_TCP, 0x5678, tcpLength);
        TcpPacket.writeHeader(frame, 34, vmPort, destinationPort, sequence, 0, tcpLength, TcpPacket.FLAG_SYN, 65535);
        TcpPacket.fillChecksum(frame, 34, tcpLength, vmAddress, destination);
        return frame;
    }

    /**
     * A frame from a VM to the gateway's MAC with its Ethernet and IPv4 headers (don't fragment, TTL 64) written
     * and room for {@code payloadLength} bytes of payload at offset 34, which the caller fills.
     */
    private static ByteBuf ipv4FromVm(long vmMac, int vmAddress, int destination, int protocol, int identification,
            int payloadLength) {
        ByteBuf frame = ByteBufAllocator.DEFAULT.directBuffer(34 + payloadLength);
        frame.writerIndex(34 + payloadLength);
        EthernetFrame.writeHeader(frame, 0, GATEWAY_MAC, vmMac, EthernetFrame.TYPE_IPV4);
        Ipv4Packet.writeHeader(frame, 14, 20 + payloadLength, identification, true, 64, protocol, vmAddress,
                destination);
        return frame;
    }

    /** Parsed views of a frame; wrap failures throw, since in tests they are bugs. */
    public static final class Parsed {
        public final EthernetFrame ethernet = new EthernetFrame();
        public final Ipv4Packet ip = new Ipv4Packet();

        public Parsed(ByteBuf frame) {
            require(ethernet.wrap(frame));
            require(ip.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()));
        }

        public UdpPacket udp() {
            UdpPacket udp = new UdpPacket();
            require(udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength()));
            return udp;
        }

        public IcmpPacket icmp() {
            IcmpPacket icmp = new IcmpPacket();
            require(icmp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength()));
            return icmp;
        }

        private static void require(ParseResult result) {
            if (result != ParseResult.OK) {
                throw new AssertionError("frame does not parse: " + result);
            }
        }
    }

    /** Hands a frame to the NAT as the gateway would: wrapped views, caller keeps (and here releases) it. */
    public static void deliver(Nat nat, ByteBuf frame) {
        deliver(frame, nat::onPacket);
    }

    /** Hands a frame's wrapped views to {@code receiver} (a NAT entry point), then releases the frame. */
    public static void deliver(ByteBuf frame, BiConsumer<EthernetFrame, Ipv4Packet> receiver) {
        try {
            Parsed parsed = new Parsed(frame);
            receiver.accept(parsed.ethernet, parsed.ip);
        } finally {
            frame.release();
        }
    }
}
