package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.gateway.GatewayOutput;
import dev.riscvrelay.relay.gateway.IpHandler;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.tcp.TcpNat;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;

/**
 * The gateway's side of forwards: claims what a VM sends to the gateway's own address on the ports forwards send
 * from ({@link TcpNat#FORWARD_PORT_FIRST} and up). TCP segments go to the TCP NAT, where the forward's connection
 * takes them (anything else there is answered with a reset); UDP datagrams go to the forwarded flow that took the
 * port ({@link ForwardPorts}), or are dropped and counted. Allocates nothing.
 */
public final class ForwardReturns implements IpHandler {

    private static final int DESTINATION_PORT_OFFSET = 2;

    private final TcpNat tcp;
    private final ForwardPorts udpPorts;
    private final UdpPacket udp = new UdpPacket();

    public ForwardReturns(TcpNat tcp, ForwardPorts udpPorts) {
        this.tcp = tcp;
        this.udpPorts = udpPorts;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        NetworkConfig config = output.config();
        int protocol = ip.protocol();
        if ((protocol != Ipv4Packet.PROTOCOL_TCP && protocol != Ipv4Packet.PROTOCOL_UDP)
                || ip.destination() != config.gatewayAddress() || ethernet.destination() != config.gatewayMac()
                || ip.payloadLength() < DESTINATION_PORT_OFFSET + 2 || ip.buffer().getUnsignedShort(
                        ip.payloadOffset() + DESTINATION_PORT_OFFSET) < TcpNat.FORWARD_PORT_FIRST) {
            return false;
        }
        if (protocol == Ipv4Packet.PROTOCOL_TCP) {
            tcp.onForwardedSegment(ethernet, ip);
            return true;
        }
        if (udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                || !udp.checksumValid(ip.source(), ip.destination())) {
            output.counters().increment(Counter.DROP_BAD_CHECKSUM);
            return true;
        }
        ForwardPorts.DatagramReturn flow = udpPorts.at(udp.destinationPort());
        if (flow == null) {
            output.counters().increment(Counter.DROP_FORWARD_UDP_NO_FLOW);
            return true;
        }
        flow.fromVm(ip.buffer(), udp.dataOffset(), udp.dataLength());
        return true;
    }
}
