package dev.riscvrelay.relay.ops.api;

import java.net.InetSocketAddress;
import java.util.Map;

/**
 * One member of a network as the event loop saw it when it took the view.
 *
 * @param macs the MACs the switch has learned behind the member (none while it has been silent for the ageing time)
 * @param addresses the IPv4 addresses DHCP has leased to those MACs
 * @param transport {@code webtransport}, {@code websocket}, ...
 * @param client the client's address and port, or null when not known
 * @param connectedSinceMillis when it joined, in milliseconds since the epoch
 * @param worker the worker that carries its transport (a WebSocket's is its network's)
 * @param framesFromMember frames it sent onto the LAN (and bytes, next)
 * @param framesToMember frames the switch handed it (and bytes, next)
 * @param drops its frames dropped so far, by the reason {@code relay_drops_total} names them
 * @param natFlows its open NAT flows: UDP flows, ICMP echo flows and TCP connections, in that order
 */
public record MemberView(long[] macs, int[] addresses, String transport, InetSocketAddress client,
        long connectedSinceMillis, int worker, long framesFromMember, long bytesFromMember, long framesToMember,
        long bytesToMember, Map<String, Long> drops, int[] natFlows) {
}
