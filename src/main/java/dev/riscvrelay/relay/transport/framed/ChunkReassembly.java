package dev.riscvrelay.relay.transport.framed;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * Puts frames sent as {@code 0x02} chunks back together, for one session: at most {@link #MAX_PENDING} frames in
 * reassembly at once, each of at most {@link #MAX_CHUNKS} chunks and {@link #MAX_FRAME} bytes, each given
 * {@link #TIMEOUT_NANOS} from its first chunk. A chunk for a new frame when every slot is taken evicts the oldest;
 * timed-out frames go when the next chunk arrives or on {@link #expire}. So a session holds at most
 * {@code MAX_PENDING} frames' worth of chunk buffers, whatever its client sends. Chunks may arrive in any order.
 *
 * <p>A chunk's datagram is held as it is (reader index on its payload) until its frame is complete, then the
 * payloads are copied once into a new buffer with {@code headroom} bytes in front for the receivers' prefixes.
 * On the session's event loop.
 */
final class ChunkReassembly {

    static final int MAX_PENDING = 4;
    /** Upstream sends 900-byte chunks: 2 carry any frame up to 1800 bytes; 4 allow smaller chunks. */
    static final int MAX_CHUNKS = 4;
    /** A 1500-byte IP packet in a VLAN-tagged Ethernet frame. */
    static final int MAX_FRAME = 1518;
    static final long TIMEOUT_NANOS = 2_000_000_000L;
    /** {@code 0x02}, chunk id (u16, big-endian), index (u8), count (u8). */
    static final int HEADER_LENGTH = 5;

    private final Counters counters;
    private final NanoClock clock;
    private final ByteBufAllocator alloc;
    private final int headroom;
    private final Pending[] pending = new Pending[MAX_PENDING];

    ChunkReassembly(Counters counters, NanoClock clock, ByteBufAllocator alloc, int headroom) {
        this.counters = counters;
        this.clock = clock;
        this.alloc = alloc;
        this.headroom = headroom;
        for (int i = 0; i < MAX_PENDING; i++) {
            pending[i] = new Pending();
        }
    }

    /**
     * Takes one chunk datagram (reader index on its {@code 0x02} byte; this takes over its reference). Returns the
     * frame when this chunk completed it (the caller owns it), else null.
     */
    ByteBuf add(ByteBuf chunk) {
        long now = clock.nanoTime();
        expire(now);
        int at = chunk.readerIndex();
        if (chunk.readableBytes() <= HEADER_LENGTH) {
            return malformed(chunk, null);
        }
        int id = chunk.getUnsignedShort(at + 1);
        int index = chunk.getUnsignedByte(at + 3);
        int count = chunk.getUnsignedByte(at + 4);
        if (count == 0 || count > MAX_CHUNKS || index >= count) {
            return malformed(chunk, null);
        }
        chunk.skipBytes(HEADER_LENGTH);
        Pending frame = find(id);
        if (frame == null) {
            frame = slotFor(now);
            frame.start(id, count, now);
        } else if (frame.count != count || frame.parts[index] != null) {
            return malformed(chunk, frame);
        }
        if (frame.bytes + chunk.readableBytes() > MAX_FRAME) {
            return malformed(chunk, frame);
        }
        frame.parts[index] = chunk;
        frame.bytes += chunk.readableBytes();
        if (++frame.received < count) {
            return null;
        }
        ByteBuf whole = alloc.directBuffer(headroom + frame.bytes);
        whole.writerIndex(headroom).readerIndex(headroom);
        for (int i = 0; i < count; i++) {
            whole.writeBytes(frame.parts[i]);
        }
        frame.clear();
        counters.increment(Counter.FRAMED_CHUNKED_FRAMES);
        return whole;
    }

    /** Drops frames whose first chunk is older than the timeout, counted. */
    void expire(long now) {
        for (Pending frame : pending) {
            if (frame.inUse() && now - frame.startedAt >= TIMEOUT_NANOS) {
                frame.clear();
                counters.increment(Counter.DROP_FRAMED_CHUNK_TIMEOUT);
            }
        }
    }

    /** Frames in reassembly now. */
    int pendingFrames() {
        int n = 0;
        for (Pending frame : pending) {
            if (frame.inUse()) {
                n++;
            }
        }
        return n;
    }

    /** Releases every held chunk (the session ended); nothing is counted. */
    void clear() {
        for (Pending frame : pending) {
            frame.clear();
        }
    }

    private Pending find(int id) {
        for (Pending frame : pending) {
            if (frame.inUse() && frame.id == id) {
                return frame;
            }
        }
        return null;
    }

    /** A free slot, or the oldest one emptied for the new frame (its frame counted as lost). */
    private Pending slotFor(long now) {
        Pending oldest = null;
        for (Pending frame : pending) {
            if (!frame.inUse()) {
                return frame;
            }
            if (oldest == null || frame.startedAt - oldest.startedAt < 0) {
                oldest = frame;
            }
        }
        oldest.clear();
        counters.increment(Counter.DROP_FRAMED_CHUNK_TIMEOUT);
        return oldest;
    }

    private ByteBuf malformed(ByteBuf chunk, Pending frame) {
        chunk.release();
        if (frame != null) {
            frame.clear();
        }
        counters.increment(Counter.DROP_FRAMED_CHUNK_MALFORMED);
        return null;
    }

    /** One frame in reassembly; {@code count == 0} when the slot is free. */
    private static final class Pending {
        final ByteBuf[] parts = new ByteBuf[MAX_CHUNKS];
        int id;
        int count;
        int received;
        int bytes;
        long startedAt;

        boolean inUse() {
            return count != 0;
        }

        void start(int frameId, int chunks, long now) {
            id = frameId;
            count = chunks;
            received = 0;
            bytes = 0;
            startedAt = now;
        }

        void clear() {
            for (int i = 0; i < parts.length; i++) {
                if (parts[i] != null) {
                    parts[i].release();
                    parts[i] = null;
                }
            }
            count = 0;
        }
    }
}
