package dev.riscvrelay.relay.transport.webtransport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.IngressGuard;
import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.switching.Switch;
import dev.riscvrelay.relay.tls.RelayCertificate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A CONNECT answered on one worker for a LAN another loop owns: the 200 leaves only once the switch has the session
 * as a port. Answered before, a member that broadcast as soon as a newcomer's session opened could miss it (seen on
 * a loaded 2-core machine: the worker wrote the 200, then waited for a core before it asked the LAN's loop to join).
 * Here the LAN's loop is held busy right after each admission, as a loaded machine holds it, so an answer that does
 * not wait for the join reaches the client while the switch still lacks the port. The switch greets each port as it
 * attaches: that frame, sent before the answer, waits for it and still reaches the client.
 */
class AnswerAfterJoinIT {

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /** How long the LAN's loop stays busy after each admission. */
    private static final long BUSY_MILLIS = 300;
    /** Clients tried to get one whose connection lands on the worker that does not own the LAN (half of them do). */
    private static final int MOST_CLIENTS = 16;

    @Test
    void aSessionOnAnotherWorkerIsAnsweredOnlyOnceTheSwitchHasItsPort() throws Exception {
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
        IoEventLoop lanLoop = (IoEventLoop) group.next();
        IoEventLoop otherLoop = (IoEventLoop) group.next();
        AtomicInteger ports = new AtomicInteger();
        Switch lan = new Switch() {
            @Override
            public void attach(Port port) {
                ports.incrementAndGet();
                ByteBuf greeting = PooledByteBufAllocator.DEFAULT.directBuffer(HttpDatagram.HEADROOM + 64);
                greeting.writerIndex(HttpDatagram.HEADROOM).readerIndex(HttpDatagram.HEADROOM).writeZero(64);
                port.send(greeting);
            }

            @Override
            public void detach(Port port) {
                ports.decrementAndGet();
            }

            @Override
            public void forward(Port ingress, ByteBuf frame) {
                frame.release();
            }
        };
        SessionGate gate = new SessionGate() {
            @Override
            public Admission admit(String pathAndQuery, InetAddress peer) {
                // Busy at once after the admission, before the join that follows it gets its turn.
                lanLoop.execute(() -> sleep(BUSY_MILLIS));
                return new Admission.Admitted(lan, IngressGuard.UNGUARDED, () -> { });
            }

            @Override
            public IoEventLoop loopFor(String pathAndQuery) {
                return lanLoop;
            }
        };
        RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
        WebTransportServer server = new WebTransportServer(LOOPBACK, 0, () -> certificate, gate, new Counters(),
                WebTransportServerConfig.defaults(), List.of(lanLoop, otherLoop));
        List<WebTransportClient> clients = new ArrayList<>();
        try {
            URI uri = URI.create("https://127.0.0.1:" + server.localAddress().getPort() + "/");
            boolean anyOnOtherWorker = false;
            while (!anyOnOtherWorker && clients.size() < MOST_CLIENTS) {
                long before = server.connectionCount(1);
                CountDownLatch greeted = new CountDownLatch(1);
                WebTransportClient client = WebTransportClient.connect(uri,
                        WebTransportClientConfig.pinned(certificate.sha256Hex()), frame -> {
                            frame.release();
                            greeted.countDown();
                        }).get(10, TimeUnit.SECONDS);
                clients.add(client);
                int seenPorts = ports.get();
                boolean other = server.connectionCount(1) > before;
                anyOnOtherWorker |= other;
                assertThat(seenPorts).as("ports on the switch when client %d (on worker %d) got its answer",
                        clients.size(), other ? 1 : 0).isEqualTo(clients.size());
                assertThat(greeted.await(5, TimeUnit.SECONDS)).as("client %d got the frame sent before its answer",
                        clients.size()).isTrue();
            }
            assertThat(anyOnOtherWorker).as("a client on the worker that does not own the LAN").isTrue();
        } finally {
            clients.forEach(WebTransportClient::close);
            server.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
