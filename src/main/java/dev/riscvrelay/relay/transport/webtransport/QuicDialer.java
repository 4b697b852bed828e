package dev.riscvrelay.relay.transport.webtransport;

import dev.riscvrelay.relay.metrics.Counters;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.http3.Http3;
import io.netty.handler.codec.quic.EpollQuicUtils;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicChannelBootstrap;
import io.netty.handler.codec.quic.QuicChannelOption;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.function.Consumer;
import javax.net.ssl.TrustManagerFactory;

/**
 * Opens the QUIC connection a {@link WebTransportClient} runs on: asks the kernel for the route's MTU, binds a UDP
 * socket (DF on every packet, GRO and GSO where epoll has them), sets up TLS (a pinned certificate hash as browsers'
 * {@code serverCertificateHashes}, or the JDK's certificate authorities and the host name) and connects. Runs on
 * the client's event loop; one dial per instance.
 */
final class QuicDialer {

    private final String host;
    private final int port;
    private final String authority;
    private final WebTransportClientConfig config;
    private final IoEventLoop loop;
    private final Counters counters;
    private final CertificateHashTrustManager pin;
    private Channel udp;
    private boolean heardFromPeer;
    private int routeMtu = PathMtu.ETHERNET_MTU;
    private int udpPayload;

    QuicDialer(String host, int port, String authority, WebTransportClientConfig config, IoEventLoop loop,
            Counters counters) {
        this.host = host;
        this.port = port;
        this.authority = authority;
        this.config = config;
        this.loop = loop;
        this.counters = counters;
        this.pin = config.certificateSha256Hex() == null ? null
                : new CertificateHashTrustManager(config.certificateSha256Hex());
    }

    /**
     * Connects to {@code remote}; {@code pipeline} adds the connection's handlers before the handshake. The future
     * fails with a {@link WebTransportException} that says why (no socket, handshake, untrusted certificate).
     */
    Future<QuicChannel> dial(InetSocketAddress remote, Consumer<QuicChannel> pipeline) {
        Promise<QuicChannel> result = loop.newPromise();
        boolean epoll = loop.isIoType(EpollIoHandler.class);
        boolean ipv6 = remote.getAddress() instanceof Inet6Address;
        if (!epoll) {
            udpPayload = PathMtu.udpPayloadFor(PathMtu.ETHERNET_MTU, ipv6, config.udpPayloadSize());
            open(remote, false, pipeline, result);
            return result;
        }
        routeMtu(remote).addListener(mtu -> {
            try {
                routeMtu = mtu.isSuccess() ? (Integer) mtu.getNow() : PathMtu.ETHERNET_MTU;
                udpPayload = PathMtu.udpPayloadFor(routeMtu, ipv6, config.udpPayloadSize());
                open(remote, true, pipeline, result);
            } catch (RuntimeException e) {
                result.tryFailure(cannotStart(e));
            }
        });
        return result;
    }

    /** The MTU of the route to the server (the kernel's IP_MTU of a connected socket), 1500 when unknown. */
    int routeMtu() {
        return routeMtu;
    }

    /** The largest UDP payload this side sends: what the route carries, capped by the configuration. */
    int udpPayload() {
        return udpPayload;
    }

    /**
     * Whether any datagram came back on this dial's socket: the peer is there, even if its handshake is not done (on
     * the loop).
     */
    boolean heardFromPeer() {
        return heardFromPeer;
    }

    /** Notes the first datagram that arrives, then leaves the pipeline: the later ones pay nothing for it. */
    private final class FirstDatagram extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            heardFromPeer = true;
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(msg);
        }
    }

    /** Closes the UDP socket (after the QUIC connection closed); a dial that never bound one succeeds at once. */
    Future<?> close() {
        return udp != null ? udp.close() : loop.newSucceededFuture(null);
    }

    /**
     * The MTU of the route to {@code remote} as the kernel knows it (a connected socket's IP_MTU): the first link's
     * MTU, or less where the route says so (a VPN, PPPoE).
     */
    private Future<Integer> routeMtu(InetSocketAddress remote) {
        Promise<Integer> result = loop.newPromise();
        new Bootstrap().group(loop).channel(EpollDatagramChannel.class)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(remote)
                .addListener((ChannelFuture connected) -> {
                    if (!connected.isSuccess()) {
                        result.tryFailure(connected.cause());
                        return;
                    }
                    try {
                        result.trySuccess(connected.channel().config()
                                .getOption(PathMtu.routeMtuOption(remote.getAddress())));
                    } catch (RuntimeException e) {
                        result.tryFailure(e);
                    } finally {
                        connected.channel().close();
                    }
                });
        return result;
    }

    private void open(InetSocketAddress remote, boolean epoll, Consumer<QuicChannel> pipeline,
            Promise<QuicChannel> result) {
        ChannelHandler codec;
        try {
            codec = quicCodec();
        } catch (RuntimeException | GeneralSecurityException e) {
            result.tryFailure(cannotStart(e));
            return;
        }
        UdpSendErrors sendErrors = new UdpSendErrors(counters);
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, 2 * 1024 * 1024);
        if (epoll) {
            // GRO: a burst the relay sent with GSO arrives in one recvmsg (Netty splits it back into datagrams),
            // and on loopback the kernel no longer segments it on the way.
            QuicTransport.readBursts(bootstrap, 16)
                    // DF on every packet, never fragmented; quiche's probes find the path's size (PathMtu).
                    .option(PathMtu.discoverOption(remote.getAddress()), PathMtu.DISCOVER_PROBE);
        }
        ChannelFuture bound = bootstrap
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new FirstDatagram(), sendErrors, codec, UdpErrorSink.INSTANCE);
                    }
                })
                .bind(remote.getAddress() instanceof Inet6Address
                        ? new InetSocketAddress("::", 0) : new InetSocketAddress(0));
        bound.addListener(f -> {
            if (!f.isSuccess()) {
                result.tryFailure(new WebTransportException("cannot open a UDP socket: " + f.cause().getMessage(),
                        f.cause()));
                return;
            }
            udp = bound.channel();
            QuicChannelBootstrap quic = QuicChannel.newBootstrap(udp);
            if (epoll) {
                // GSO: the QUIC packets of one flush leave in one sendmsg.
                quic.option(QuicChannelOption.SEGMENTED_DATAGRAM_PACKET_ALLOCATOR,
                        EpollQuicUtils.newSegmentedAllocator(HttpDatagram.GSO_SEGMENTS));
            }
            quic.handler(new ChannelInitializer<QuicChannel>() {
                        @Override
                        protected void initChannel(QuicChannel ch) {
                            pipeline.accept(ch);
                        }
                    })
                    .remoteAddress(remote)
                    .connect()
                    .addListener(q -> {
                        if (q.isSuccess()) {
                            result.trySuccess((QuicChannel) q.getNow());
                        } else {
                            result.tryFailure(handshakeFailure(q.cause()));
                        }
                    });
        });
    }

    private ChannelHandler quicCodec() throws GeneralSecurityException {
        QuicSslContextBuilder tls = QuicSslContextBuilder.forClient()
                .applicationProtocols(Http3.supportedApplicationProtocols());
        if (pin != null) {
            tls.trustManager(pin);
        } else {
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init((KeyStore) null);
            tls.trustManager(factory).endpointIdentificationAlgorithm("HTTPS");
        }
        QuicSslContext context = tls.build();
        return QuicTransport.configure(Http3.newQuicClientCodecBuilder(), config.idleTimeout(), udpPayload,
                        config.udpPayloadSize(), config.congestionControl(), config.datagramQueueLength())
                .sslEngineProvider(ch -> context.newEngine(ch.alloc(), host, port))
                .build();
    }

    private WebTransportException handshakeFailure(Throwable cause) {
        if (pin != null && pin.lastRejection() != null) {
            return new WebTransportException(WebTransportException.Kind.UNTRUSTED_CERTIFICATE,
                    "TLS handshake with " + authority + " failed: " + pin.lastRejection(), cause);
        }
        return new WebTransportException("QUIC handshake with " + authority + " failed: " + cause, cause);
    }

    private static WebTransportException cannotStart(Exception e) {
        return new WebTransportException("cannot start the WebTransport client: " + e.getMessage(), e);
    }
}
