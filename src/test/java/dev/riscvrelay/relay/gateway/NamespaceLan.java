package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.transport.tap.TapDevice;
import dev.riscvrelay.relay.transport.tap.TapPort;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;

/**
 * What the gateway's namespace tests share: Linux namespaces joined to an in-process switch through TAP devices,
 * and a DNS "internet": dnsmasq at {@value #RESOLVER} in its own namespace, reached from the host over a veth
 * (203.0.113.0/24, documentation range).
 */
final class NamespaceLan {

    static final int TAP_MTU = 1500;
    static final String RESOLVER = "203.0.113.53";

    private NamespaceLan() {
    }

    /** Starts dnsmasq at {@link #RESOLVER}, answering with {@code --address=...} arguments such as {@code /relay.test/203.0.113.10}. */
    static void startResolver(NetnsTestBed bed, String... addresses) {
        Namespace internet = bed.addNamespace("inet");
        String hostSide = bed.newLinkName('v');
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "link", "add", hostSide, "type", "veth", "peer",
                "name", "eth0", "netns", internet.name()).orThrow();
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "address", "add", "203.0.113.1/24", "dev",
                hostSide).orThrow();
        NetnsTestBed.run(NetnsTestBed.DEFAULT_TIMEOUT, "ip", "link", "set", hostSide, "up").orThrow();
        bed.configureLink(internet, "eth0", 1500, RESOLVER + "/24");
        List<String> command = new ArrayList<>(List.of("dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                "--pid-file", "--port=53", "--listen-address=" + RESOLVER, "--bind-interfaces", "--no-resolv",
                "--no-hosts"));
        for (String address : addresses) {
            command.add("--address=" + address);
        }
        bed.startInBackground(internet, command.toArray(String[]::new));
    }

    /**
     * Gives {@code namespace} an {@code eth0} that is a TAP port of {@code lan}, reading, then brings it up, so the
     * host's first frames (a router solicitation, a DHCP discover) reach the switch.
     */
    static TapPort joinLan(NetnsTestBed bed, Namespace namespace, LearningSwitch lan, EventLoop loop,
            Counters counters) throws Exception {
        String name = bed.newLinkName('t');
        TapDevice tap = TapDevice.open(new TapDevice.Config(name, TAP_MTU, TAP_MTU + TapDevice.ETHERNET_HEADER),
                counters);
        bed.moveLink(name, namespace, "eth0");
        // The reader thread hands each frame to the loop that owns the switch.
        TapPort[] self = new TapPort[1];
        TapPort port = new TapPort(tap, PooledByteBufAllocator.DEFAULT,
                frame -> loop.execute(() -> lan.forward(self[0], frame)));
        self[0] = port;
        loop.submit(() -> lan.attach(port)).sync();
        port.start();
        namespace.exec("ip", "link", "set", "dev", "eth0", "up").orThrow();
        return port;
    }

    /** Polls until {@code eth0} holds a global IPv6 address that passed duplicate address detection; returns it. */
    static String awaitGlobalAddress(Namespace host, java.time.Duration timeout) throws InterruptedException {
        return host.awaitGlobalIpv6("eth0", timeout);
    }
}
