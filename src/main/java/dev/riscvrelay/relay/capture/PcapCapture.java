package dev.riscvrelay.relay.capture;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.FrameTap;
import io.netty.buffer.ByteBuf;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Writes the frames of the LAN to a file in the classic libpcap format (magic 0xa1b2c3d4, microsecond timestamps,
 * LINKTYPE_ETHERNET), readable by tcpdump, Wireshark and tshark.
 *
 * <p>The switch's loop must never wait for a disk: {@link #onFrame} copies the frame into a bounded queue and
 * returns; a writer thread of its own drains it to the file. When the writer falls behind, frames are left out of
 * the capture and counted ({@link Counter#DROP_PCAP_BEHIND}), never queued without bound.
 */
public final class PcapCapture implements FrameTap, AutoCloseable {

    public static final int DEFAULT_QUEUE_FRAMES = 4096;
    /** The largest frame kept whole; longer ones are cut (the record says their original length). */
    static final int SNAPSHOT_LENGTH = 65535;
    private static final int MAGIC_MICROSECONDS = 0xa1b2c3d4;
    private static final int LINKTYPE_ETHERNET = 1;
    private static final int RECORD_HEADER_LENGTH = 16;
    private static final Logger LOG = Logger.getLogger(PcapCapture.class.getName());

    private record CapturedFrame(long epochMicros, int originalLength, byte[] bytes) {
    }

    /** Tells the writer to flush, close and end. */
    private static final CapturedFrame END = new CapturedFrame(0, 0, new byte[0]);

    private final Path file;
    private final Counters counters;
    private final BlockingQueue<CapturedFrame> queue;
    private final OutputStream out;
    private final Thread writer;
    private final long epochMicrosAtStart = System.currentTimeMillis() * 1000;
    private final long nanosAtStart = System.nanoTime();
    private volatile boolean closed;

    private PcapCapture(Path file, Counters counters, int queueFrames, OutputStream out) {
        this.file = file;
        this.counters = counters;
        this.queue = new ArrayBlockingQueue<>(queueFrames);
        this.out = out;
        this.writer = Thread.ofPlatform().name("relay-pcap").daemon().unstarted(this::drain);
    }

    /** Creates (or truncates) {@code file}, writes the pcap header and starts the writer. */
    public static PcapCapture start(Path file, Counters counters, int queueFrames) throws IOException {
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(file), 64 * 1024);
        try {
            out.write(globalHeader());
            out.flush();
        } catch (IOException e) {
            out.close();
            throw e;
        }
        PcapCapture capture = new PcapCapture(file, counters, queueFrames, out);
        capture.writer.start();
        return capture;
    }

    public Path file() {
        return file;
    }

    @Override
    public void onFrame(ByteBuf frame) {
        if (closed) {
            return;
        }
        int length = frame.readableBytes();
        byte[] bytes = new byte[Math.min(length, SNAPSHOT_LENGTH)];
        frame.getBytes(frame.readerIndex(), bytes);
        long micros = epochMicrosAtStart + (System.nanoTime() - nanosAtStart) / 1000;
        if (!queue.offer(new CapturedFrame(micros, length, bytes))) {
            counters.increment(Counter.DROP_PCAP_BEHIND);
        }
    }

    /** Writes what is queued, closes the file and ends the writer (within a few seconds). Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            // The writer takes frames until it meets END; waiting here is off the loop.
            while (!queue.offer(END, 100, TimeUnit.MILLISECONDS)) {
                if (!writer.isAlive()) {
                    break;
                }
            }
            writer.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain() {
        ByteBuffer header = ByteBuffer.allocate(RECORD_HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
        try (out) {
            while (true) {
                CapturedFrame frame = queue.poll(200, TimeUnit.MILLISECONDS);
                if (frame == null) {
                    out.flush(); // idle: make what was captured readable while the capture runs
                    continue;
                }
                if (frame == END) {
                    break;
                }
                header.clear();
                header.putInt((int) (frame.epochMicros() / 1_000_000));
                header.putInt((int) (frame.epochMicros() % 1_000_000));
                header.putInt(frame.bytes().length);
                header.putInt(frame.originalLength());
                out.write(header.array());
                out.write(frame.bytes());
                counters.increment(Counter.PCAP_FRAMES_WRITTEN);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "pcap capture to " + file + " stopped: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closed = true;
            queue.clear();
        }
    }

    /** The libpcap file header, little-endian (readers tell the byte order from the magic). */
    private static byte[] globalHeader() {
        ByteBuffer header = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(MAGIC_MICROSECONDS);
        header.putShort((short) 2); // version 2.4
        header.putShort((short) 4);
        header.putInt(0); // thiszone: timestamps are UTC
        header.putInt(0); // sigfigs
        header.putInt(SNAPSHOT_LENGTH);
        header.putInt(LINKTYPE_ETHERNET);
        return header.array();
    }
}
