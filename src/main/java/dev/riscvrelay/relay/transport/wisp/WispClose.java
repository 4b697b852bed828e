package dev.riscvrelay.relay.transport.wisp;

import io.netty.channel.ConnectTimeoutException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;

/** The CLOSE reasons of the WISP specification the relay sends, and which one a failed connect gets. */
final class WispClose {

    /** No better reason: a v2 client that did not send its INFO in time. */
    static final int UNSPECIFIED = 0x01;
    /** The stream closed normally: the destination closed its side (or the client asked). */
    static final int VOLUNTARY = 0x02;
    /** The connection to the destination broke (reset, error). */
    static final int NETWORK_ERROR = 0x03;
    /** v2 handshake: the client's extensions cannot work with ours. */
    static final int INCOMPATIBLE_EXTENSIONS = 0x04;
    /** CONNECT with an invalid stream type, port or host name. */
    static final int INVALID = 0x41;
    /** The name does not resolve (to an IPv4 address), or no route leads to it. */
    static final int UNREACHABLE = 0x42;
    static final int CONNECT_TIMEOUT = 0x43;
    static final int REFUSED = 0x44;
    /** The egress policy denies the destination. */
    static final int BLOCKED = 0x48;
    /** A limit: streams per connection, the host budget, resolutions in flight. */
    static final int THROTTLED = 0x49;
    /** v2 password extension: the password (the network's token) is wrong. */
    static final int AUTH_BAD_PASSWORD = 0xc0;
    /** v2: the network needs a token and the client gave no credentials. */
    static final int AUTH_REQUIRED = 0xc2;

    private WispClose() {
    }

    /** The reason for a connect that failed with {@code cause}. */
    static int forConnectFailure(Throwable cause) {
        if (cause instanceof ConnectTimeoutException) {
            return CONNECT_TIMEOUT;
        }
        String message = cause.getMessage() == null ? "" : cause.getMessage();
        if (cause instanceof NoRouteToHostException || message.contains("unreachable")
                || message.contains("No route")) {
            return UNREACHABLE;
        }
        if (cause instanceof ConnectException) {
            return REFUSED;
        }
        return NETWORK_ERROR;
    }
}
