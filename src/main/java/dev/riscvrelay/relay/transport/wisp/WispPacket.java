package dev.riscvrelay.relay.transport.wisp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The WISP packet (wisp-protocol v1.2 and v2): a type byte, a stream id (uint32, little-endian) and a payload that
 * fills the rest of the WebSocket message. Reads the header of a received packet and builds the packets the relay
 * sends, each into one buffer from the caller's allocator.
 */
final class WispPacket {

    static final int HEADER_LENGTH = 5;

    static final int CONNECT = 0x01;
    static final int DATA = 0x02;
    static final int CONTINUE = 0x03;
    static final int CLOSE = 0x04;
    /** v2 only: versions and extensions, once each way at the start. */
    static final int INFO = 0x05;

    /** CONNECT's stream types. */
    static final int STREAM_TCP = 0x01;
    static final int STREAM_UDP = 0x02;

    private WispPacket() {
    }

    /** The packet's type; the message must be at least {@link #HEADER_LENGTH} long. */
    static int type(ByteBuf message) {
        return message.getUnsignedByte(message.readerIndex());
    }

    /** The stream id as an int (ids above 2^31 are negative here; they are only compared). */
    static int streamId(ByteBuf message) {
        return message.getIntLE(message.readerIndex() + 1);
    }

    static int payloadOffset(ByteBuf message) {
        return message.readerIndex() + HEADER_LENGTH;
    }

    static int payloadLength(ByteBuf message) {
        return message.readableBytes() - HEADER_LENGTH;
    }

    /** DATA carrying {@code length} bytes of {@code payload} from its reader index (the payload is not consumed). */
    static ByteBuf data(ByteBufAllocator allocator, int streamId, ByteBuf payload, int length) {
        ByteBuf packet = header(allocator, DATA, streamId, length);
        packet.writeBytes(payload, payload.readerIndex(), length);
        return packet;
    }

    /** CONTINUE: the client may send {@code bufferRemaining} more DATA packets on the stream. */
    static ByteBuf continuePacket(ByteBufAllocator allocator, int streamId, int bufferRemaining) {
        return header(allocator, CONTINUE, streamId, 4).writeIntLE(bufferRemaining);
    }

    static ByteBuf close(ByteBufAllocator allocator, int streamId, int reason) {
        return header(allocator, CLOSE, streamId, 1).writeByte(reason);
    }

    /** INFO (stream 0) with the version and the extension records, each already encoded. */
    static ByteBuf info(ByteBufAllocator allocator, int major, int minor, byte[] extensions) {
        return header(allocator, INFO, 0, 2 + extensions.length).writeByte(major).writeByte(minor)
                .writeBytes(extensions);
    }

    private static ByteBuf header(ByteBufAllocator allocator, int type, int streamId, int payloadLength) {
        return allocator.buffer(HEADER_LENGTH + payloadLength).writeByte(type).writeIntLE(streamId);
    }
}
