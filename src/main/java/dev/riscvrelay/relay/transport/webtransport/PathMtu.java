package dev.riscvrelay.relay.transport.webtransport;

import io.netty.channel.ChannelOption;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.handler.codec.quic.QuicConnectionAddress;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Enumeration;

/**
 * How large a QUIC packet may be on a path (RFC 9000 §14). A QUIC packet is never fragmented: every UDP datagram
 * leaves with DF set ({@link #DISCOVER_PROBE}), starts no larger than the first link carries, and goes above
 * 1200 bytes only once quiche's DPLPMTUD (RFC 8899, RFC 9000 §14.3) has had a probe of that size acknowledged.
 *
 * <p>On a 1500-byte Ethernet link a UDP payload may be 1472 bytes over IPv4 (20 + 8 bytes of headers) and 1452
 * over IPv6 (40 + 8). Anything larger is refused by the kernel with EMSGSIZE before it leaves ({@code sendmmsg}
 * with GSO fails the whole batch), or dropped by a router on the way.
 */
public final class PathMtu {

    /** RFC 9000 §14.1: every path must carry this UDP payload; QUIC starts here. */
    public static final int QUIC_MIN_UDP_PAYLOAD = 1200;
    /** IPv4 (20) and UDP (8) headers. */
    public static final int IPV4_UDP_HEADERS = 28;
    /** IPv6 (40) and UDP (8) headers. */
    public static final int IPV6_UDP_HEADERS = 48;
    /**
     * The largest UDP payload sent or received by default, on any path: Chromium announces max_udp_payload_size 1472
     * and closes the connection ("Packet too large", PROTOCOL_VIOLATION) on a larger packet, and quiche's path MTU
     * probes go up to its own maximum whatever the peer announced. Firefox takes 1472 too, and it is what a 1500-byte
     * IPv4 link carries. Both ends of relay connect use it, so a frame one side may send the other may too.
     */
    public static final int MAX_UDP_PAYLOAD = 1472;
    /** The MTU assumed when no link says otherwise: Ethernet's. */
    public static final int ETHERNET_MTU = 1500;

    /**
     * What quiche puts around a QUIC DATAGRAM frame's payload in a 1-RTT packet: short header (1 byte) and packet
     * number (up to 4), AEAD tag (16), frame type (1) and 2-byte length; the destination connection ID comes on top.
     * quiche's {@code dgram_max_writable_len} subtracts the same.
     */
    static final int DATAGRAM_OVERHEAD_WITHOUT_CID = 1 + 4 + 16 + 1 + 2;
    /** quiche's and Netty's connection ID length, assumed when the peer's cannot be read. */
    static final int DEFAULT_CONNECTION_ID_LENGTH = 20;
    private static final String CONNECTION_ID_PREFIX = "connId=";

    /** IP_MTU_DISCOVER and IPV6_MTU_DISCOVER ({@code <linux/in.h>}, {@code <linux/in6.h>}). */
    static final ChannelOption<Integer> IP_MTU_DISCOVER = new IntegerUnixChannelOption("IP_MTU_DISCOVER", 0, 10);
    static final ChannelOption<Integer> IPV6_MTU_DISCOVER =
            new IntegerUnixChannelOption("IPV6_MTU_DISCOVER", 41, 23);
    /**
     * IP_PMTUDISC_PROBE: set DF and never fragment, but ignore the kernel's path MTU cache, so QUIC's own probes
     * decide (RFC 9000 §14.2.1); a datagram larger than the outgoing link still fails with EMSGSIZE.
     */
    static final int DISCOVER_PROBE = 3;
    /** IP_MTU on a connected socket: the MTU of its route, as the kernel knows it ({@code <linux/in.h>}). */
    static final ChannelOption<Integer> IP_MTU = new IntegerUnixChannelOption("IP_MTU", 0, 14);
    static final ChannelOption<Integer> IPV6_MTU = new IntegerUnixChannelOption("IPV6_MTU", 41, 24);

    private PathMtu() {
    }

    /**
     * The largest UDP payload a link of {@code linkMtu} carries in one unfragmented IP packet, no more than
     * {@code cap} and no less than QUIC's minimum.
     */
    public static int udpPayloadFor(int linkMtu, boolean ipv6, int cap) {
        int payload = linkMtu - (ipv6 ? IPV6_UDP_HEADERS : IPV4_UDP_HEADERS);
        return Math.max(QUIC_MIN_UDP_PAYLOAD, Math.min(cap, payload));
    }

    /**
     * The MTU of the link a socket bound to {@code bind} sends on: that address's interface, or for a wildcard
     * address the largest MTU of the interfaces that are up, loopback only when nothing else is. Ethernet's 1500
     * when the interfaces cannot be read.
     */
    public static int linkMtuFor(InetAddress bind) {
        try {
            if (!bind.isAnyLocalAddress()) {
                NetworkInterface owner = NetworkInterface.getByInetAddress(bind);
                return owner == null ? ETHERNET_MTU : owner.getMTU();
            }
            int largest = -1;
            int loopback = -1;
            Enumeration<NetworkInterface> interfaces = NetworkInterface.getNetworkInterfaces();
            while (interfaces != null && interfaces.hasMoreElements()) {
                NetworkInterface candidate = interfaces.nextElement();
                if (!candidate.isUp()) {
                    continue;
                }
                if (candidate.isLoopback()) {
                    loopback = Math.max(loopback, candidate.getMTU());
                } else {
                    largest = Math.max(largest, candidate.getMTU());
                }
            }
            return largest > 0 ? largest : loopback > 0 ? loopback : ETHERNET_MTU;
        } catch (SocketException e) {
            return ETHERNET_MTU;
        }
    }

    /** The largest UDP payload a server bound to {@code bind} starts probing from, at most {@code cap}. */
    public static int serverUdpPayload(InetAddress bind, int cap) {
        return udpPayloadFor(linkMtuFor(bind), bind instanceof Inet6Address, cap);
    }

    /**
     * The largest HTTP datagram (quarter stream ID prefix included) that fits one QUIC packet of {@code udpPayload}
     * bytes whose destination connection ID is {@code connectionIdLength} bytes long.
     */
    public static int datagramPayload(int udpPayload, int connectionIdLength) {
        return udpPayload - DATAGRAM_OVERHEAD_WITHOUT_CID - connectionIdLength;
    }

    /**
     * The length of the connection ID this side puts in the packets it sends (the peer's source ID: Chromium's is
     * empty, quiche's 20 bytes). Netty shows it only in the address's text ({@code QuicConnectionAddress{connId=..}}).
     */
    static int connectionIdLength(QuicConnectionAddress destination) {
        if (destination == null) {
            return DEFAULT_CONNECTION_ID_LENGTH;
        }
        String text = destination.toString();
        int start = text.indexOf(CONNECTION_ID_PREFIX);
        int end = text.lastIndexOf('}');
        if (start < 0 || end < start) {
            return DEFAULT_CONNECTION_ID_LENGTH;
        }
        int hexDigits = end - start - CONNECTION_ID_PREFIX.length();
        return hexDigits % 2 == 0 && hexDigits <= 2 * DEFAULT_CONNECTION_ID_LENGTH ? hexDigits / 2
                : DEFAULT_CONNECTION_ID_LENGTH;
    }

    /** The socket option that sets DF on a socket of this address family. */
    static ChannelOption<Integer> discoverOption(InetAddress family) {
        return family instanceof Inet6Address ? IPV6_MTU_DISCOVER : IP_MTU_DISCOVER;
    }

    /** The socket option that reads a connected socket's route MTU. */
    static ChannelOption<Integer> routeMtuOption(InetAddress family) {
        return family instanceof Inet6Address ? IPV6_MTU : IP_MTU;
    }
}
