package dev.riscvrelay.relay.transport.tap;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.switching.Port;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.TimeUnit;

/**
 * A {@link TapDevice} as a LAN member: {@link #send} writes frames to the TAP on the caller's thread (one
 * non-blocking write(2) each, or one per TCP super-frame on a segment-offload device), and a dedicated reader
 * thread hands every frame read from the TAP to a {@link FrameSink}. The sink runs on the reader thread, so a sink
 * that feeds an event loop must hand the frame over (e.g. {@code eventLoop.execute}) rather than touch the loop's
 * state.
 */
public final class TapPort implements Port, AutoCloseable {

    private final TapDevice tap;
    private final ByteBufAllocator allocator;
    private final int headroom;
    private final FrameSink sink;
    private final Thread reader;
    /** With a segment-offload device: joins TCP segments of a burst; else null and every frame is one write. */
    private final SegmentCoalescer coalescer;
    private volatile Throwable readerFailure;

    public TapPort(TapDevice tap, ByteBufAllocator allocator, FrameSink sink) {
        this(tap, allocator, 0, sink);
    }

    /**
     * A port whose frames start {@code headroom} bytes into their buffer, so the next hop can write its own
     * prefix (e.g. an HTTP datagram's quarter-stream-id) in front of the frame instead of copying it.
     */
    public TapPort(TapDevice tap, ByteBufAllocator allocator, int headroom, FrameSink sink) {
        if (headroom < 0 || headroom > 64) {
            throw new IllegalArgumentException("headroom must be 0..64: " + headroom);
        }
        this.tap = tap;
        this.allocator = allocator;
        this.headroom = headroom;
        this.sink = sink;
        this.reader = Thread.ofPlatform().daemon().name("tap-reader-" + tap.name()).unstarted(this::readLoop);
        this.coalescer = tap.segmentOffload() ? new SegmentCoalescer(tap::writeWithHeader, tap.counters()) : null;
    }

    /** Starts the reader thread. */
    public TapPort start() {
        reader.start();
        return this;
    }

    private void readLoop() {
        int room = headroom + tap.maxFrameSize() + 1;
        try {
            while (true) {
                ByteBuf frame = allocator.directBuffer(room, room);
                frame.setIndex(headroom, headroom);
                int length;
                try {
                    length = tap.read(frame);
                } catch (TapException | RuntimeException e) {
                    frame.release();
                    throw e;
                }
                if (length < 0) {
                    frame.release();
                    return;
                }
                sink.emit(frame);
            }
        } catch (TapException | RuntimeException e) {
            readerFailure = e;
        }
    }

    /**
     * Writes one frame to the TAP and releases it; failures are counted by the device. On a segment-offload
     * device a TCP segment may wait for the next one (to leave together) until {@link #flush()}.
     */
    @Override
    public void send(ByteBuf frame) {
        try {
            if (coalescer != null) {
                coalescer.offer(frame);
            } else {
                tap.write(frame);
            }
        } finally {
            frame.release();
        }
    }

    /** Writes what {@link #send} held back; call at the end of every burst of frames, on the sending thread. */
    public void flush() {
        if (coalescer != null) {
            coalescer.flush();
        }
    }

    @Override
    public int maxFrameSize() {
        return tap.maxFrameSize();
    }

    @Override
    public String name() {
        return "tap " + tap.name();
    }

    /** Why the reader stopped before close(), or null. */
    public Throwable readerFailure() {
        return readerFailure;
    }

    /** Closes the device, which ends the reader, and waits up to 5 s for the reader thread to finish. */
    @Override
    public void close() {
        tap.close();
        if (coalescer != null) {
            coalescer.close();
        }
        if (reader.isAlive()) {
            try {
                reader.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
