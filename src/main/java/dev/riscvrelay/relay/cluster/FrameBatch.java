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
    /** A batch starts this large and grows (to {@link #MAX_BYTES}) only in a burst. */
    private static final int INITIAL_BYTES = 16 * 1024;

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
            // Direct: the batch goes to the NATS socket as it is.
            bytes = alloc.directBuffer(INITIAL_BYTES, MAX_BYTES);
            bytes.writeByte(FORMAT).writeByte(sender.length).writeBytes(sender);
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

    /** The message body, whose reference passes to the caller; the batch is empty again. */
    ByteBuf take() {
        ByteBuf body = bytes;
        bytes = null;
        frames = 0;
        return body;
    }

    /** Frees what the batch holds; the batch may be used again. */
    void release() {
        if (bytes != null) {
            bytes.release();
            bytes = null;
        }
        frames = 0;
    }

    /** Sees each frame of a received batch, as an index and length into its body. */
    interface FrameVisitor {
        void frame(ByteBuf body, int index, int length);
    }

    /** The length of the sender's subject of a batch (it starts at the body's reader index + 2), or -1. */
    static int senderLength(ByteBuf body) {
        int at = body.readerIndex();
        if (body.readableBytes() < 2 || body.getByte(at) != FORMAT
                || 2 + body.getUnsignedByte(at + 1) > body.readableBytes()) {
            return -1;
        }
        return body.getUnsignedByte(at + 1);
    }

    /** Whether the batch in {@code body} names {@code subject} as its sender. */
    static boolean sentBy(ByteBuf body, byte[] subject) {
        if (senderLength(body) != subject.length) {
            return false;
        }
        int at = body.readerIndex() + 2;
        for (int i = 0; i < subject.length; i++) {
            if (body.getByte(at + i) != subject[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * Walks the frames of {@code body} (its readable bytes; indices unchanged); returns false (having shown the
     * frames before it) when it is not a batch: another format, a header past its end, or a length past its end or
     * shorter than {@code minimumFrame}.
     */
    static boolean forEachFrame(ByteBuf body, int minimumFrame, FrameVisitor visitor) {
        int senderLength = senderLength(body);
        if (senderLength < 0) {
            return false;
        }
        int end = body.writerIndex();
        int at = body.readerIndex() + 2 + senderLength;
        while (at < end) {
            if (at + LENGTH_BYTES > end) {
                return false;
            }
            int length = body.getUnsignedShort(at);
            at += LENGTH_BYTES;
            if (length < minimumFrame || at + length > end) {
                return false;
            }
            visitor.frame(body, at, length);
            at += length;
        }
        return true;
    }
}
