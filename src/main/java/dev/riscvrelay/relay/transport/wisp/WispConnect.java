package dev.riscvrelay.relay.transport.wisp;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * A CONNECT's payload: stream type (1 TCP, 2 UDP), destination port (uint16 LE) and host name (UTF-8, the rest).
 *
 * @param udp whether the stream is UDP
 * @param port the destination port, 1..65535
 * @param host the destination host name or IPv4 literal
 */
record WispConnect(boolean udp, int port, String host) {

    /** The longest host name DNS allows (RFC 1035 section 2.3.4). */
    static final int MAX_HOST_LENGTH = 253;

    /** Parses the payload of {@code message} (a CONNECT); null when the type, port or host is invalid. */
    static WispConnect parse(ByteBuf message) {
        int at = WispPacket.payloadOffset(message);
        int length = WispPacket.payloadLength(message);
        if (length < 4 || length > 3 + MAX_HOST_LENGTH) {
            return null;
        }
        int type = message.getUnsignedByte(at);
        int port = message.getUnsignedShortLE(at + 1);
        if ((type != WispPacket.STREAM_TCP && type != WispPacket.STREAM_UDP) || port == 0) {
            return null;
        }
        String host = message.toString(at + 3, length - 3, StandardCharsets.UTF_8);
        if (!validHost(host)) {
            return null;
        }
        return new WispConnect(type == WispPacket.STREAM_UDP, port, host);
    }

    /** Letters, digits, '-', '.', '_' and ':' (IPv6 literals, refused later as unreachable): nothing a resolver misreads. */
    private static boolean validHost(String host) {
        if (host.isEmpty()) {
            return false;
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '.' || c == '_' || c == ':';
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
