package dev.riscvrelay.relay.bench;

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
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Baseline: a plain UDP forwarder without crypto. One epoll UDP socket; each sender address is a switch port of
 * the same {@link LearningSwitch} the relay uses, and a frame is one UDP datagram. What it costs per frame is a
 * receive, a switch lookup and a send: the floor any relay over UDP pays.
 */
public final class UdpForwarderFixture implements Fixture {

    static final int SOCKET_BUFFER = 4 * 1024 * 1024;
    private static final int MAX_FRAME = 1472; // 1500-byte IPv4 MTU minus IP and UDP headers
    private static final int MAX_PEERS = 20_000;

    private final Counters counters = new Counters();
    private final IoEventLoopGroup group;
    private final IoEventLoop loop;
    private final LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters);
    private final Map<InetSocketAddress, PeerPort> peers = new HashMap<>();
    private final Channel socket;
    private final Thread thread;
    private final List<Channel> clientSockets = new ArrayList<>();
    private final FlushOncePerTurn flush;

    public UdpForwarderFixture() throws InterruptedException {
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("udp-forwarder"),
                EpollIoHandler.newFactory());
        loop = (IoEventLoop) group.next();
        thread = loop.submit(Thread::currentThread).syncUninterruptibly().getNow();
        socket = new Bootstrap().group(loop).channel(EpollDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, SOCKET_BUFFER)
                .option(ChannelOption.SO_SNDBUF, SOCKET_BUFFER)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        onPacket((DatagramPacket) msg);
                    }
                })
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        flush = new FlushOncePerTurn(socket);
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

    /** A sender address as a switch port: frames out become datagrams to it, flushed once per loop turn. */
    private final class PeerPort implements Port {
        private final InetSocketAddress address;

        PeerPort(InetSocketAddress address) {
            this.address = address;
        }

        @Override
        public void send(ByteBuf frame) {
            socket.write(new DatagramPacket(frame, address), socket.voidPromise());
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
    public String name() {
        return "plain UDP";
    }

    @Override
    public String description() {
        return "plain UDP forwarder, no crypto: one epoll socket, the same learning switch, a frame per datagram";
    }

    @Override
    public List<Endpoint> open(int count, IoEventLoop clientLoop, Endpoint.Receiver receiver) throws Exception {
        InetSocketAddress server = (InetSocketAddress) socket.localAddress();
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int index = i;
            Channel channel = new Bootstrap().group(clientLoop).channel(EpollDatagramChannel.class)
                    .option(ChannelOption.SO_RCVBUF, 2 * 1024 * 1024)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            receiver.onFrame(index, ((DatagramPacket) msg).content());
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            clientSockets.add(channel);
            endpoints.add(new UdpEndpoint(channel, server));
        }
        return endpoints;
    }

    private static final class UdpEndpoint implements Endpoint {
        private final Channel channel;
        private final InetSocketAddress server;
        private final FlushOncePerTurn flush;

        UdpEndpoint(Channel channel, InetSocketAddress server) {
            this.channel = channel;
            this.server = server;
            this.flush = new FlushOncePerTurn(channel);
        }

        @Override
        public boolean send(ByteBuf frame) {
            channel.write(new DatagramPacket(frame, server), channel.voidPromise());
            flush.request();
            return true;
        }

        @Override
        public void close() {
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public Counters counters() {
        return counters;
    }

    @Override
    public List<Thread> threads() {
        return List.of(thread);
    }

    @Override
    public void close() {
        socket.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
}
