package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.gateway.GatewayOutput;
import dev.riscvrelay.relay.gateway.IpHandler;
import dev.riscvrelay.relay.nat.tcp.TcpNat;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;

/**
 * The gateway's side of forwarded connections: claims TCP segments a VM sends to the gateway's own address on the
 * ports forwards dial from ({@link TcpNat#FORWARD_PORT_FIRST} and up) and hands them to the TCP NAT, where the
 * forward's connection takes them (anything else there is answered with a reset). Reads the port straight from the
 * packet; allocates nothing.
 */
public final class ForwardedSegments implements IpHandler {

    private static final int TCP_DESTINATION_PORT_OFFSET = 2;

    private final TcpNat tcp;

    public ForwardedSegments(TcpNat tcp) {
        this.tcp = tcp;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        if (ip.protocol() != Ipv4Packet.PROTOCOL_TCP || ip.destination() != output.config().gatewayAddress()
                || ethernet.destination() != output.config().gatewayMac()
                || ip.payloadLength() < TCP_DESTINATION_PORT_OFFSET + 2 || ip.buffer().getUnsignedShort(
                        ip.payloadOffset() + TCP_DESTINATION_PORT_OFFSET) < TcpNat.FORWARD_PORT_FIRST) {
            return false;
        }
        tcp.onForwardedSegment(ethernet, ip);
        return true;
    }
}
