package dev.riscvrelay.relay.transport.tap;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The QEMU endpoints against loopback peers that speak QEMU's framing, for the edge cases QEMU never sends. */
class QemuSocketFramingTest {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Counters counters = new Counters();
    private final BlockingQueue<ByteBuf> received = new LinkedBlockingQueue<>();

    @AfterEach
    void stop() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        for (ByteBuf leftover; (leftover = received.poll()) != null; ) {
            leftover.release();
        }
    }

    @Test
    void datagramEndpointDropsOversizedRuntAndForeignDatagramsAndPassesTheRest() throws Exception {
        try (DatagramSocket fakeQemu = new DatagramSocket(0, LOOPBACK);
                DatagramSocket stranger = new DatagramSocket(0, LOOPBACK)) {
            QemuDgramEndpoint endpoint = QemuDgramEndpoint.bind(new QemuDgramEndpoint.Config(
                    new InetSocketAddress(LOOPBACK, 0), (InetSocketAddress) fakeQemu.getLocalSocketAddress(), 1514),
                    group, counters, received::add);
            try {
                InetSocketAddress relay = endpoint.localAddress();
                fakeQemu.send(new DatagramPacket(new byte[1515], 1515, relay));
                fakeQemu.send(new DatagramPacket(new byte[13], 13, relay));
                stranger.send(new DatagramPacket(new byte[60], 60, relay));
                fakeQemu.send(new DatagramPacket(new byte[1514], 1514, relay));

                ByteBuf frame = received.poll(5, TimeUnit.SECONDS);
                assertThat(frame).isNotNull();
                assertThat(frame.readableBytes()).isEqualTo(1514);
                frame.release();
                assertThat(counters.get(Counter.DROP_TAP_TOO_LARGE)).isEqualTo(1);
                assertThat(counters.get(Counter.DROP_QEMU_BAD_FRAME)).isEqualTo(1);
                assertThat(counters.get(Counter.DROP_QEMU_UNKNOWN_SENDER)).isEqualTo(1);
            } finally {
                endpoint.close();
            }
        }
    }

    @Test
    void streamEndpointWritesABigEndianLengthPrefixAndCountsRuntFrames() throws Exception {
        try (ServerSocket fakeQemu = new ServerSocket(0, 1, LOOPBACK)) {
            QemuStreamEndpoint endpoint = QemuStreamEndpoint.connect(new QemuStreamEndpoint.Config(
                    (InetSocketAddress) fakeQemu.getLocalSocketAddress(), 1514), group, counters, received::add);
            try (Socket peer = fakeQemu.accept()) {
                peer.setSoTimeout(5_000);
                ByteBuf frame = QemuSocketEndpointsIT.frame(300, 7);
                byte[] expected = new byte[300];
                frame.getBytes(0, expected);
                endpoint.send(frame);
                DataInputStream in = new DataInputStream(peer.getInputStream());
                assertThat(in.readInt()).isEqualTo(300);
                byte[] body = new byte[300];
                in.readFully(body);
                assertThat(body).isEqualTo(expected);

                DataOutputStream out = new DataOutputStream(peer.getOutputStream());
                out.writeInt(0);                 // empty message
                out.writeInt(10);                // runt
                out.write(new byte[10]);
                out.writeInt(60);
                out.write(new byte[60]);
                out.flush();
                ByteBuf good = received.poll(5, TimeUnit.SECONDS);
                assertThat(good).isNotNull();
                assertThat(good.readableBytes()).isEqualTo(60);
                good.release();
                assertThat(counters.get(Counter.DROP_QEMU_BAD_FRAME)).isEqualTo(2);

                endpoint.send(QemuSocketEndpointsIT.frame(1515, 8));
                assertThat(counters.get(Counter.DROP_TOO_LARGE)).isEqualTo(1);
            } finally {
                endpoint.close();
            }
        }
    }

}
