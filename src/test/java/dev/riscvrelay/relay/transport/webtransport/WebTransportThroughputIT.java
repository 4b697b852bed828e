package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.tls.RelayCertificate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetAddress;
import java.net.URI;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * How many 1000-byte frames one server loop forwards from one client to another over loopback, sent in bursts
 * of 32 with at most 256 frames in flight. Prints the rate; asserts only that the path carries the bulk of a bounded load
 * (datagrams are unreliable, and the machine is shared).
 */
class WebTransportThroughputIT {

    private static final int FRAMES = 20_000;
    private static final int SIZE = 1000;
    private static final int BURST = 32;
    private static final int WINDOW = 256;

    @Test
    void forwardsABoundedBurstyLoadBetweenTwoClients() throws Exception {
        // PARANOID leak tracking records a stack trace per buffer access and dominates the CPU time here.
        io.netty.util.ResourceLeakDetector.Level leakLevel = io.netty.util.ResourceLeakDetector.getLevel();
        io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        try {
            measure();
        } finally {
            io.netty.util.ResourceLeakDetector.setLevel(leakLevel);
        }
    }

    private void measure() throws Exception {
        RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
        Counters counters = new Counters();
        HubSwitch hub = new HubSwitch();
        try (WebTransportServer server = new WebTransportServer(InetAddress.getLoopbackAddress(), 0, certificate,
                hub, counters, WebTransportServerConfig.defaults())) {
            URI uri = URI.create("https://127.0.0.1:" + server.localAddress().getPort() + "/");
            WebTransportClientConfig config = WebTransportClientConfig.pinned(certificate.sha256Hex());
            AtomicLong received = new AtomicLong();
            CountDownLatch all = new CountDownLatch(1);
            WebTransportClient receiver = WebTransportClient.connect(uri, config, frame -> {
                frame.release();
                if (received.incrementAndGet() == FRAMES) {
                    all.countDown();
                }
            }).get(10, TimeUnit.SECONDS);
            WebTransportClient sender = WebTransportClient.connect(uri, config, ByteBuf::release)
                    .get(10, TimeUnit.SECONDS);
            com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            long cpuStart = os.getProcessCpuTime();
            long start = System.nanoTime();
            sender.eventLoop().execute(new Runnable() {
                private int sent;
                private long lastProgress = System.nanoTime();
                private long lastReceived;

                @Override
                public void run() {
                    // A window of frames in flight, like a transport with congestion control above: without it
                    // the sender overruns quiche's datagram queue, and Netty drops the excess without a word.
                    long now = System.nanoTime();
                    long got = received.get();
                    if (got != lastReceived || now - lastProgress > TimeUnit.MILLISECONDS.toNanos(20)) {
                        lastReceived = got;
                        lastProgress = now;
                    }
                    long inFlight = sent - got;
                    boolean stalled = now - lastProgress >= TimeUnit.MILLISECONDS.toNanos(20);
                    for (int i = 0; i < BURST && sent < FRAMES && (inFlight < WINDOW || stalled); i++, sent++) {
                        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(HttpDatagram.HEADROOM + SIZE);
                        frame.writerIndex(HttpDatagram.HEADROOM + SIZE).readerIndex(HttpDatagram.HEADROOM);
                        sender.sendDatagram(frame);
                        inFlight++;
                    }
                    if (sent < FRAMES) {
                        sender.eventLoop().schedule(this, 50, TimeUnit.MICROSECONDS);
                    }
                }
            });
            all.await(15, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            long got = received.get();
            System.out.printf("JVM CPU %.2f s over %.2f s wall%n", (os.getProcessCpuTime() - cpuStart) / 1e9, seconds);
            System.out.printf("WebTransport loopback: %d of %d frames of %d bytes in %.2f s: %.0f frames/s,"
                    + " %.0f Mbit/s; server drops: queue %d, copies %d; rcvbuf %d%n", got, FRAMES, SIZE, seconds,
                    got / seconds, got * SIZE * 8 / seconds / 1e6, counters.get(Counter.DROP_QUEUE_FULL),
                    counters.get(Counter.DATAGRAMS_COPIED), server.effectiveReceiveBufferBytes());
            System.out.println("hub forwarded " + hub.forwarded.get() + "; sender " + sender.quicChannel()
                    .collectStats().get(5, TimeUnit.SECONDS) + "; receiver " + receiver.quicChannel()
                    .collectStats().get(5, TimeUnit.SECONDS) + "; sender drops " + sender.counters().snapshot());
            assertThat(got).as("frames delivered").isGreaterThan(FRAMES / 2);
            sender.close();
            receiver.close();
            sender.closed().get(5, TimeUnit.SECONDS);
            receiver.closed().get(5, TimeUnit.SECONDS);
        }
    }
}
