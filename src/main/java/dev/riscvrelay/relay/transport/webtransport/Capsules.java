package dev.riscvrelay.relay.transport.webtransport;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Capsules (RFC 9297 §3.2: Type varint, Length varint, Value) that a WebTransport session sends on its CONNECT
 * stream, inside HTTP/3 DATA frames.
 */
public final class Capsules {

    /** WebTransport over HTTP/3 §5 (draft-ietf-webtrans-http3): error code and reason, then the stream's FIN. */
    public static final long CLOSE_WEBTRANSPORT_SESSION = 0x2843;

    /** WebTransport over HTTP/3 §4.6: the peer asks for a graceful end of the session. Empty value. */
    public static final long DRAIN_WEBTRANSPORT_SESSION = 0x78ae;

    /** A reserved capsule type (RFC 9297 §5.4: 0x29 * N + 0x17), which every receiver must skip. */
    public static final long GREASE = 0x29L * 7 + 0x17;

    /** The longest close reason in bytes (WebTransport over HTTP/3 §5). */
    public static final int MAX_CLOSE_REASON_BYTES = 1024;

    private Capsules() {
    }

    /** Appends a CLOSE_WEBTRANSPORT_SESSION capsule; a longer reason is cut at a character boundary. */
    public static void writeClose(ByteBuf out, long errorCode, String reason) {
        if (errorCode < 0 || errorCode > 0xffffffffL) {
            throw new IllegalArgumentException("a WebTransport error code is 32 bits: " + errorCode);
        }
        byte[] utf8 = truncatedUtf8(reason, MAX_CLOSE_REASON_BYTES);
        QuicVarint.write(out, CLOSE_WEBTRANSPORT_SESSION);
        QuicVarint.write(out, 4 + utf8.length);
        out.writeInt((int) errorCode);
        out.writeBytes(utf8);
    }

    public static void writeDrain(ByteBuf out) {
        QuicVarint.write(out, DRAIN_WEBTRANSPORT_SESSION);
        QuicVarint.write(out, 0);
    }

    /** A capsule that means nothing: sent as a keep-alive, since stream data is ack-eliciting. */
    public static void writeGrease(ByteBuf out) {
        QuicVarint.write(out, GREASE);
        QuicVarint.write(out, 0);
    }

    private static byte[] truncatedUtf8(String text, int maxBytes) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        if (utf8.length <= maxBytes) {
            return utf8;
        }
        int end = maxBytes;
        while (end > 0 && (utf8[end] & 0xc0) == 0x80) {
            end--; // do not cut inside a multi-byte character
        }
        return java.util.Arrays.copyOf(utf8, end);
    }
}
