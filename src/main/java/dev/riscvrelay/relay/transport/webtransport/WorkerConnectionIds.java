package dev.riscvrelay.relay.transport.webtransport;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.quic.QuicConnectionIdGenerator;
import java.nio.ByteBuffer;

/**
 * The connection IDs one worker issues: its index in the first two bytes, random bytes after, so that any worker
 * that reads a packet knows whose connection it is (QUIC-LB's idea, without its encryption: the index is no secret).
 * Every ID is {@link #LENGTH} bytes, quiche's longest.
 */
final class WorkerConnectionIds implements QuicConnectionIdGenerator {

    /** The length of every connection ID the relay issues with several workers. */
    static final int LENGTH = 20;
    /** A short-header packet: the first byte's form bit clear and fixed bit set (RFC 9000 section 17.3). */
    private static final int HEADER_FORM = 0x80;

    private final int worker;
    private final QuicConnectionIdGenerator random = QuicConnectionIdGenerator.randomGenerator();

    WorkerConnectionIds(int worker) {
        if (worker < 0 || worker > 0xFFFF) {
            throw new IllegalArgumentException("worker index must be 0..65535, not " + worker);
        }
        this.worker = worker;
    }

    /**
     * The worker named by the destination connection ID of {@code packet} (a UDP payload), or -1 when it is a
     * long-header packet (a handshake) or too short to carry one of these IDs.
     */
    static int owner(ByteBuf packet) {
        int start = packet.readerIndex();
        if (packet.readableBytes() < 1 + LENGTH || (packet.getByte(start) & HEADER_FORM) != 0) {
            return -1;
        }
        return packet.getUnsignedShort(start + 1);
    }

    @Override
    public ByteBuffer newId(int length) {
        if (length < Short.BYTES) {
            return random.newId(length);
        }
        ByteBuffer id = ByteBuffer.allocate(length);
        id.putShort((short) worker).put(random.newId(length - Short.BYTES)).flip();
        return id;
    }

    @Override
    public ByteBuffer newId(ByteBuffer input, int length) {
        return newId(length);
    }

    @Override
    public int maxConnectionIdLength() {
        return random.maxConnectionIdLength();
    }

    @Override
    public boolean isIdempotent() {
        return false;
    }
}
