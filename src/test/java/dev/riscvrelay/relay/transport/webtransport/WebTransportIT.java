package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.tls.RelayCertificate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The real server and the real Java client over loopback, joined by a hub. */
class WebTransportIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static RelayCertificate certificate;

    private final Counters counters = new Counters();
    private final HubSwitch hub = new HubSwitch();
    private final List<WebTransportClient> clients = new ArrayList<>();
    private WebTransportServer server;
    private URI uri;

    @BeforeAll
    static void certificate() {
        certificate = RelayCertificate.selfSignedForLocalhost();
    }

    @BeforeEach
    void start() throws Exception {
        server = new WebTransportServer(LOOPBACK, 0, certificate, hub, counters, WebTransportServerConfig.defaults());
        uri = URI.create("https://127.0.0.1:" + server.localAddress().getPort() + "/");
    }

    @AfterEach
    void stop() {
        for (WebTransportClient client : clients) {
            client.close();
            client.closed().orTimeout(5, TimeUnit.SECONDS).join();
        }
        server.close();
    }

    @AfterAll
    static void done() {
    }

    /** A client whose received frames land in {@code inbox} as byte arrays (buffers released at once). */
    private WebTransportClient open(BlockingQueue<byte[]> inbox) throws Exception {
        WebTransportClient client = WebTransportClient.connect(uri,
                WebTransportClientConfig.pinned(certificate.sha256Hex()), frame -> {
                    try {
                        inbox.add(ByteBufUtil.getBytes(frame));
                    } finally {
                        frame.release();
                    }
                }).get(10, TimeUnit.SECONDS);
        clients.add(client);
        return client;
    }

    /** A frame of {@code length} bytes in a pooled direct buffer with headroom for the datagram prefix. */
    private static ByteBuf frame(int length, int seed) {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(HttpDatagram.HEADROOM + length);
        buf.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM);
        for (int i = 0; i < length; i++) {
            buf.writeByte(seed + i);
        }
        return buf;
    }

    private static byte[] bytes(int length, int seed) {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++) {
            bytes[i] = (byte) (seed + i);
        }
        return bytes;
    }

    @Test
    void framesTravelBetweenTwoClientsBothWays() throws Exception {
        BlockingQueue<byte[]> inboxA = new LinkedBlockingQueue<>();
        BlockingQueue<byte[]> inboxB = new LinkedBlockingQueue<>();
        WebTransportClient a = open(inboxA);
        WebTransportClient b = open(inboxB);
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(hub.attached.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(server.sessionCount()).isEqualTo(2);

        assertThat(a.sendDatagram(frame(60, 1))).isTrue();
        assertThat(inboxB.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(60, 1));
        assertThat(b.sendDatagram(frame(100, 7))).isTrue();
        assertThat(inboxA.poll(5, TimeUnit.SECONDS)).isEqualTo(bytes(100, 7));
        assertThat(counters.get(Counter.DROP_UNKNOWN_SESSION)).isZero();
    }
}
