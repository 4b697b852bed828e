package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;

/**
 * Answers ARP requests for the addresses the gateway owns (its own and the DNS address) with a reply unicast to
 * the asker (RFC 826, "packet reception"). Requests for other hosts are the guests' business and are ignored.
 */
final class ArpResponder {

    static final int REPLY_FRAME_LENGTH = EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH;

    /**
     * Handles a validated ARP packet that arrived broadcast or unicast to the gateway's MAC.
     *
     * @param unicast whether the frame was addressed to the gateway's MAC (then anything unanswered is counted)
     */
    void handle(ArpPacket arp, boolean unicast, GatewayOutput output) {
        NetworkConfig config = output.config();
        int asked = arp.targetIp();
        long askerMac = arp.senderMac();
        if (arp.operation() != ArpPacket.OPERATION_REQUEST || !config.isGatewayAddress(asked)
                || MacAddress.isMulticast(askerMac)) {
            if (unicast) {
                output.counters().increment(Counter.GATEWAY_UNHANDLED);
            }
            return;
        }
        ByteBuf reply = output.allocateFrame(REPLY_FRAME_LENGTH);
        int at = reply.readerIndex();
        at += EthernetFrame.writeHeader(reply, at, askerMac, config.gatewayMac(), EthernetFrame.TYPE_ARP);
        // The sender's protocol address may be 0.0.0.0 (an RFC 5227 probe); the reply goes to its MAC regardless.
        ArpPacket.write(reply, at, ArpPacket.OPERATION_REPLY, config.gatewayMac(), asked, askerMac, arp.senderIp());
        output.emit(reply);
        output.counters().increment(Counter.GATEWAY_ARP_REPLIES);
    }
}
