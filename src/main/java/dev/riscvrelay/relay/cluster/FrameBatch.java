package dev.riscvrelay.relay.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The frames of one loop turn for one destination, as one NATS message: a format byte ({@value #FORMAT}), the
 * sender's own subject (a length byte and ASCII), then each frame as a 16-bit big-endian length and its bytes.
 * Batching turns a burst of small frames into one message, so NATS's per-message cost is paid per turn, not per
 * frame. The sender travels in the body, not as reply-to: NATS answers a message with a reply-to that no one
 * receives with a "no responders" status, which a trunk alone on its network would get for every batch.
 */
final class FrameBatch {

    static final byte FORMAT = 1;
    /** Well below NATS's default 1 MiB payload limit; a batch that would grow past it is sent first. */
    static final int MAX_BYTES = 60 * 1024;
    static final int LENGTH_BYTES = 2;
    static final int MAX_SENDER = 255;
    /** The largest frame a batch carries, beside the longest header. */
    static final int MAX_FRAME = MAX_BYTES - 2 - MAX_SENDER - LENGTH_BYTES;

    private final ByteBufAllocator alloc;
    private final byte[] sender;
    private ByteBuf bytes;
    private int frames;

    /** @param sender the sending trunk's own subject, ASCII, at most {@value #MAX_SENDER} bytes */
    FrameBatch(ByteBufAllocator alloc, byte[] sender) {
        if (sender.length > MAX_SENDER) {
            throw new IllegalArgumentException("sender subject longer than " + MAX_SENDER + " bytes");
        }
        this.alloc = alloc;
        this.sender = sender.clone();
    }

    /** Whether {@code length} more bytes of frame still fit. */
    boolean fits(int length) {
        return bytes == null || bytes.readableBytes() + LENGTH_BYTES + length <= MAX_BYTES;
    }

    /** Appends the readable bytes of {@code frame} (not released here). */
    void add(ByteBuf frame) {
        if (bytes == null) {
            bytes = alloc.heapBuffer(Math.min(MAX_BYTES, 4096), MAX_BYTES);
            writeHeader();
        }
        bytes.writeShort(frame.readableBytes());
        bytes.writeBytes(frame, frame.readerIndex(), frame.readableBytes());
        frames++;
    }

    boolean isEmpty() {
        return frames == 0;
    }

    int frames() {
        return frames;
    }

    /** The message body, and the batch empty again. */
    byte[] take() {
        byte[] body = new byte[bytes.readableBytes()];
        bytes.readBytes(body);
        bytes.clear();
        writeHeader();
        frames = 0;
        return body;
    }

    private void writeHeader() {
        bytes.writeByte(FORMAT).writeByte(sender.length).writeBytes(sender);
    }

    /** Frees the buffer; the batch may be used again. */
    void release() {
        if (bytes != null) {
            bytes.release();
            bytes = null;
        }
        frames = 0;
    }

    /** Sees each frame of a received batch, as an offset and length into its body. */
    interface FrameVisitor {
        void frame(byte[] body, int offset, int length);
    }

    /** The sender's subject of a batch, or null when {@code body} is not a batch. */
    static String sender(byte[] body) {
        if (body == null || body.length < 2 || body[0] != FORMAT || 2 + (body[1] & 0xFF) > body.length) {
            return null;
        }
        return new String(body, 2, body[1] & 0xFF, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /**
     * Walks the frames of {@code body}; returns false (having shown the frames before it) when the body is not a
     * batch: another format, a header past its end, or a length past its end or shorter than {@code minimumFrame}.
     */
    static boolean forEachFrame(byte[] body, int minimumFrame, FrameVisitor visitor) {
        if (sender(body) == null) {
            return false;
        }
        int at = 2 + (body[1] & 0xFF);
        while (at < body.length) {
            if (at + LENGTH_BYTES > body.length) {
                return false;
            }
            int length = ((body[at] & 0xFF) << 8) | (body[at + 1] & 0xFF);
            at += LENGTH_BYTES;
            if (length < minimumFrame || at + length > body.length) {
                return false;
            }
            visitor.frame(body, at, length);
            at += length;
        }
        return true;
    }
}
