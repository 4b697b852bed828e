package dev.riscvrelay.relay.transport.websocket;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.tls.RelayCertificate;
import io.netty.buffer.ByteBuf;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The web listener on a loop of its own: plain requests are answered there even while the LAN's loop is busy, and
 * a connection that joins the LAN moves to the LAN's loop, whose thread then carries its frames.
 */
class WebLoopTest {

    private final IoEventLoopGroup web = group("test-web");
    private final IoEventLoopGroup lan = group("test-lan");
    private final IoEventLoop webLoop = (IoEventLoop) web.next();
    private final IoEventLoop lanLoop = (IoEventLoop) lan.next();
    private final Counters counters = new Counters();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private WebSocketServer server;

    private static IoEventLoopGroup group(String name) {
        return new MultiThreadIoEventLoopGroup(1, new io.netty.util.concurrent.DefaultThreadFactory(name),
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    }

    @AfterEach
    void stop() {
        http.shutdownNow();
        if (server != null) {
            server.close();
        }
        web.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        lan.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void plainRequestsAreAnsweredWhileTheLanLoopIsBusyAndMembersMoveToTheLanLoop() throws Exception {
        LearningSwitch lanSwitch = lanLoop.submit(() -> new LearningSwitch(NetworkConfig.defaults(), counters))
                .syncUninterruptibly().getNow();
        BlockingQueue<String> threadsSeen = new LinkedBlockingQueue<>();
        lanLoop.submit(() -> lanSwitch.attach(new ThreadRecordingPort(threadsSeen))).syncUninterruptibly();
        server = new WebSocketServer(InetAddress.getLoopbackAddress(), 0, RelayCertificate.selfSignedForLocalhost(),
                SessionGate.open(lanSwitch), counters, WebSocketServerConfig.defaults(false), null, webLoop, lanLoop);
        String base = "127.0.0.1:" + server.localAddress().getPort();

        CountDownLatch busy = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        lanLoop.execute(() -> {
            busy.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        try {
            assertThat(busy.await(5, TimeUnit.SECONDS)).isTrue();
            long start = System.nanoTime();
            HttpResponse<String> answer = http.send(HttpRequest.newBuilder(URI.create("http://" + base + "/"))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(answer.statusCode()).as("no page here: a WebSocket port").isEqualTo(426);
            assertThat(millis).as("answered with the LAN's loop stuck").isLessThan(3000);
        } finally {
            release.countDown();
        }

        WebSocket member = http.newWebSocketBuilder().buildAsync(URI.create("ws://" + base + "/"),
                new WebSocketInbox()).get(10, TimeUnit.SECONDS);
        byte[] broadcast = WebSocketIT.ethernet(new byte[] {-1, -1, -1, -1, -1, -1},
                new byte[] {0x02, 0, 0, 0, 0x66, 0x01}, 0x88B5, 60, 7);
        member.sendBinary(ByteBuffer.wrap(broadcast), true).get(5, TimeUnit.SECONDS);
        String lanThread = lanLoop.submit(() -> Thread.currentThread().getName()).syncUninterruptibly().getNow();
        assertThat(threadsSeen.poll(5, TimeUnit.SECONDS)).as("the thread that switched the member's frame")
                .isEqualTo(lanThread);
        assertThat(counters.get(Counter.WEB_MOVED_TO_LAN_LOOP)).isEqualTo(1);
        assertThat(server.memberCount()).isEqualTo(1);
        member.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(5, TimeUnit.SECONDS);
    }

    /** A LAN member that notes the thread each frame reached it on. */
    private record ThreadRecordingPort(BlockingQueue<String> threads) implements Port {
        @Override
        public void send(ByteBuf frame) {
            frame.release();
            threads.add(Thread.currentThread().getName());
        }

        @Override
        public int maxFrameSize() {
            return 1514;
        }

        @Override
        public String name() {
            return "recorder";
        }
    }
}
