package dev.riscvrelay.relay.bench;

import com.sun.net.httpserver.HttpServer;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Baseline: a plain UDP forwarder without crypto. One epoll UDP socket; each sender address is a switch port of
 * the same {@link LearningSwitch} the relay uses, and a frame is one UDP segment. It batches as the relay does,
 * so it is the floor of a relay over UDP: it reads with UDP_GRO (a sender's GSO burst in one recvmsg, up to 64 reads
 * a loop turn), and each loop turn sends what it has for one peer as one GSO packet, every peer's in one sendmmsg. What it costs per frame is then its share of those syscalls, a switch lookup and a copy.
 *
 * <p>{@link #main} runs it as a process of its own (the bench measures it as it measures the relay): it prints
 * the port it listens on and an admin line, and serves its switch counters at {@code /metrics} in the relay's
 * names.
 */
public final class UdpForwarder implements AutoCloseable {

    /** Its event loop's thread: "udp-forwarder-N-1", "udp-forwarder-N" in /proc. */
    static final String THREAD_PREFIX = "udp-forwarder";
    static final int SOCKET_BUFFER = 4 * 1024 * 1024;
    /** The largest GSO burst a GRO read takes in one piece: the 64 KiB a UDP datagram can be at most. */
    static final int GRO_READ_BYTES = 65536;
    /** Reads a loop turn makes at most: as many as the relay's server socket (64 datagrams or bursts). */
    private static final int READS_PER_TURN = 64;
    static final int MAX_FRAME = 1472; // 1500-byte IPv4 MTU minus IP and UDP headers
    private static final int MAX_PEERS = 20_000;

    private final Counters counters = new Counters();
    private final IoEventLoopGroup group;
    private final LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters);
    private final Map<InetSocketAddress, PeerPort> peers = new HashMap<>();
    private final List<GsoBatch> open = new ArrayList<>();
    private final boolean gso = SegmentedDatagramPacket.isSupported();
    private final Channel socket;
    private final FlushOncePerTurn flush;

    public UdpForwarder() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(THREAD_PREFIX),
                EpollIoHandler.newFactory());
        IoEventLoop loop = (IoEventLoop) group.next();
        socket = receiving(new Bootstrap().group(loop).channel(EpollDatagramChannel.class))
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        onPacket((DatagramPacket) msg);
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        flush = new FlushOncePerTurn(socket, this::writeOutBatches);
    }

    /**
     * A socket that reads GSO bursts whole (UDP_GRO), one burst per recvmsg, which Netty splits into its datagrams:
     * what the relay's clients do. (Netty's recvmmsg path does not split GRO bursts: it would hand a burst on as
     * one datagram, so GRO is the batching here and recvmmsg is left out.)
     */
    static Bootstrap receiving(Bootstrap bootstrap) {
        return bootstrap.option(EpollChannelOption.UDP_GRO, true)
                .option(ChannelOption.RCVBUF_ALLOCATOR,
                        new FixedRecvByteBufAllocator(GRO_READ_BYTES).maxMessagesPerRead(READS_PER_TURN));
    }

    public InetSocketAddress localAddress() {
        return (InetSocketAddress) socket.localAddress();
    }

    public Counters counters() {
        return counters;
    }

    private void onPacket(DatagramPacket packet) {
        PeerPort port = peers.get(packet.sender());
        if (port == null) {
            if (peers.size() >= MAX_PEERS) {
                packet.release();
                return;
            }
            port = new PeerPort(packet.sender());
            peers.put(packet.sender(), port);
            lan.attach(port);
        }
        lan.forward(port, packet.content());
    }

    private void writeOutBatches() {
        for (GsoBatch batch : open) {
            batch.writeOut();
        }
        open.clear();
    }

    /** A sender address as a switch port: its frames of a loop turn leave as one GSO packet at the turn's end. */
    private final class PeerPort implements Port {
        private final InetSocketAddress address;
        private final GsoBatch batch;

        PeerPort(InetSocketAddress address) {
            this.address = address;
            this.batch = new GsoBatch(socket, address, gso);
        }

        @Override
        public void send(ByteBuf frame) {
            if (batch.add(frame)) {
                open.add(batch);
            }
            flush.request();
        }

        @Override
        public int maxFrameSize() {
            return MAX_FRAME;
        }

        @Override
        public String name() {
            return "udp " + address;
        }
    }

    @Override
    public void close() {
        socket.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    /**
     * The forwarder as a process: listens on a free loopback port, serves its counters on another, prints both,
     * and runs until it is stopped (SIGTERM).
     */
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        UdpForwarder forwarder = new UdpForwarder();
        HttpServer admin = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4);
        admin.createContext("/metrics", exchange -> {
            byte[] body = MetricsText.render(forwarder.counters().snapshot()).getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream response = exchange.getResponseBody()) {
                response.write(body);
            }
        });
        admin.start();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            admin.stop(0);
            forwarder.close();
            stopped.countDown();
        }, "udp-forwarder-stop"));
        out.println("Listening on udp://127.0.0.1:" + forwarder.localAddress().getPort() + " (GSO "
                + (forwarder.gso ? "on" : "not supported here") + ")");
        out.println("Admin on http://127.0.0.1:" + admin.getAddress().getPort() + " (/metrics)");
        stopped.await();
    }
}
