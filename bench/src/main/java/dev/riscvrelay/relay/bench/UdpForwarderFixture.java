package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.metrics.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.SegmentedDatagramPacket;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Baseline: the plain UDP forwarder ({@link UdpForwarder}) in a process of its own, measured as the relay's
 * process is. Its endpoints send and receive as the relay's WebTransport clients do: a loop turn's frames leave
 * as one GSO packet, and bursts arrive whole (UDP_GRO).
 */
public final class UdpForwarderFixture implements Fixture {

    static final Pattern LISTENING = Pattern.compile("Listening on udp://127\\.0\\.0\\.1:(\\d+)");

    private final ForwarderProcess forwarder;
    private final InetSocketAddress server;
    private final List<Channel> clientSockets = new ArrayList<>();

    public UdpForwarderFixture() {
        forwarder = ForwarderProcess.start("plain UDP forwarder", RelayProcesses.java(
                RelayProcesses.launcherOptions(), UdpForwarder.class.getName(), List.of()),
                name -> name.startsWith(UdpForwarder.THREAD_PREFIX));
        try {
            int port = Integer.parseInt(forwarder.awaitLine(LISTENING).group(1));
            server = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
        } catch (RuntimeException e) {
            forwarder.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return BenchReport.UDP;
    }

    @Override
    public String description() {
        return "plain UDP forwarder in its own process, no crypto: one epoll socket read with GRO, "
                + "the same learning switch, a frame per UDP segment, a peer's frames of a loop turn in one GSO send";
    }

    @Override
    public List<Endpoint> open(int count, IoEventLoop clientLoop, Endpoint.Receiver receiver) throws Exception {
        boolean gso = SegmentedDatagramPacket.isSupported();
        List<Endpoint> endpoints = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int index = i;
            Bootstrap bootstrap = new Bootstrap().group(clientLoop).channel(EpollDatagramChannel.class)
                    .option(ChannelOption.SO_RCVBUF, 2 * 1024 * 1024);
            // As the relay's clients (QuicDialer): GRO, one burst per recvmsg.
            Channel channel = UdpForwarder.receiving(bootstrap)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            receiver.onFrame(index, ((DatagramPacket) msg).content());
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
            clientSockets.add(channel);
            endpoints.add(new UdpEndpoint(channel, server, gso));
        }
        return endpoints;
    }

    /** An endpoint: the frames it sends in one loop turn leave as one GSO packet at the turn's end. */
    private static final class UdpEndpoint implements Endpoint {
        private final Channel channel;
        private final GsoBatch batch;
        private final FlushOncePerTurn flush;

        UdpEndpoint(Channel channel, InetSocketAddress server, boolean gso) {
            this.channel = channel;
            this.batch = new GsoBatch(channel, server, gso);
            this.flush = new FlushOncePerTurn(channel, batch::writeOut);
        }

        @Override
        public boolean send(ByteBuf frame) {
            batch.add(frame);
            flush.request();
            return true;
        }

        @Override
        public void close() {
            channel.eventLoop().submit(batch::discard).awaitUninterruptibly(5, TimeUnit.SECONDS);
            channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public Map<Counter, Long> counters() {
        return forwarder.counters();
    }

    @Override
    public CpuTime cpu() {
        return forwarder.cpu();
    }

    @Override
    public void close() {
        forwarder.close();
    }
}
