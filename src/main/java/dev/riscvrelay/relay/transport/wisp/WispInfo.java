package dev.riscvrelay.relay.transport.wisp;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The v2 INFO packet's extensions (wisp-protocol v2, "Protocol Extensions"): records of an id (uint8), a payload
 * length (uint32 LE) and the payload. The relay offers UDP (0x01), password authentication (0x02, the password being
 * the network's token) when the network needs a token the request did not carry, and stream open confirmation
 * (0x05); it reads which of them the client's INFO names, and the client's credentials.
 *
 * @param udp the client supports UDP streams
 * @param openConfirmation the client wants a CONTINUE when a stream's socket is connected
 * @param password the client's password, or null when it sent no password record
 */
record WispInfo(boolean udp, boolean openConfirmation, String password) {

    static final int VERSION_MAJOR = 2;
    static final int VERSION_MINOR = 0;
    static final int EXT_UDP = 0x01;
    static final int EXT_PASSWORD = 0x02;
    static final int EXT_OPEN_CONFIRMATION = 0x05;

    /** The client's INFO; null when its records overrun the message or a password record is malformed. */
    static WispInfo parse(ByteBuf message) {
        int at = WispPacket.payloadOffset(message);
        int end = at + WispPacket.payloadLength(message);
        if (end - at < 2) {
            return null;
        }
        at += 2; // the version: the relay speaks 2.0 to every v2 client
        boolean udp = false;
        boolean confirmation = false;
        String password = null;
        while (at < end) {
            if (end - at < 5) {
                return null;
            }
            int id = message.getUnsignedByte(at);
            long length = message.getUnsignedIntLE(at + 1);
            at += 5;
            if (length > end - at) {
                return null;
            }
            int size = (int) length;
            switch (id) {
                case EXT_UDP -> udp = true;
                case EXT_OPEN_CONFIRMATION -> confirmation = true;
                case EXT_PASSWORD -> {
                    if (size < 1 || message.getUnsignedByte(at) > size - 1) {
                        return null;
                    }
                    int userLength = message.getUnsignedByte(at);
                    password = message.toString(at + 1 + userLength, size - 1 - userLength, StandardCharsets.UTF_8);
                }
                default -> { } // extensions the relay does not offer are ignored
            }
            at += size;
        }
        return new WispInfo(udp, confirmation, password);
    }

    /** The relay's extension records: UDP, stream open confirmation, and password authentication if required. */
    static byte[] serverExtensions(boolean passwordRequired) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        record(out, EXT_UDP, new byte[0]);
        record(out, EXT_OPEN_CONFIRMATION, new byte[0]);
        if (passwordRequired) {
            record(out, EXT_PASSWORD, new byte[] {1});
        }
        return out.toByteArray();
    }

    private static void record(ByteArrayOutputStream out, int id, byte[] payload) {
        out.write(id);
        int length = payload.length;
        out.write(length);
        out.write(length >>> 8);
        out.write(length >>> 16);
        out.write(length >>> 24);
        out.writeBytes(payload);
    }
}
