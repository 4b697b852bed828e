package dev.riscvrelay.relay.bench;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.unix.SegmentedDatagramPacket;
import java.net.InetSocketAddress;

/**
 * The frames one loop turn sends to one destination, gathered into one UDP GSO packet (UDP_SEGMENT): the kernel
 * walks its stack once for the lot, and a receiver with UDP_GRO takes them in one read; the relay's QUIC sockets
 * send the same way. GSO needs every segment but the last the same size, so a longer frame, or a full batch,
 * writes out the batch so far and starts the next. Loop-confined.
 */
final class GsoBatch {

    /** Segments a batch holds at most: the relay's own (HttpDatagram.GSO_SEGMENTS), within the kernel's 64. */
    static final int MAX_SEGMENTS = 40;

    private final Channel channel;
    private final InetSocketAddress to;
    private final int maxSegments;
    private ByteBuf batch;
    private int segment;
    private int count;
    private boolean lastShort;

    /** @param gso whether the kernel takes UDP_SEGMENT; without it each frame leaves as its own datagram */
    GsoBatch(Channel channel, InetSocketAddress to, boolean gso) {
        this.channel = channel;
        this.to = to;
        this.maxSegments = gso ? MAX_SEGMENTS : 1;
    }

    /**
     * Copies {@code frame} into the batch and releases it. True when the batch was empty: the caller then has it
     * written out by the end of the turn ({@link #writeOut}).
     */
    boolean add(ByteBuf frame) {
        int length = frame.readableBytes();
        if (batch != null && (lastShort || length > segment || count == maxSegments)) {
            writeOut();
        }
        boolean first = batch == null;
        if (first) {
            batch = channel.alloc().directBuffer(length * maxSegments);
            segment = length;
        }
        batch.writeBytes(frame);
        frame.release();
        count++;
        lastShort = length < segment;
        return first;
    }

    /** Writes the gathered frames (not flushed): one GSO packet, or a plain datagram for a single frame. */
    void writeOut() {
        if (batch == null) {
            return;
        }
        Object packet = count > 1 ? new SegmentedDatagramPacket(batch, segment, to) : new DatagramPacket(batch, to);
        batch = null;
        count = 0;
        lastShort = false;
        channel.write(packet, channel.voidPromise());
    }

    /** Drops what is gathered and not written (the channel closes). */
    void discard() {
        if (batch != null) {
            batch.release();
            batch = null;
            count = 0;
        }
    }
}
