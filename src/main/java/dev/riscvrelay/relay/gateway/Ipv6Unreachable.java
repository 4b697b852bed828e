package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Icmpv6Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import io.netty.buffer.ByteBuf;

/**
 * ICMPv6 destination unreachable (RFC 4443 section 3.1) from the gateway for IPv6 packets a VM sends beyond the LAN
 * that go no further: code 0 "no route to destination" when the relay does not carry IPv6 to the outside or the host
 * has no route, code 1 "administratively prohibited" when the egress policy denies the destination. The VM's connect
 * fails at once (and it may fall back to IPv4) instead of waiting for a timeout.
 *
 * <p>Never in answer to an ICMPv6 error, to a packet from the unspecified address, or to one whose extension headers
 * hide what it carries (RFC 4443 section 2.4 (e)); the error holds as much of the packet as fits in 1280 bytes and
 * the LAN MTU. At most {@value #PER_SECOND} a second (RFC 4443 section 2.4 (f)): {@link #refill} is called every
 * second, and errors beyond the budget are counted instead of sent.
 */
final class Ipv6Unreachable {

    static final int PER_SECOND = 100;

    private int budget = PER_SECOND;

    void refill() {
        budget = PER_SECOND;
    }

    /** Whether an error may answer this packet at all (not counting the rate). */
    static boolean mayAnswer(Ipv6Packet ip) {
        if (Ipv6Address.isUnspecified(ip.sourceHigh(), ip.sourceLow())) {
            return false;
        }
        int next = ip.nextHeader();
        if (next == Ipv6Packet.NEXT_HEADER_ICMPV6) {
            return ip.payloadLength() > 0
                    && ip.buffer().getUnsignedByte(ip.payloadOffset()) >= Icmpv6Packet.TYPE_ECHO_REQUEST;
        }
        return next == Ipv6Packet.NEXT_HEADER_TCP || next == Ipv6Packet.NEXT_HEADER_UDP;
    }

    /** Sends "no route" back to the sender of {@code ip} (which {@link #mayAnswer}), within the rate. */
    void noRoute(EthernetFrame ethernet, Ipv6Packet ip, GatewayOutput output) {
        answer(ethernet, ip, Icmpv6Packet.CODE_NO_ROUTE, output);
    }

    /**
     * Sends destination unreachable with {@code code} back to the sender of {@code ip} when an error {@link #mayAnswer}
     * it, within the rate; counted by code.
     */
    void answer(EthernetFrame ethernet, Ipv6Packet ip, int code, GatewayOutput output) {
        if (!mayAnswer(ip)) {
            return;
        }
        if (budget == 0) {
            output.counters().increment(Counter.DROP_ICMPV6_ERROR_RATE);
            return;
        }
        budget--;
        NetworkConfig config = output.config();
        int quoted = Icmpv6Packet.quotedLength(Ipv6Packet.HEADER_LENGTH + ip.payloadLength(),
                Math.min(config.mtu(), NetworkConfig.IPV6_MIN_MTU));
        int messageLength = Icmpv6Packet.ERROR_HEADER_LENGTH + quoted;
        long toHigh = ip.sourceHigh();
        long toLow = ip.sourceLow();
        // From the gateway's address of the sender's scope (RFC 6724 section 5 rule 2).
        boolean linkLocal = Ipv6Address.isLinkLocal(toHigh);
        long fromHigh = linkLocal ? Ipv6Address.LINK_LOCAL_PREFIX : config.ipv6Prefix();
        long fromLow = linkLocal ? config.gatewayLinkLocalLow() : config.gatewayIpv6Low();

        ByteBuf frame = output.allocateFrame(EthernetFrame.HEADER_LENGTH + Ipv6Packet.HEADER_LENGTH + messageLength);
        int at = frame.readerIndex();
        at += EthernetFrame.writeHeader(frame, at, ethernet.source(), config.gatewayMac(), EthernetFrame.TYPE_IPV6);
        at += Ipv6Packet.writeHeader(frame, at, messageLength, Ipv6Packet.NEXT_HEADER_ICMPV6,
                Icmpv6EchoResponder.HOP_LIMIT, fromHigh, fromLow, toHigh, toLow);
        Icmpv6Packet.writeError(frame, at, Icmpv6Packet.TYPE_DESTINATION_UNREACHABLE, code, 0, ip.buffer(),
                ip.offset(), quoted, fromHigh, fromLow, toHigh, toLow);
        output.emit(frame);
        output.counters().increment(code == Icmpv6Packet.CODE_ADMIN_PROHIBITED ? Counter.GATEWAY_IPV6_PROHIBITED
                : Counter.GATEWAY_IPV6_NO_ROUTE);
    }
}
