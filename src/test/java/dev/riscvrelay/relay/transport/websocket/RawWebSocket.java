package dev.riscvrelay.relay.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A WebSocket client written by hand on a plain socket, for what a library's client will not do: never read, or
 * write many messages in one go.
 */
public final class RawWebSocket {

    private RawWebSocket() {
    }

    /** Sends the upgrade request on {@code socket} and checks the relay's 101; the socket then carries messages. */
    public static void upgrade(Socket socket) throws IOException {
        upgrade(socket, "/");
    }

    /** As {@link #upgrade(Socket)}, to the network at {@code path} ({@code /net/NAME}). */
    public static void upgrade(Socket socket, String path) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        byte[] head = new byte[256];
        int read = socket.getInputStream().read(head);
        assertThat(new String(head, 0, Math.max(read, 0), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 101");
    }

    /**
     * {@code count} copies of {@code payload} (under 64 KiB) as masked binary messages (RFC 6455 section 5.2), the
     * length in its shortest form; the mask key is zero, so the payload goes as it is.
     */
    public static byte[] binaryMessages(byte[] payload, int count) {
        int length = payload.length;
        if (length > 0xFFFF) {
            throw new IllegalArgumentException("payload over 64 KiB: " + length);
        }
        int header = length < 126 ? 6 : 8;
        ByteBuffer messages = ByteBuffer.allocate(count * (header + length));
        for (int i = 0; i < count; i++) {
            messages.put((byte) 0x82);
            if (length < 126) {
                messages.put((byte) (0x80 | length));
            } else {
                messages.put((byte) (0x80 | 126)).putShort((short) length);
            }
            messages.putInt(0).put(payload);
        }
        return messages.array();
    }
}
