package dev.riscvrelay.relay.nat.tcp;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * The bytes read from the host socket that the VM has not acknowledged yet: the chunks exactly as the socket
 * returned them (no copy), in order, from SND.UNA on. Segments copy out of it by offset, so data can be sent and
 * resent until {@link #discard} drops what the VM acknowledged. Sequential reads are cheap: the chunk of the
 * last read is remembered. Owned by one event loop.
 */
final class SendBuffer {

    private ByteBuf[] chunks = new ByteBuf[16];
    private int head;
    private int count;
    private int size;
    /** The chunk (counted from the head) where the last copy started, and its offset from the first byte. */
    private int cursorChunk;
    private int cursorStart;

    /** Bytes held: from SND.UNA to the end of what the host sent. */
    int size() {
        return size;
    }

    /** Appends a chunk read from the host; takes over its reference. Empty chunks are released at once. */
    void add(ByteBuf chunk) {
        int readable = chunk.readableBytes();
        if (readable == 0) {
            chunk.release();
            return;
        }
        if (count == chunks.length) {
            // Grows with the socket's read sizes, bounded by the send buffer limit; rare after the first reads.
            ByteBuf[] grown = new ByteBuf[chunks.length * 2];
            for (int i = 0; i < count; i++) {
                grown[i] = chunks[(head + i) & (chunks.length - 1)];
            }
            chunks = grown;
            head = 0;
        }
        chunks[(head + count) & (chunks.length - 1)] = chunk;
        count++;
        size += readable;
    }

    /** Copies {@code length} bytes starting {@code offset} bytes after SND.UNA into {@code dst} at {@code index}. */
    void copy(int offset, int length, ByteBuf dst, int index) {
        if (offset < 0 || length < 0 || offset + length > size) {
            throw new IndexOutOfBoundsException("copy " + offset + "+" + length + " of " + size);
        }
        int chunk = 0;
        int start = 0;
        if (cursorChunk < count && cursorStart <= offset) {
            chunk = cursorChunk;
            start = cursorStart;
        }
        ByteBuf current = chunkAt(chunk);
        while (offset - start >= current.readableBytes()) {
            start += current.readableBytes();
            chunk++;
            current = chunkAt(chunk);
        }
        cursorChunk = chunk;
        cursorStart = start;
        int within = offset - start;
        while (length > 0) {
            int n = Math.min(length, current.readableBytes() - within);
            dst.setBytes(index, current, current.readerIndex() + within, n);
            index += n;
            length -= n;
            within = 0;
            if (length > 0) {
                chunk++;
                current = chunkAt(chunk);
            }
        }
    }

    /** Drops the first {@code acknowledged} bytes, releasing chunks that are wholly acknowledged. */
    void discard(int acknowledged) {
        if (acknowledged < 0 || acknowledged > size) {
            throw new IndexOutOfBoundsException("discard " + acknowledged + " of " + size);
        }
        size -= acknowledged;
        int removed = 0;
        int left = acknowledged;
        while (left > 0) {
            ByteBuf first = chunks[head];
            int readable = first.readableBytes();
            if (readable <= left) {
                left -= readable;
                first.release();
                chunks[head] = null;
                head = (head + 1) & (chunks.length - 1);
                count--;
                removed++;
            } else {
                first.skipBytes(left);
                left = 0;
            }
        }
        int chunk = cursorChunk - removed;
        if (chunk <= 0) {
            cursorChunk = 0;
            cursorStart = 0;
        } else {
            cursorChunk = chunk;
            cursorStart -= acknowledged;
        }
    }

    /** Releases every chunk; the buffer is empty afterwards. */
    void releaseAll() {
        for (int i = 0; i < count; i++) {
            int slot = (head + i) & (chunks.length - 1);
            chunks[slot].release();
            chunks[slot] = null;
        }
        head = 0;
        count = 0;
        size = 0;
        cursorChunk = 0;
        cursorStart = 0;
        Arrays.fill(chunks, null);
    }

    private ByteBuf chunkAt(int index) {
        return chunks[(head + index) & (chunks.length - 1)];
    }
}
