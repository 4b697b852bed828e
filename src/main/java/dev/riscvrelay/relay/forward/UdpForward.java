package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.lan.LongTable;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.udp.UdpNat;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A UDP forward: one socket on the outside address; a flow per outside client address (at most
 * {@code maxFlows}), each with a port of the gateway's own ({@link ForwardPorts}) that the VM sees as the client
 * and answers to. Datagrams from the client go to the VM from {@code 10.0.2.2:port}; the VM's datagrams to that
 * port go back to the client from the forward's socket. A flow unused for the idle timeout is closed. The first
 * datagram of a new client waits (held, one) while the guest's MAC is looked up by ARP; nobody answering drops it,
 * counted. Runs on the relay's event loop.
 *
 * <p>Per datagram the flow is found in a {@link LongTable} by the client's IPv4 address and port; the only
 * allocation is the {@link DatagramPacket} Netty's unconnected socket takes for each datagram it sends.
 */
final class UdpForward implements Forward {

    private final ForwardSpec spec;
    private final ForwardTarget.Lookup networks;
    private final Counters counters;
    private final GuestLookup guest;
    private final int maxFlows;
    private final long idleNanos;
    private final LongTable<Flow> byClient;
    private final Channel socket;
    private final ScheduledFuture<?> sweep;

    UdpForward(ForwardSpec spec, IoEventLoop loop, ForwardTarget.Lookup networks, Counters counters, int maxFlows,
            Duration idleTimeout) throws ForwardException {
        this.spec = spec;
        this.networks = networks;
        this.counters = counters;
        this.maxFlows = maxFlows;
        this.idleNanos = idleTimeout.toNanos();
        this.byClient = new LongTable<>(maxFlows);
        this.guest = new GuestLookup(spec.vmAddress(), loop, counters, maxFlows);
        boolean epoll = loop.isIoType(EpollIoHandler.class);
        Bootstrap bootstrap = new Bootstrap()
                .group(loop)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .option(ChannelOption.AUTO_CLOSE, false)
                // Any IPv4 datagram whole (Netty's default reads 2 KiB and cuts the rest): larger than a LAN frame, it
                // reaches the VM in fragments.
                .option(ChannelOption.RCVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(UdpNat.MAX_IPV4_UDP_DATA))
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        DatagramPacket packet = (DatagramPacket) msg;
                        try {
                            fromOutside(packet.sender(), packet.content());
                        } finally {
                            packet.release();
                        }
                    }

                    @Override
                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                        // A client's ICMP error on the unconnected socket: nothing to do, the flow idles out.
                    }
                });
        this.socket = ForwardException.bind(spec, bootstrap.bind(new InetSocketAddress(spec.bind(), spec.port())));
        this.sweep = loop.scheduleAtFixedRate(this::expireIdle, 1, 1, TimeUnit.SECONDS);
    }

    /** The client's IPv4 address and port in one key. */
    private static long key(Inet4Address address, int port) {
        // Inet4Address's hash code is its address (as an int): no byte[] per datagram as getAddress() would make.
        return ((address.hashCode() & 0xFFFF_FFFFL) << 16) | port;
    }

    private void fromOutside(InetSocketAddress sender, ByteBuf data) {
        if (!(sender.getAddress() instanceof Inet4Address address)) {
            counters.increment(Counter.DROP_FORWARD_UDP_NOT_IPV4);
            return;
        }
        long key = key(address, sender.getPort());
        Flow flow = byClient.get(key);
        if (flow == null) {
            open(key, sender, data);
        } else if (flow.mac == -1) {
            counters.increment(Counter.DROP_FORWARD_UDP_WAITING);
        } else {
            flow.toVm(data);
        }
    }

    private void open(long key, InetSocketAddress client, ByteBuf first) {
        if (byClient.size() >= maxFlows) {
            counters.increment(Counter.DROP_FORWARD_UDP_TABLE_FULL);
            return;
        }
        ForwardTarget target = networks.network(spec.network());
        if (target == null) {
            counters.increment(Counter.FORWARD_NO_NETWORK);
            return;
        }
        Flow flow = new Flow(key, client, first.retain());
        byClient.put(key, flow);
        guest.find(target, flow);
    }

    private void expireIdle() {
        long now = System.nanoTime();
        byClient.removeIf(flow -> flow.mac != -1 && now - flow.lastUsed >= idleNanos, flow -> {
            counters.increment(Counter.FORWARD_UDP_FLOWS_EXPIRED);
            flow.release();
        });
    }

    /** One outside client's conversation with the VM. */
    private final class Flow implements GuestLookup.Waiter, ForwardPorts.DatagramReturn {

        final long key;
        final InetSocketAddress client;
        ForwardTarget target;
        /** The guest's MAC; -1 while it is looked up. */
        long mac = -1;
        int gatewayPort;
        long lastUsed = System.nanoTime();
        private ByteBuf held;

        Flow(long key, InetSocketAddress client, ByteBuf held) {
            this.key = key;
            this.client = client;
            this.held = held;
        }

        @Override
        public void found(ForwardTarget at, long guestMac) {
            int port = at.udpPorts().take(this);
            if (port == 0) {
                counters.increment(Counter.DROP_FORWARD_UDP_TABLE_FULL);
                notFound();
                return;
            }
            target = at;
            mac = guestMac;
            gatewayPort = port;
            counters.increment(Counter.FORWARD_UDP_FLOWS_OPENED);
            ByteBuf first = held;
            held = null;
            toVm(first);
            first.release();
        }

        @Override
        public void notFound() {
            byClient.remove(key);
            if (held != null) {
                held.release();
                held = null;
            }
        }

        void toVm(ByteBuf data) {
            if (target.udp().sendToVm(mac, target.config().gatewayAddress(), gatewayPort, spec.vmAddress(),
                    spec.vmPort(), data)) {
                counters.increment(Counter.FORWARD_UDP_DATAGRAMS_TO_VM);
                lastUsed = System.nanoTime();
            }
        }

        @Override
        public void fromVm(ByteBuf buf, int offset, int length) {
            counters.increment(Counter.FORWARD_UDP_DATAGRAMS_FROM_VM);
            lastUsed = System.nanoTime();
            socket.writeAndFlush(new DatagramPacket(buf.retainedSlice(offset, length), client),
                    socket.voidPromise());
        }

        /** Gives back the gateway port. */
        void release() {
            if (target != null) {
                target.udpPorts().release(gatewayPort);
            }
        }
    }

    @Override
    public ForwardSpec spec() {
        return spec;
    }

    @Override
    public InetSocketAddress localAddress() {
        return new InetSocketAddress(spec.bind(), ((InetSocketAddress) socket.localAddress()).getPort());
    }

    @Override
    public void close() {
        socket.close();
        socket.eventLoop().execute(() -> {
            sweep.cancel(false);
            guest.close();
            byClient.removeIf(flow -> true, Flow::release);
        });
    }
}
