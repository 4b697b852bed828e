package dev.riscvrelay.relay.transport.tap;

import dev.riscvrelay.relay.lan.FrameSink;
import dev.riscvrelay.relay.switching.Port;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import java.util.concurrent.TimeUnit;

/**
 * A {@link TapDevice} as a LAN member: {@link #send} writes frames to the TAP on the caller's thread (one
 * non-blocking write(2) each, or one per TCP super-frame on a segment-offload device), and every frame read from the
 * TAP goes to a {@link FrameSink}.
 *
 * <p>Reading: {@link #startOn} reads on an epoll event loop when the TAP becomes readable, so the sink runs on that
 * loop and a frame reaches the QUIC connection without a thread hand-off (one wake-up fewer per frame, which is
 * latency and, on a busy machine, CPU). {@link #start} reads on a thread of its own instead; its sink must hand
 * frames over to a loop itself (e.g. {@code eventLoop.execute}).
 */
public final class TapPort implements Port, AutoCloseable {

    /** Frames one readiness event reads at most before the loop runs its other work. */
    static final int READS_PER_WAKE = 64;

    private final TapDevice tap;
    private final ByteBufAllocator allocator;
    private final int headroom;
    /** A read's buffer: the headroom, the largest frame and one byte more to tell an oversized frame. */
    private final int readRoom;
    private final FrameSink sink;
    private final Thread reader;
    /** With a segment-offload device: joins TCP segments of a burst; else null and every frame is one write. */
    private final SegmentCoalescer coalescer;
    private volatile Throwable readerFailure;
    /** Reading on an event loop: the loop and the TAP's registration with it; null with a reader thread. */
    private IoEventLoop loop;
    private volatile IoRegistration registration;

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
        this.readRoom = headroom + tap.maxFrameSize() + 1;
        this.sink = sink;
        this.reader = Thread.ofPlatform().daemon().name("tap-reader-" + tap.name()).unstarted(this::readLoop);
        this.coalescer = tap.segmentOffload() ? new SegmentCoalescer(tap::writeWithHeader, tap.counters()) : null;
    }

    /** Starts the reader thread. */
    public TapPort start() {
        reader.start();
        return this;
    }

    /**
     * Reads on {@code loop} when the TAP is readable, at most {@link #READS_PER_WAKE} frames per wake-up so one busy
     * TAP cannot hold the loop; falls back to {@link #start} on a loop without epoll.
     */
    public TapPort startOn(IoEventLoop eventLoop) {
        if (!eventLoop.isCompatible(EpollIoHandle.class)) {
            return start();
        }
        loop = eventLoop;
        eventLoop.register(new Readiness()).addListener(f -> {
            if (!f.isSuccess()) {
                readerFailure = f.cause();
                return;
            }
            IoRegistration registered = (IoRegistration) f.getNow();
            registration = registered;
            // Level-triggered: frames left after READS_PER_WAKE wake the loop again on its next turn.
            registered.submit(EpollIoOps.EPOLLIN);
        });
        return this;
    }

    /** The TAP's readiness as the loop's epoll reports it; the device keeps owning its descriptor. */
    private final class Readiness implements EpollIoHandle {
        private final FileDescriptor fd = new FileDescriptor(tap.fd());

        @Override
        public FileDescriptor fd() {
            return fd;
        }

        @Override
        public void handle(IoRegistration registered, IoEvent event) {
            readWaiting(registered);
        }

        @Override
        public void close() {
            // Nothing to do: TapDevice.close() closes the descriptor after the registration is cancelled.
        }
    }

    private void readWaiting(IoRegistration registered) {
        for (int i = 0; i < READS_PER_WAKE; i++) {
            ByteBuf frame;
            try {
                frame = nextFrame(false);
            } catch (TapException | RuntimeException e) {
                readerFailure = e;
                registered.cancel();
                return;
            }
            if (frame == null) {
                if (tap.isClosed()) {
                    registered.cancel();
                }
                return;
            }
            sink.emit(frame);
        }
    }

    private void readLoop() {
        try {
            ByteBuf frame;
            while ((frame = nextFrame(true)) != null) {
                sink.emit(frame);
            }
        } catch (TapException | RuntimeException e) {
            readerFailure = e;
        }
    }

    /**
     * The next frame from the TAP, {@code headroom} bytes into its buffer; null when the device is closed or, without
     * {@code wait}, when no frame is waiting.
     */
    private ByteBuf nextFrame(boolean wait) throws TapException {
        ByteBuf frame = allocator.directBuffer(readRoom, readRoom);
        frame.setIndex(headroom, headroom);
        int length;
        try {
            length = wait ? tap.read(frame) : tap.tryRead(frame);
        } catch (TapException | RuntimeException e) {
            frame.release();
            throw e;
        }
        if (length <= 0) {
            frame.release();
            return null;
        }
        return frame;
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

    private void cancelRegistration() {
        IoRegistration registered = registration;
        if (registered != null && registered.isValid()) {
            registered.cancel();
        }
    }

    /** Why the reader stopped before close(), or null. */
    public Throwable readerFailure() {
        return readerFailure;
    }

    /**
     * Stops reading (on the loop; waits up to 5 s when called from elsewhere) and closes the device, which ends a
     * reader thread, waiting up to 5 s for it to finish.
     */
    @Override
    public void close() {
        if (loop != null) {
            if (loop.inEventLoop()) {
                cancelRegistration();
            } else if (!loop.isShuttingDown()) {
                loop.submit(this::cancelRegistration).awaitUninterruptibly(TimeUnit.SECONDS.toMillis(5));
            }
        }
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
