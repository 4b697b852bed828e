package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoEventLoop;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;

/**
 * A TCP forward: listens on the outside address and carries each accepted connection to the guest through the
 * network's TCP NAT, which dials the guest from the gateway's address ({@code TcpNat#connectToVm}), as slirp's
 * {@code hostfwd} does. The guest's MAC comes from the gateway's ARP cache, asked for when unknown
 * ({@link GuestLookup}). A client the forward cannot carry (no such network, no guest answering, limits) is reset
 * and counted. Listener and connections live on the relay's event loop.
 */
final class TcpForward implements Forward {

    /** Backlog of the listening socket: a burst of connections waits in the kernel, not in the relay. */
    static final int BACKLOG = 1024;

    private final ForwardSpec spec;
    private final ForwardTarget.Lookup networks;
    private final Counters counters;
    private final GuestLookup guest;
    private final Channel listener;

    TcpForward(ForwardSpec spec, IoEventLoop loop, ForwardTarget.Lookup networks, Counters counters,
            int maxWaiting) throws ForwardException {
        this.spec = spec;
        this.networks = networks;
        this.counters = counters;
        this.guest = new GuestLookup(spec.vmAddress(), loop, counters, maxWaiting);
        boolean epoll = loop.isIoType(EpollIoHandler.class);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(loop, loop)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, BACKLOG)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel channel) {
                        accepted(channel);
                    }
                });
        this.listener = ForwardException.bind(spec, bootstrap.bind(new InetSocketAddress(spec.bind(), spec.port())));
    }

    /** On the loop, before the client's socket is first read. */
    private void accepted(SocketChannel client) {
        counters.increment(Counter.FORWARD_TCP_ACCEPTED);
        ForwardTarget target = networks.network(spec.network());
        if (target == null) {
            counters.increment(Counter.FORWARD_NO_NETWORK);
            reset(client);
            return;
        }
        target.tcp().configureHostSocket(client.config());
        boolean waits = guest.find(target, new GuestLookup.Waiter() {
            @Override
            public void found(ForwardTarget at, long mac) {
                if (!client.isActive()) {
                    return; // the client gave up while the guest was looked for
                }
                if (!at.tcp().connectToVm(mac, spec.vmAddress(), spec.vmPort(), client)) {
                    reset(client); // a limit refused it, counted by the NAT
                }
            }

            @Override
            public void notFound() {
                reset(client);
            }
        });
        if (!waits) {
            reset(client);
        }
    }

    /** Closes the client's socket with a reset (SO_LINGER 0): it learns at once that nobody is there. */
    private static void reset(SocketChannel client) {
        if (client.isOpen()) {
            client.config().setOption(ChannelOption.SO_LINGER, 0);
        }
        client.close();
    }

    @Override
    public ForwardSpec spec() {
        return spec;
    }

    @Override
    public InetSocketAddress localAddress() {
        // The address as asked (a socket bound to 0.0.0.0 may call itself ::), with the port actually bound.
        return new InetSocketAddress(spec.bind(), ((InetSocketAddress) listener.localAddress()).getPort());
    }

    /** Stops listening; connections already carried go on until they end (or the network closes). */
    @Override
    public void close() {
        listener.close();
        listener.eventLoop().execute(guest::close);
    }
}
