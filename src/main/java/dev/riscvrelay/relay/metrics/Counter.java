package dev.riscvrelay.relay.metrics;

/**
 * Every event and drop reason the relay counts, one place for all of them. A counter costs one increment on the
 * thread that owns it; exporters read {@link Counters} snapshots.
 */
public enum Counter {
    // Sessions (transport)
    SESSIONS_OPENED("sessions opened"),
    SESSIONS_CLOSED("sessions closed"),
    SESSIONS_REFUSED("session requests refused"),
    REQUESTS_REJECTED("HTTP/3 requests answered with an error status"),
    CONNECTIONS_REFUSED("QUIC connections closed because the server had too many"),
    SESSIONS_REFUSED_NO_TOKEN("sessions refused with 401: the network needs a token and none was given"),
    SESSIONS_REFUSED_BAD_TOKEN("sessions refused with 403: the token does not open the network"),
    SESSIONS_REFUSED_NO_NETWORK("sessions refused for their network: 404 an invalid name, 503 no room for another network"),
    SESSIONS_REFUSED_PER_ADDRESS("sessions refused with 429: the source address holds its maximum of sessions"),
    NETWORKS_CREATED("networks created on their first session (the default one included)"),
    NETWORKS_RECLAIMED("networks freed after standing empty: for their idle time, or at once for a new network when"
            + " every slot was taken"),
    SESSIONS_REFUSED_NETWORK_RATE("sessions refused with 429: their client address created its most networks this"
            + " minute"),

    // Frames entering and leaving the switch
    FRAMES_IN("frames received from ports (not the NAT's replies from the outside: the NAT counts those)"),
    BYTES_IN("bytes received from ports (not the NAT's replies from the outside)"),
    FRAMES_OUT("frames handed to ports"),
    BYTES_OUT("bytes handed to ports"),
    FRAMES_FLOODED("frames flooded to every port (broadcast, multicast or unknown destination)"),

    // The trunk to the cluster's other relays (--cluster)
    TRUNK_FRAMES_OUT("frames sent to other relays of the cluster"),
    TRUNK_FRAMES_IN("frames received from other relays of the cluster"),
    TRUNK_MESSAGES_OUT("NATS messages published by the trunks (each a batch of frames of one loop turn)"),
    TRUNK_MESSAGES_IN("NATS messages received by the trunks"),
    DROP_TRUNK_QUEUE_FULL("frames from other relays dropped because the trunk's receive queue was full"),
    DROP_TRUNK_NOT_CONNECTED("frames for other relays dropped while NATS was not connected"),
    DROP_TRUNK_SEND_FAILED("frames for other relays NATS refused (its outgoing queue full, or closed)"),
    DROP_TRUNK_MALFORMED("NATS messages from the trunk that are no batch of frames"),
    CLUSTER_DISCONNECTS("times the relay lost its NATS connection"),
    CLUSTER_RECONNECTS("times the relay got its NATS connection back"),
    CLUSTER_LEASE_CONFLICTS("leases another relay of the cluster had given to another MAC first (its client is NAKed"
            + " and starts over)"),
    DROP_CLUSTER_LEASE_WRITE("lease updates this relay could not write to the cluster's key-value bucket"),

    // Gateway: answers, validation drops (by reason) and frames it does not handle
    GATEWAY_ARP_REPLIES("ARP replies sent by the gateway"),
    GATEWAY_ARP_REQUESTS("ARP requests the gateway broadcast to find a guest (for forwards)"),
    GATEWAY_ECHO_REPLIES("ICMP and ICMPv6 echo replies sent by the gateway"),
    GATEWAY_NEIGHBOR_ADVERTISEMENTS("ICMPv6 neighbour advertisements sent by the gateway for its IPv6 addresses"),
    GATEWAY_ROUTER_ADVERTISEMENTS("ICMPv6 router advertisements sent by the gateway (solicited and periodic)"),
    GATEWAY_IPV6_NO_ROUTE("ICMPv6 no-route errors sent to VMs for IPv6 packets beyond the LAN the relay cannot carry"
            + " (the host has no IPv6 route, or the NAT does not carry IPv6)"),
    GATEWAY_IPV6_PROHIBITED("ICMPv6 administratively-prohibited errors sent to VMs for IPv6 destinations the egress"
            + " policy denies"),
    IP_FRAGMENTS_IN("IPv4 and IPv6 fragments from VMs taken for reassembly"),
    IP_DATAGRAMS_REASSEMBLED("IPv4 datagrams and IPv6 packets from VMs put back together from their fragments"),
    GATEWAY_UNHANDLED("frames addressed to the gateway that nothing handles yet (protocol, port or type)"),
    GATEWAY_NOT_ADDRESSED("unicast frames flooded to the gateway for another MAC (not an error)"),
    DROP_MALFORMED("frames for the gateway whose headers are malformed (truncated, bad lengths, bad ARP format)"),
    DROP_BAD_CHECKSUM("packets for the gateway with a bad IPv4 header, ICMP, ICMPv6 or UDP checksum"),
    DROP_IP_REASSEMBLY_INVALID("IPv4 datagrams and IPv6 packets from VMs dropped for pieces that do not fit together"
            + " (overlapping, past the last piece or 65,535 bytes, a piece but the last not a multiple of 8, more than"
            + " 128 pieces; for IPv6, a first piece without the whole TCP, UDP or ICMPv6 header)"),
    DROP_IP_REASSEMBLY_TIMEOUT("IPv4 datagrams and IPv6 packets from VMs dropped with pieces missing after 5 s"),
    DROP_IP_REASSEMBLY_EVICTED("IPv4 datagrams and IPv6 packets from VMs dropped unfinished for a newer one: 16 of"
            + " the family were in progress"),
    DROP_IPV6_EXTENSION_HEADER("IPv6 packets for the gateway led by an extension header it does not walk (a fragment"
            + " header is walked when it comes first)"),
    DROP_ICMPV6_ERROR_RATE("ICMPv6 errors the gateway did not send: over its 100 a second (RFC 4443 section 2.4)"),
    DROP_NDP_INVALID("router and neighbour solicitations that fail RFC 4861's checks (hop limit not 255, bad"
            + " options, multicast target), and neighbour discovery that came in fragments (RFC 6980)"),

    // Gateway DHCP server (RFC 2131)
    DHCP_OFFERS("DHCPOFFERs sent"),
    DHCP_ACKS("DHCPACKs sent (leases granted or renewed, and INFORM answers)"),
    DHCP_NAKS("DHCPNAKs sent (wrong address, wrong network, or address held by another client)"),
    DHCP_RELEASES("DHCPRELEASEs that freed a lease"),
    DHCP_DECLINES("DHCPDECLINEs that took an address out of the pool"),
    DHCP_INFORMS("DHCPINFORMs answered"),
    DHCP_POOL_EXHAUSTED("DHCPDISCOVERs or REQUESTs left unanswered or NAKed because every pool address is taken"),
    DHCP_LEASES_EXPIRED("leases and offers that ran out and returned to the pool"),
    DHCP_LEASES_RECLAIMED("leases and offers of departed sessions returned to the pool: after their grace time, or"
            + " taken for a new client when the pool was empty"),
    DHCP_PASSED_OVER_IN_USE("free pool addresses passed over for a new client because the gateway saw another MAC"
            + " use them (a static address inside the pool)"),
    DHCP_REFUSED_OVER_LIMIT("DHCP requests refused because the session, or its client address, holds its most"
            + " addresses"),
    DHCP_IGNORED("well-formed DHCP messages not for this server (other server chosen, relayed, server-only types)"),
    DROP_DHCP_RATE_LIMITED("DHCP messages dropped because their session sent more than "
            + "10 a second (after a burst of 20)"),
    DROP_DHCP_MALFORMED("DHCP messages dropped as malformed (truncated, bad cookie, hlen not 6, options overrun)"),

    // Gateway stateless DHCPv6 server (RFC 8415 section 6.1)
    DHCPV6_REPLIES("DHCPv6 Replies to Information-requests (the DNS server's IPv6 address)"),
    DHCPV6_IGNORED("well-formed DHCPv6 messages a stateless server leaves unanswered (address requests such as"
            + " Solicit, Information-requests with an identity association or for another server, relay messages)"),
    DROP_DHCPV6_MALFORMED("DHCPv6 messages to the gateway dropped as malformed (truncated, bad UDP length,"
            + " options overrun, bad identifiers)"),

    // Gateway DNS forwarder
    DNS_QUERIES_FORWARDED("DNS queries sent to an upstream resolver (retries to the next resolver included)"),
    DNS_ANSWERS("DNS answers relayed back to a guest"),
    DNS_TIMEOUTS("DNS queries an upstream resolver did not answer in time"),
    DNS_FAILURES("DNS queries answered SERVFAIL because every resolver timed out or could not be reached"),
    DNS_REFUSED_PENDING_FULL("DNS queries refused because the table of pending queries was full"),
    DNS_TRUNCATED_FOR_MTU("DNS answers too big for the LAN MTU, sent as truncated (TC) so the guest retries over TCP"),
    DNS_UNMATCHED_ANSWERS("upstream DNS datagrams matching no pending query (late, spoofed or wrong question)"),
    DNS_TCP_SEGMENTS("TCP segments from guests to the DNS address, port 53 (DNS over TCP to the first resolver)"),
    DROP_DNS_MALFORMED("DNS queries dropped as malformed (truncated header, not a query, bad question)"),

    // Drops, by reason
    DROP_RUNT("frames shorter than an Ethernet header"),
    DROP_RATE_LIMITED("frames over their session's frames/s or bytes/s limit"),
    DROP_SPOOFED_MAC("frames from a source MAC not bound to their session"),
    DROP_SPOOFED_IP("IPv4 and ARP frames whose source address is not the one DHCP leased to their MAC"),
    DROP_SPOOFED_IPV6("IPv6 frames from a source address their MAC may not use (not derived from it, and first used"
            + " by another session), from :: other than duplicate address detection, announcing another's address"
            + " (neighbour advertisement), or speaking for the router (router advertisement, redirect)"),
    DROP_IPV6_HEADER_CHAIN("IPv6 frames from sessions whose header chain cannot be walked (truncated, payload past"
            + " the frame, extension headers past the payload or more than 8) or that carry neighbour discovery in a"
            + " fragment (RFC 6980)"),
    DROP_TOO_LARGE("frames larger than the receiving port can take"),
    DROP_QUEUE_FULL("frames dropped because a port's outbound queue was full"),
    DROP_TRUNK_TO_LOCAL("frames from other relays of the cluster unicast to a port that serves local members only"
            + " (the gateway)"),
    DROP_BAD_DATAGRAM("datagrams without a valid quarter-stream-id prefix"),
    DROP_UNKNOWN_SESSION("datagrams for a stream that is no session"),
    DROP_BAD_CAPSULE("sessions closed because their peer sent a malformed capsule"),
    DROP_PORT_CLOSED("frames for a port that had already closed"),
    DROP_HANDOFF_FULL("frames dropped because the hand-off queue between a session's worker loop and its LAN's loop"
            + " was full"),
    DROP_QUIC_HANDOFF_FULL("QUIC packets dropped because the queue to the worker that owns their connection was full"),
    DROP_DATAGRAM_SEND_FAILED("datagrams the QUIC stack refused to send"),
    PATH_BLACK_HOLES("QUIC connections closed because their path stopped carrying the packet size it had validated"),
    PATH_MIGRATIONS("QUIC connections that moved to a client's new address or port (NAT rebinding, roaming), counted"
            + " once the client answered on the new path"),
    DROP_UDP_SEND_TOO_LARGE("QUIC packets the kernel refused as larger than the link (EMSGSIZE)"),
    DROP_UDP_SEND_NO_BUFFER("QUIC packets the kernel refused for a full socket or device queue (ENOBUFS, EAGAIN)"),
    DROP_UDP_SEND_FAILED("QUIC packets the kernel refused for another reason (no route, unreachable, ...)"),
    DATAGRAMS_COPIED("outgoing datagrams copied because the frame had no free headroom"),
    ANSWERS_PAST_BULK("frames of sparse flows (ping replies, DNS answers) sent ahead of a session's bulk while the bulk"
            + " waited for the pacer or for quiche's queue to drain"),
    RECOVERY_SESSIONS("sessions whose frames cross with link recovery (a lost frame sent once more)"),
    RECOVERY_DECLINED("sessions that asked for link recovery and run without it: the relay serves its most"),
    RECOVERY_ASKED("sequence numbers of lost frames asked for again in link-recovery NACKs (asks again included)"),
    RECOVERY_RESENT("frames sent once more because the peer's NACK asked for them"),
    RECOVERY_RESEND_REFUSED("frames a NACK asked for that were not sent again: beyond the budget of 10% of the frames"
            + " sent (a peer asking for too much)"),
    RECOVERY_TOO_LATE("frames a NACK asked for that were no longer kept to send again"),
    RECOVERY_REPAIRED("lost frames that arrived on a second try"),
    RECOVERY_PARITY_SENT("parity datagrams sent under link recovery on a long lossy path, one per 16 frames"),
    RECOVERY_PARITY_REPAIRED("lost frames rebuilt from their group's parity datagram, without waiting for a resend"),
    RECOVERY_OVER_BUDGET("lost frames not asked for under link recovery: beyond its budget of 3% of the frames, a"
            + " sign of congestion the TCP inside must see"),
    RECOVERY_UNREPAIRED("lost frames given up on: still missing after their NACKs, or too old to be sent again"),
    RECOVERY_UNREPAIRED_HELD_FULL("of the lost frames given up on, those given up because the most frames that wait"
            + " behind one hole were waiting (the rest: their time ran out, or an outage followed)"),
    RECOVERY_UNREPAIRED_OUTAGE("of the lost frames given up on, those given up because an outage followed them"),
    RECOVERY_OUTAGES("jumps of more than 64 sequence numbers under link recovery: outages, not asked for"),
    RECOVERY_OUTAGE_FRAMES("frames missing in those jumps, never asked for"),
    DROP_RECOVERY_DUPLICATE("frames that arrived twice under link recovery (the original was late, not lost)"),
    DROP_RECOVERY_TOO_OLD("frames under link recovery older than the receive window can tell from duplicates"),
    DROP_MAC_TABLE_FULL("source MACs not learned because the MAC table was full"),
    DROP_BAD_SOURCE_MAC("frames whose source MAC is multicast, broadcast or all-zero"),
    DROP_SAME_PORT("frames filtered because their destination was learned on the port they came from"),
    DROP_NOT_ATTACHED("frames forwarded from a port that is not attached to the switch"),
    DROP_FORWARD_TOO_DEEP("frames forwarded from inside a port's send nested too deeply (a forwarding loop)"),
    PORT_SEND_FAILED("exceptions thrown by a port's send (a bug in that port; the others still get the frame)"),

    // The riscv-vm framed protocol (0x00 JSON control, 0x01 frame, 0x02 chunk) on WebTransport sessions
    FRAMED_SESSIONS("WebTransport sessions whose first datagram was a framed-protocol Register"),
    FRAMED_ASSIGNED("framed-protocol Registers answered with an Assigned address from the DHCP pool"),
    FRAMED_REFUSED("framed-protocol Registers answered with an Error (pool exhausted, limits, MAC held elsewhere);"
            + " the session is closed"),
    FRAMED_HEARTBEATS("framed-protocol Heartbeats answered with a HeartbeatAck (each renews the lease)"),
    FRAMED_CHUNKED_FRAMES("frames reassembled from framed-protocol chunks"),
    FRAMED_FRAMES_SPLIT("frames sent to framed-protocol clients as 0x02 chunks: larger than one datagram on their path"),
    DROP_FRAMED_BAD_TYPE("framed-protocol datagrams whose type byte is not 0x00, 0x01 or 0x02"),
    DROP_FRAMED_CONTROL_MALFORMED("framed-protocol control messages that are not valid JSON of a known shape, or"
            + " too long"),
    DROP_FRAMED_CONTROL_UNEXPECTED("framed-protocol control messages of an unknown type, or of one only the relay"
            + " sends"),
    DROP_FRAMED_CHUNK_MALFORMED("framed-protocol chunks with a bad header, a repeated index, a changed count or a"
            + " frame over the size limit"),
    DROP_FRAMED_CHUNK_TIMEOUT("framed-protocol frames left incomplete: their chunks timed out or were evicted for"
            + " newer frames"),

    // MAC learning
    MAC_LEARNED("MAC addresses learned"),
    MAC_MOVED("MAC addresses that showed up on another port"),
    MAC_AGED_OUT("MAC addresses forgotten after the ageing time"),

    // WebSocket transport
    WEBSOCKET_OPENED("WebSocket connections that joined the LAN"),
    WEBSOCKET_CLOSED("WebSocket connections that left the LAN"),
    WEB_MOVED_TO_LAN_LOOP("web connections moved from the web loop to the loop of their network at their first request"
            + " that needs a LAN (a WebSocket member, WISP, a web preview)"),
    WEB_FIRST_REQUEST_TIMEOUTS("web connections closed: no complete first request within 10 s (a slowloris client)"),
    WEBSOCKET_REFUSED("WebSocket connections refused: too many connections, or the network, token or address limit"),
    WEBSOCKET_PROTOCOL_CLOSES("WebSocket connections closed for a protocol violation (oversized frame, bad opcode)"),
    DROP_WEBSOCKET_TEXT("WebSocket text messages (only binary messages carry Ethernet frames)"),
    DROP_WEBSOCKET_FRAGMENTED("WebSocket fragments (one binary message must be one whole frame)"),
    HTTP_NOT_FOUND("plain HTTP requests answered with 404, 405 or 426"),

    // Connectors (TAP, QEMU)
    DROP_TAP_TOO_LARGE("frames read from a TAP device or QEMU socket that exceed the connector's frame limit"),
    DROP_TAP_WRITE_FAILED("frames the TAP device or QEMU socket refused (link down, buffer full)"),
    TAP_SEGMENTS_COALESCED("TCP segments written to a TAP inside another segment's super-frame (user-space GRO)"),
    DROP_QEMU_BAD_FRAME("QEMU socket messages that are no Ethernet frame (runt or bad length prefix)"),
    DROP_QEMU_UNKNOWN_SENDER("datagrams on a QEMU socket from an address other than QEMU's"),

    // NAT (UDP, ICMP) and the egress policy
    NAT_UDP_FLOWS_OPENED("UDP NAT flows opened (one host socket each)"),
    NAT_UDP_FLOWS_EXPIRED("UDP NAT flows closed after their idle timeout"),
    NAT_UDP_DATAGRAMS_OUT("UDP datagrams sent from VMs to the outside"),
    NAT_UDP_DATAGRAMS_IN("UDP datagrams from the outside delivered to VMs"),
    NAT_UDP_DATAGRAMS_FRAGMENTED("UDP datagrams from the outside larger than the LAN MTU, delivered to VMs in IP"
            + " fragments"),
    NAT_UDP_FRAGMENTS_IN("IP fragments those datagrams were cut into"),
    NAT_UDP_PORT_UNREACHABLE("ICMP port unreachable sent to VMs for a closed outside port"),
    NAT_ICMP_FLOWS_OPENED("ICMP echo flows opened (one ping socket each)"),
    NAT_ICMP_FLOWS_EXPIRED("ICMP echo flows closed after their idle timeout"),
    NAT_ICMP_ECHO_OUT("ICMP echo requests sent from VMs to the outside"),
    NAT_ICMP_ECHO_IN("ICMP echo replies delivered to VMs"),
    NAT_ICMP_ECHO_FRAGMENTED("ICMP echo replies larger than the LAN MTU, delivered to VMs in IP fragments"),
    NAT_ICMP_FRAGMENTS_IN("IP fragments those echo replies were cut into"),
    NAT_IPV6_PACKETS_OUT("IPv6 packets from VMs the NAT took to carry outside (before per-protocol checks)"),
    NAT_IPV6_UNREACHABLE("ICMPv6 destination unreachable the NAT sent VMs for IPv6 connects that failed later"
            + " (timeout, no route, port unreachable)"),
    NAT_EGRESS_DENIED("packets to a destination the egress policy denies, IPv4 or IPv6 (answered admin-prohibited)"),
    DROP_NAT_HOST_BUDGET("new NAT flows refused because the relay's host sockets, the network's share or the client"
            + " address's share of them are used up"),
    DROP_NAT_BAD_PACKET("packets to the outside with bad lengths, checksum or ports"),
    DROP_NAT_IPV6_SOURCE("IPv6 packets to the outside from a source outside the LAN's /64 (link-local, spoofed)"),
    DROP_NAT_UNSUPPORTED("packets to the outside of a protocol or ICMP type the NAT does not carry"),
    DROP_NAT_UDP_VM_LIMIT("new UDP flows refused: the VM holds its maximum"),
    DROP_NAT_UDP_TABLE_FULL("new UDP flows refused: the UDP flow table is full"),
    DROP_NAT_ICMP_VM_LIMIT("new ICMP echo flows refused: the VM holds its maximum"),
    DROP_NAT_ICMP_TABLE_FULL("new ICMP echo flows refused: the ICMP flow table is full"),
    DROP_NAT_ICMP_DISABLED("echo requests to the outside dropped: ping sockets are not allowed on this host"),
    DROP_NAT_REPLY_TOO_LARGE("replies from the outside larger than an IP packet holds, which no fragments carry"),
    DROP_NAT_SOCKET_BUSY("packets dropped because a flow's host socket could not take more"),
    DROP_NAT_SOCKET_ERROR("host socket errors on NAT flows (open, connect, send, receive)"),

    // Operations: capture and certificates
    PCAP_FRAMES_WRITTEN("frames written to the pcap capture"),
    DROP_PCAP_BEHIND("frames left out of the pcap capture because its writer fell behind"),
    CERTIFICATE_RENEWALS("certificates renewed or reloaded without a restart"),
    // relay connect: the bridge between a local member and the relay
    CONNECT_FRAMES_TO_RELAY("frames from the local member handed to the relay session"),
    CONNECT_FRAMES_FROM_RELAY("frames from the relay session handed to the local member"),
    CONNECT_DROP_DISCONNECTED("frames dropped because no relay session was open (relay down, reconnecting)"),
    CONNECT_SESSIONS_OPENED("relay sessions opened, the first one and every reconnect"),
    CONNECT_PACKET_TOO_BIG_SENT("ICMP fragmentation-needed errors sent to the local member for IPv4 packets larger than"
            + " one datagram to the relay carries"),
    // NAT: TCP
    NAT_TCP_CONNECTIONS_OPENED("TCP connections from VMs whose host connect succeeded"),
    NAT_TCP_SERVICE_CONNECTIONS("TCP connections to a gateway service (DNS over TCP) sent to its host-side address"),
    NAT_TCP_CONNECTIONS_CLOSED("TCP connections freed (any reason)"),
    NAT_TCP_CONNECT_REFUSED("TCP connects the host refused (RST to the VM)"),
    NAT_TCP_CONNECT_FAILED("TCP connects that timed out or found no route (ICMP unreachable to the VM)"),
    NAT_TCP_SEGMENTS_IN("TCP segments from VMs accepted for processing"),
    NAT_TCP_SEGMENTS_OUT("TCP segments sent to VMs"),
    NAT_TCP_BYTES_TO_HOST("TCP payload bytes from VMs written to host sockets"),
    NAT_TCP_BYTES_TO_VM("TCP payload bytes from host sockets sent to VMs for the first time"),
    NAT_TCP_RETRANSMITS("TCP segments resent to VMs (timeouts and fast retransmits)"),
    NAT_TCP_FAST_RETRANSMITS("TCP fast retransmits after three duplicate ACKs from a VM"),
    NAT_TCP_SACK_RETRANSMITS("TCP segments resent to VMs in fast recovery because their SACK blocks showed them lost"),
    NAT_TCP_TIMEOUTS("TCP retransmission timer expiries"),
    NAT_TCP_OUT_OF_ORDER_HELD("TCP segments from VMs held until the gap before them filled"),
    NAT_TCP_RESETS_FROM_VM("TCP connections the VM reset"),
    NAT_TCP_RESETS_FROM_HOST("TCP connections the host reset or broke (RST to the VM)"),
    NAT_TCP_RESETS_TO_VM("TCP resets sent to VMs (refusals, strays, aborts)"),
    NAT_TCP_ABORTED("TCP connections reset after retransmissions to the VM ran out (VM gone)"),
    NAT_TCP_EXPIRED("TCP connections reset after their idle timeout"),
    NAT_TCP_ACTIVE_OPENS("TCP connections the relay opened toward a VM (forwards) that the VM accepted"),
    NAT_TCP_ACTIVE_OPENS_REFUSED("TCP connections toward a VM (forwards) the VM refused with RST"),
    NAT_TCP_ACTIVE_OPENS_UNANSWERED("TCP connections toward a VM (forwards) whose SYN the VM never answered"),
    DROP_NAT_TCP_BAD_CHECKSUM("TCP segments from VMs with a bad checksum"),
    DROP_NAT_TCP_MALFORMED("TCP segments from VMs with a bad data offset, bad options or port 0"),
    DROP_NAT_TCP_BAD_FLAGS("TCP segments from VMs with impossible flags (SYN+FIN, SYN+RST, none, no ACK)"),
    DROP_NAT_TCP_OUT_OF_WINDOW("TCP data from VMs beyond the offered window or before the next expected byte"),
    DROP_NAT_TCP_OUT_OF_ORDER("TCP segments from VMs after a gap, not held (hold queue full)"),
    DROP_NAT_TCP_NO_CONNECTION("TCP segments from VMs for no known connection (answered with RST)"),
    DROP_NAT_TCP_VM_LIMIT("new TCP connections refused: the VM holds its maximum"),
    DROP_NAT_TCP_TABLE_FULL("new TCP connections refused: the TCP connection table is full"),

    // Port forwards (outside clients reaching a server in a VM)
    FORWARD_TCP_ACCEPTED("outside TCP connections accepted on forwards"),
    FORWARD_NO_NETWORK("forwarded connections or datagrams dropped: the forward's network does not exist (yet)"),
    FORWARD_NO_GUEST("forwarded connections or datagrams dropped: nobody answered ARP for the forward's address"),
    FORWARD_REFUSED_BUSY("forwarded connections reset: too many already wait for the guest to answer ARP"),
    FORWARD_UDP_FLOWS_OPENED("UDP forward flows opened (one per outside client address)"),
    FORWARD_UDP_FLOWS_EXPIRED("UDP forward flows closed after their idle timeout"),
    FORWARD_UDP_DATAGRAMS_TO_VM("datagrams from outside clients carried to VMs by UDP forwards"),
    FORWARD_UDP_DATAGRAMS_FROM_VM("datagrams from VMs carried to outside clients by UDP forwards"),
    DROP_FORWARD_UDP_TABLE_FULL("datagrams from new outside clients of a UDP forward dropped: its flow table is full"),
    DROP_FORWARD_UDP_WAITING("datagrams of a UDP forward dropped while its guest is looked up by ARP (one is held)"),
    DROP_FORWARD_UDP_NOT_IPV4("datagrams to a UDP forward from an IPv6 client (forwards carry IPv4 clients)"),
    DROP_FORWARD_UDP_NO_FLOW("datagrams from VMs to a forward port of the gateway that no UDP forward flow holds"),
    PREVIEW_REQUESTS("web preview requests (/net/NAME/vm/VMADDR:PORT/...)"),
    PREVIEW_REFUSED_TOKEN("web preview requests refused with 401/403: the network's token was missing or wrong"),
    PREVIEW_REFUSED_ADDRESS("web preview requests refused with 400: not a VM address and port of the network"),
    PREVIEW_REFUSED_BUSY("web preview requests refused with 503: too many previews open"),
    PREVIEW_IDLE_CLOSED("web previews closed after their idle timeout"),

    // WISP (/wisp/, /net/NAME/wisp/): streams of browser clients through the egress policy and host budget
    WISP_CONNECTIONS_OPENED("WISP WebSocket connections past their upgrade"),
    WISP_CONNECTIONS_CLOSED("WISP WebSocket connections that ended"),
    WISP_CONNECTIONS_REFUSED("WISP connections refused: at the upgrade (token, network, address limit) or by the v2"
            + " password check"),
    WISP_PROTOCOL_CLOSES("WISP connections closed for a WebSocket protocol violation (oversized message, bad opcode)"),
    WISP_STREAMS_REQUESTED("WISP CONNECTs accepted for opening (name resolution, policy, budget and connect follow)"),
    WISP_STREAMS_OPENED("WISP streams whose host socket connected"),
    WISP_STREAMS_CLOSED("WISP streams that had connected and ended (either side, any reason)"),
    WISP_STREAMS_INVALID("WISP CONNECTs with a bad stream type, port or host name (CLOSE 0x41)"),
    WISP_STREAMS_BLOCKED("WISP streams to a destination the egress policy denies (CLOSE 0x48)"),
    WISP_STREAMS_OVER_LIMIT("WISP streams refused: the connection holds its most streams, or the resolver queue is"
            + " full (CLOSE 0x49)"),
    WISP_STREAMS_THROTTLED("WISP streams closed with 0x49 because their client sent far beyond its credit and the"
            + " connection held its most bytes for its destinations"),
    WISP_STREAMS_FAILED("WISP streams whose name did not resolve to IPv4 or whose connect failed (CLOSE 0x42,"
            + " 0x43, 0x44)"),
    WISP_BYTES_TO_HOST("bytes of WISP DATA written to host sockets"),
    WISP_BYTES_TO_CLIENT("bytes read from host sockets sent to WISP clients as DATA"),
    WISP_CREDIT_EXCEEDED("WISP DATA packets a client sent beyond the credit of its last CONTINUE"),
    DROP_WISP_MALFORMED("WISP packets dropped as malformed: short, text, unknown type, out of order, or CONNECT for"
            + " stream 0 or an open stream"),
    DROP_WISP_UNKNOWN_STREAM("WISP DATA or CLOSE packets for a stream id that is not open"),
    DROP_WISP_UDP_BUSY("WISP UDP datagrams dropped: the host socket could not take more, or it was still opening");

    /** What every drop counter's name starts with; the rest of the name is its reason. */
    private static final String DROP_PREFIX = "DROP_";

    private final String description;

    Counter(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }

    /** Whether this counts frames (or messages) dropped for one reason: one of {@code relay_drops_total}'s series. */
    public boolean isDrop() {
        return name().startsWith(DROP_PREFIX);
    }

    /** A drop counter's reason as {@code /metrics} and the dashboard name it ({@code queue_full}). */
    public String dropReason() {
        if (!isDrop()) {
            throw new IllegalStateException(name() + " counts no drop");
        }
        return name().substring(DROP_PREFIX.length()).toLowerCase(java.util.Locale.ROOT);
    }
}
