package dev.riscvrelay.relay.transport.tap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real QEMU 7.2 without a guest: its {@code dgram} and {@code stream} netdevs joined by a hub, so every frame
 * sent into one comes out of the other. Both relay endpoints talk to it, which checks both framings against
 * QEMU itself in both directions.
 */
class QemuSocketEndpointsIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int DGRAM_LIMIT = 9014;
    private static final int STREAM_LIMIT = 1514;

    private final Counters counters = new Counters();
    private final BlockingQueue<ByteBuf> fromDgram = new LinkedBlockingQueue<>();
    private final BlockingQueue<ByteBuf> fromStream = new LinkedBlockingQueue<>();
    private EventLoopGroup group;
    private Process qemu;
    private Path qemuLog;
    private QemuDgramEndpoint dgram;
    private QemuStreamEndpoint stream;

    @BeforeEach
    void startQemuAndConnect() throws Exception {
        NetnsTestBed.requireTools("qemu-system-x86_64");
        group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        int qemuUdpPort = freeUdpPort();
        int qemuTcpPort = freeTcpPort();
        dgram = QemuDgramEndpoint.bind(new QemuDgramEndpoint.Config(new InetSocketAddress(LOOPBACK, 0),
                new InetSocketAddress(LOOPBACK, qemuUdpPort), DGRAM_LIMIT), group, counters, fromDgram::add);
        qemuLog = Files.createTempFile("qemu", ".log");
        qemu = new ProcessBuilder(List.of("qemu-system-x86_64", "-M", "none", "-nodefaults", "-display", "none",
                "-monitor", "none",
                "-netdev", "dgram,id=a,local.type=inet,local.host=127.0.0.1,local.port=" + qemuUdpPort
                        + ",remote.type=inet,remote.host=127.0.0.1,remote.port=" + dgram.localAddress().getPort(),
                "-netdev", "hubport,id=ha,hubid=0,netdev=a",
                "-netdev", "stream,id=b,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=" + qemuTcpPort,
                "-netdev", "hubport,id=hb,hubid=0,netdev=b"))
                .redirectErrorStream(true).redirectOutput(qemuLog.toFile()).start();
        stream = connectWhenQemuListens(new QemuStreamEndpoint.Config(new InetSocketAddress(LOOPBACK, qemuTcpPort),
                STREAM_LIMIT));
    }

    private QemuStreamEndpoint connectWhenQemuListens(QemuStreamEndpoint.Config config) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            try {
                return QemuStreamEndpoint.connect(config, group, counters, fromStream::add);
            } catch (Exception refused) {
                if (!qemu.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("QEMU did not listen on " + config.qemu() + ":\n"
                            + Files.readString(qemuLog), refused);
                }
                Thread.sleep(50); // QEMU is still starting; retried until the deadline
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (stream != null) {
            stream.close();
        }
        if (dgram != null) {
            dgram.close();
        }
        if (qemu != null) {
            qemu.destroy();
            if (!qemu.waitFor(5, TimeUnit.SECONDS)) {
                qemu.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        releaseAll(fromDgram);
        releaseAll(fromStream);
        if (qemuLog != null) {
            Files.deleteIfExists(qemuLog);
        }
    }

    @Test
    void framesCrossQemuFromDatagramsToLengthPrefixedStreamAndBack() throws Exception {
        ByteBuf small = frame(64, 1);
        ByteBuf full = frame(STREAM_LIMIT, 2);
        try {
            dgram.send(small.retainedDuplicate());
            assertReceived(fromStream, small);
            dgram.send(full.retainedDuplicate());
            assertReceived(fromStream, full);

            stream.send(small.retainedDuplicate());
            assertReceived(fromDgram, small);
            stream.send(full.retainedDuplicate());
            assertReceived(fromDgram, full);
        } finally {
            small.release();
            full.release();
        }
        assertThat(counters.get(Counter.DROP_TAP_TOO_LARGE)).isZero();
    }

    @Test
    void frameAboveTheStreamLimitIsSkippedWholeAndTheStreamStaysInSync() throws Exception {
        ByteBuf jumbo = frame(4000, 3);
        ByteBuf next = frame(100, 4);
        try {
            dgram.send(jumbo.retainedDuplicate());
            dgram.send(next.retainedDuplicate());
            assertReceived(fromStream, next);
            assertThat(counters.get(Counter.DROP_TAP_TOO_LARGE)).isEqualTo(1);
        } finally {
            jumbo.release();
            next.release();
        }
    }

    private static void assertReceived(BlockingQueue<ByteBuf> queue, ByteBuf expected) throws InterruptedException {
        ByteBuf received = queue.poll(10, TimeUnit.SECONDS);
        assertThat(received).as("a frame of " + expected.readableBytes() + " bytes through QEMU").isNotNull();
        try {
            assertThat(received.readableBytes()).isEqualTo(expected.readableBytes());
            assertThat(ByteBufUtil.equals(received, expected)).as("frame bytes unchanged").isTrue();
        } finally {
            received.release();
        }
    }

    /** A broadcast frame of {@code length} bytes with a local-experimental EtherType and a recognisable body. */
    static ByteBuf frame(int length, int seed) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(length);
        frame.writeBytes(new byte[] {-1, -1, -1, -1, -1, -1, 0x52, 0x54, 0x00, 0x12, 0x34, (byte) (0x60 + seed)});
        frame.writeShort(0x88b5);
        for (int i = frame.writerIndex(); i < length; i++) {
            frame.writeByte(i * 31 + seed);
        }
        return frame;
    }

    private static void releaseAll(BlockingQueue<ByteBuf> queue) {
        for (ByteBuf leftover; (leftover = queue.poll()) != null; ) {
            leftover.release();
        }
    }

    static int freeUdpPort() throws IOException {
        try (DatagramSocket socket = new DatagramSocket(0, LOOPBACK)) {
            return socket.getLocalPort();
        }
    }

    static int freeTcpPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, LOOPBACK)) {
            return socket.getLocalPort();
        }
    }
}
