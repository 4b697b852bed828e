package dev.riscvrelay.relay.nat.tcp;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.gateway.Gateway;
import dev.riscvrelay.relay.gateway.IpHandler;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.Cidr;
import dev.riscvrelay.relay.nat.EgressPolicy;
import dev.riscvrelay.relay.nat.EgressRules;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.nat.Nat;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.NetworkNamespaces;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import dev.riscvrelay.relay.transport.tap.TapPort;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The end-to-end world for the TCP NAT, all torn down by {@link #close}:
 * <pre>
 *   VM namespace (a real Linux stack)      this JVM, loop thread in the relay namespace     internet namespace
 *   10.0.2.15/24 on a TAP, via 10.0.2.2  = TapPort - LearningSwitch - Gateway + Nat =  198.51.100.1 -- veth --
 *                                          (optionally a lossy, reordering link)        198.51.100.10, 203.0.113.10
 * </pre>
 * The internet namespace runs {@code tcp/test_server.py}: HTTP GET/PUT on 8080, half-close on 9000, reset on 9001.
 */
final class TcpWorld implements AutoCloseable {

    static final String SERVER = "203.0.113.10";
    /** In the internet's range, but nobody answers: the internet namespace does not forward. */
    static final String BLACK_HOLE = "203.0.113.99";
    static final int LAN_MTU = 1500;

    final NetnsTestBed bed;
    final Namespace vm;
    final Namespace relay;
    final Namespace internet;
    final Counters counters = new Counters();
    final Path scripts;
    private final EventLoopGroup group;
    final EventLoop loop;
    final LearningSwitch lan;
    final Nat nat;
    private final Gateway gateway;
    private final TapPort tapPort;
    private final Port vmPort;
    private final LossyLink toVm;
    private final LossyLink fromVm;

    /**
     * @param lossPercent frames dropped on the VM's link, each direction (0 for a clean link)
     * @param reorderPercent frames held back and sent after the next one, each direction
     */
    TcpWorld(TcpConfig tcpConfig, double lossPercent, double reorderPercent) throws Exception {
        NetnsTestBed.requireTools("ip", "curl", "python3", "socat", "sha256sum");
        bed = NetnsTestBed.create();
        boolean built = false;
        try {
            vm = bed.addNamespace("vm");
            relay = bed.addNamespace("relay");
            internet = bed.addNamespace("inet");
            bed.addVethPair(relay, "up0", internet, "down0");
            relay.exec("ip", "address", "add", "198.51.100.1/24", "dev", "up0").orThrow();
            relay.exec("ip", "route", "add", "203.0.113.0/24", "via", "198.51.100.10").orThrow();
            internet.exec("ip", "address", "add", "198.51.100.10/24", "dev", "down0").orThrow();
            internet.exec("ip", "address", "add", SERVER + "/32", "dev", "lo").orThrow();

            scripts = Files.createTempDirectory("rr-tcp");
            copyResource("test_server.py");
            copyResource("concurrent_client.py");

            group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
            loop = group.next();
            onLoop(() -> {
                NetworkNamespaces.enterOnThisThread(relay.name());
                return null;
            });
            NetworkConfig network = NetworkConfig.defaults().withMtu(LAN_MTU).withMacTable(64, Duration.ofMinutes(5));
            lan = new LearningSwitch(network, counters);
            gateway = new Gateway(network, lan, PooledByteBufAllocator.DEFAULT, counters);
            // The internet's documentation range, allowed as an operator would (the default denies it).
            EgressRules allowInternet = new EgressRules(List.of(Cidr.parse("203.0.113.0/24")), List.of());
            nat = onLoop(() -> new Nat(network, NatConfig.defaults(), tcpConfig, EgressPolicy.forThisHost(allowInternet), loop,
                    frame -> lan.forward(gateway, frame), counters, NanoClock.SYSTEM,
                    PooledByteBufAllocator.DEFAULT));
            gateway.addIpHandler(natHandler(network, nat));

            String tapName = bed.newLinkName('t');
            TapDevice tap = TapDevice.openInNamespace(vm.path(), TapDevice.Config.forMtu(tapName, LAN_MTU),
                    counters);
            vm.exec("ip", "address", "add", "10.0.2.15/24", "dev", tapName).orThrow();
            vm.exec("ip", "route", "add", "default", "via", "10.0.2.2").orThrow();
            toVm = new LossyLink(lossPercent, reorderPercent, 1);
            fromVm = new LossyLink(lossPercent, reorderPercent, 2);
            Port[] vmPortHolder = new Port[1];
            tapPort = new TapPort(tap, PooledByteBufAllocator.DEFAULT,
                    frame -> loop.execute(() -> fromVm.pass(frame, f -> lan.forward(vmPortHolder[0], f))));
            vmPort = new Port() {
                @Override
                public void send(ByteBuf frame) {
                    toVm.pass(frame, tapPort::send);
                }

                @Override
                public int maxFrameSize() {
                    return tapPort.maxFrameSize();
                }

                @Override
                public String name() {
                    return "vm " + tapName;
                }
            };
            vmPortHolder[0] = vmPort;
            onLoop(() -> {
                lan.attach(gateway);
                lan.attach(vmPort);
                nat.start();
                return null;
            });
            tapPort.start();

            bed.startInBackground(internet, "python3", scripts.resolve("test_server.py").toString(), SERVER);
            awaitListening(8080);
            built = true;
        } finally {
            if (!built) {
                close();
            }
        }
    }

    /** Hands everything not for the gateway itself and not on the LAN to the NAT, as the relay does. */
    private static IpHandler natHandler(NetworkConfig config, Nat nat) {
        return (ethernet, ip, output) -> {
            int destination = ip.destination();
            if (config.inNetwork(destination) || (destination >>> 28) == 0xE || destination == -1) {
                return false;
            }
            nat.onPacket(ethernet, ip);
            return true;
        };
    }

    private void awaitListening(int port) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (internet.exec("ss", "-tln").stdout().contains(SERVER + ":" + port)) {
                return;
            }
            Thread.sleep(50); // the Python server starting in another process; bounded by the deadline
        }
        throw new IllegalStateException("the test server did not listen on " + port + " within 15 s");
    }

    private void copyResource(String name) throws IOException {
        try (InputStream in = TcpWorld.class.getResourceAsStream("/tcp/" + name)) {
            Files.copy(in, scripts.resolve(name));
        }
    }

    <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(10, TimeUnit.SECONDS);
    }

    int tcpConnections() throws Exception {
        return onLoop(() -> nat.tcp().connectionCount());
    }

    /** Takes the VM off the LAN at once, as a closed browser tab would: its frames stop both ways. */
    void unplugVm() throws Exception {
        onLoop(() -> {
            lan.detach(vmPort);
            return null;
        });
    }

    @Override
    public void close() {
        try {
            if (loop != null) {
                onLoop(() -> {
                    nat.close();
                    toVm.releaseHeld();
                    fromVm.releaseHeld();
                    return null;
                });
            }
        } catch (Exception ignored) {
            // the loop is going down anyway
        }
        if (tapPort != null) {
            tapPort.close();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        bed.close();
        if (scripts != null) {
            try (var files = Files.list(scripts)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
                Files.deleteIfExists(scripts);
            } catch (IOException ignored) {
                // temp files
            }
        }
    }

    /**
     * A test-only lossy link, one direction: drops a share of frames and swaps others with the frame after them.
     * Runs on the event loop; holds at most one frame.
     */
    static final class LossyLink {
        private final double loss;
        private final double reorder;
        private final SplittableRandom random;
        private ByteBuf held;
        private java.util.function.Consumer<ByteBuf> heldTo;
        long dropped;
        long reordered;

        LossyLink(double lossPercent, double reorderPercent, long seed) {
            this.loss = lossPercent / 100;
            this.reorder = reorderPercent / 100;
            this.random = new SplittableRandom(seed);
        }

        void pass(ByteBuf frame, java.util.function.Consumer<ByteBuf> next) {
            if (loss > 0 && random.nextDouble() < loss) {
                dropped++;
                frame.release();
                return;
            }
            if (held == null && reorder > 0 && random.nextDouble() < reorder) {
                reordered++;
                held = frame;
                heldTo = next;
                return;
            }
            next.accept(frame);
            if (held != null) {
                ByteBuf late = held;
                held = null;
                heldTo.accept(late);
            }
        }

        void releaseHeld() {
            if (held != null) {
                held.release();
                held = null;
            }
        }
    }
}
