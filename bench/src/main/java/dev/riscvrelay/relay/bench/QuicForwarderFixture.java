package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.tls.RelayCertificate;
import dev.riscvrelay.relay.transport.webtransport.HttpDatagram;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.handler.codec.quic.EpollQuicUtils;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Baseline: a bare QUIC datagram forwarder without HTTP/3. The same Netty QUIC (quiche) codec and settings as
 * the relay, TLS 1.3 included, but each QUIC connection is a switch port and a QUIC DATAGRAM carries the frame
 * with no HTTP/3 session, prefix or capsule. The gap to the relay is what WebTransport over HTTP/3 costs.
 */
public final class QuicForwarderFixture implements Fixture {

    private static final String ALPN = "riscv-relay-bench";
    private static final int UDP_PAYLOAD = 1500;
    private static final int DATAGRAM_QUEUE = 1024;

    private final Counters counters = new Counters();
    private final IoEventLoopGroup group;
    private final IoEventLoop loop;
    private final LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters);
    private final Channel socket;
    private final Thread thread;
    private final List<Channel> clientSockets = new ArrayList<>();

    public QuicForwarderFixture() throws InterruptedException {
        RelayCertificate certificate = RelayCertificate.selfSignedForLocalhost();
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("quic-forwarder"),
                EpollIoHandler.newFactory());
        loop = (IoEventLoop) group.next();
        thread = loop.submit(Thread::currentThread).syncUninterruptibly().getNow();
        QuicSslContext tls = QuicSslContextBuilder
                .forServer(certificate.privateKey(), null, certificate.chain().toArray(X509Certificate[]::new))
                .applicationProtocols(ALPN).build();
        ChannelHandler codec = new QuicServerCodecBuilder()
                .sslContext(tls)
                .maxIdleTimeout(30, TimeUnit.SECONDS)
                .maxSendUdpPayloadSize(UDP_PAYLOAD)
                .maxRecvUdpPayloadSize(UDP_PAYLOAD)
                .datagram(DATAGRAM_QUEUE, DATAGRAM_QUEUE)
                .initialMaxData(4 * 1024 * 1024)
                .option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                        EpollQuicUtils.newSegmentedAllocator(HttpDatagram.GSO_SEGMENTS))
                .handler(new ChannelInitializer<QuicChannel>() {
                    @Override
                    protected void initChannel(QuicChannel quic) {
                        ConnectionPort port = new ConnectionPort(quic);
                        lan.attach(port);
                        quic.closeFuture().addListener(f -> lan.detach(port));
                        quic.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext c, Object msg) {
                                if (msg instanceof ByteBuf datagram) {
                                    lan.forward(port, datagram);
                                } else {
                                    ReferenceCountUtil.release(msg);
                                }
                            }
                        });
                    }
                })
                .build();
        socket = new Bootstrap().group(loop).channel(EpollDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, UdpForwarder.SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, UdpForwarder.SOCKET_BUFFER)
                .handler(codec)
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
    }

    /** One QUIC connection as a switch port: frames are written as DATAGRAM frames, flushed once per turn. */
    private static final class ConnectionPort implements Port {
        private final QuicChannel quic;
        private final FlushOncePerTurn flush;

        ConnectionPort(QuicChannel quic) {
            this.quic = quic;
            this.flush = new FlushOncePerTurn(quic);
        }

        @Override
        public void send(ByteBuf frame) {
            quic.write(frame, quic.voidPromise());
            flush.request();
        }

        @Override
        public int maxFrameSize() {
            return 1400;
        }

        @Override
        public String name() {
            return "quic " + quic.remoteSocketAddress();
        }
    }

    @Override
    public String name() {
        return "QUIC datagrams";
    }

    @Override
    public String description() {
        return "bare QUIC datagram forwarder: the same quiche codec and TLS 1.3, no HTTP/3; a frame per DATAGRAM";
    }

    @Override
    public List<Endpoint> open(int count, IoEventLoop clientLoop, Endpoint.Receiver receiver) throws Exception {
        InetSocketAddress server = (InetSocketAddress) socket.localAddress();
        QuicSslContext tls = QuicSslContextBuilder.forClient()
                .trustManager(InsecureTrustManagerFactory.INSTANCE).applicationProtocols(ALPN).build();
        List<io.netty.util.concurrent.Future<QuicChannel>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int index = i;
            ChannelHandler codec = new QuicClientCodecBuilder()
                    .sslContext(tls)
                    .maxIdleTimeout(30, TimeUnit.SECONDS)
                    .maxSendUdpPayloadSize(UDP_PAYLOAD)
                    .maxRecvUdpPayloadSize(UDP_PAYLOAD)
                    .datagram(DATAGRAM_QUEUE, DATAGRAM_QUEUE)
                    .initialMaxData(4 * 1024 * 1024)
                    .build();
            // The same socket treatment as the relay's clients (WebTransportClient): GRO reads, GSO sends.
            Channel udp = new Bootstrap().group(clientLoop).channel(EpollDatagramChannel.class)
                    .option(ChannelOption.SO_RCVBUF, 2 * 1024 * 1024)
                    .option(EpollChannelOption.UDP_GRO, true)
                    .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65536).maxMessagesPerRead(16))
                    .handler(codec)
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            clientSockets.add(udp);
            pending.add(QuicChannel.newBootstrap(udp)
                    .option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                            EpollQuicUtils.newSegmentedAllocator(HttpDatagram.GSO_SEGMENTS))
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            if (msg instanceof ByteBuf datagram) {
                                receiver.onFrame(index, datagram);
                            } else {
                                ReferenceCountUtil.release(msg);
                            }
                        }
                    })
                    .remoteAddress(server)
                    .connect());
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            QuicChannel quic = pending.get(i).get(30, TimeUnit.SECONDS);
            endpoints.add(new QuicEndpoint(quic, clientSockets.get(i)));
        }
        return endpoints;
    }

    private static final class QuicEndpoint implements Endpoint {
        private final QuicChannel quic;
        private final Channel udp;
        private final FlushOncePerTurn flush;

        QuicEndpoint(QuicChannel quic, Channel udp) {
            this.quic = quic;
            this.udp = udp;
            this.flush = new FlushOncePerTurn(quic);
        }

        @Override
        public boolean send(ByteBuf frame) {
            quic.write(frame, quic.voidPromise());
            flush.request();
            return true;
        }

        @Override
        public void close() {
            quic.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
            udp.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public Map<Counter, Long> counters() {
        return counters.snapshot();
    }

    @Override
    public CpuTime cpu() {
        return CpuTime.ofThreads(List.of(thread));
    }

    @Override
    public void close() {
        socket.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
