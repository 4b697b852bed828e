package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.IngressGuard;
import dev.riscvrelay.relay.forward.ForwardPorts;
import dev.riscvrelay.relay.forward.ForwardReturns;
import dev.riscvrelay.relay.forward.ForwardTarget;
import dev.riscvrelay.relay.gateway.Gateway;
import dev.riscvrelay.relay.gateway.RouteToOutside;
import dev.riscvrelay.relay.gateway.dhcp.DhcpServer;
import dev.riscvrelay.relay.gateway.dns.DnsConfig;
import dev.riscvrelay.relay.gateway.dns.DnsForwarder;
import dev.riscvrelay.relay.gateway.dns.DnsOverTcp;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.EgressPolicy;
import dev.riscvrelay.relay.nat.Nat;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One virtual LAN: its own learning switch, gateway at 10.0.2.2 with DHCP pool, DNS forwarder and NAT tables. No
 * frame crosses from one network to another: they share nothing but the event loop (and the host's sockets, each
 * network's NAT flows having sockets of their own). Built, used and closed on that loop.
 */
final class Network implements AutoCloseable {

    private final String name;
    private final LearningSwitch lan;
    private final DhcpServer dhcp;
    private final DnsForwarder dns;
    private final Nat nat;
    private final ScheduledFuture<?> macSweep;
    private final IngressGuard.Leases leases;
    private final ForwardTarget forwardTarget;

    private Network(String name, LearningSwitch lan, DhcpServer dhcp, DnsForwarder dns, Nat nat,
            ScheduledFuture<?> macSweep, Gateway gateway, ForwardPorts forwardPorts) {
        this.name = name;
        this.forwardTarget = new ForwardTarget(lan.config(), gateway.neighbours(), mac -> lan.portOf(mac) != null,
                nat.tcp(), nat.udp(), forwardPorts);
        this.lan = lan;
        this.dhcp = dhcp;
        this.dns = dns;
        this.nat = nat;
        this.macSweep = macSweep;
        this.leases = new IngressGuard.Leases() {
            @Override
            public int leasedAddressOf(long mac) {
                return dhcp.leasedAddressOf(mac);
            }

            @Override
            public long generation() {
                return dhcp.leaseGeneration();
            }
        };
    }

    /** Builds and starts a network on {@code loop}; call on that loop. */
    static Network create(String name, RelayConfig config, IoEventLoop loop, Counters counters) {
        NetworkConfig network = config.network();
        LearningSwitch lan = new LearningSwitch(network, counters);
        Gateway gateway = new Gateway(network, lan, PooledByteBufAllocator.DEFAULT, counters);
        DnsConfig dnsConfig = config.dnsResolvers().isEmpty() ? DnsConfig.fromHost()
                : DnsConfig.of(config.dnsResolvers());
        DnsForwarder dns = new DnsForwarder(dnsConfig, loop, counters, System::nanoTime);
        // Not awaited: this runs on the loop that binds the sockets; queries before the bind completes are few.
        dns.start();
        Nat nat;
        try {
            nat = new Nat(network, NatConfig.defaults(), EgressPolicy.forThisHost(config.egress()), loop,
                    frame -> lan.forwardFromOutside(gateway, frame), counters, NanoClock.SYSTEM,
                    PooledByteBufAllocator.DEFAULT);
        } catch (RuntimeException e) {
            dns.close();
            throw e;
        }
        nat.tcp().usePortFrameLimits(mac -> {
            Port port = lan.portOf(mac);
            return port == null ? 0 : port.maxFrameSize();
        });
        DhcpServer dhcp = new DhcpServer(network, System::nanoTime);
        gateway.addIpHandler(dhcp);
        gateway.addIpHandler(dns);
        // A truncated UDP answer sends the guest back over TCP to the same address: carry it to the resolver.
        gateway.addIpHandler(new DnsOverTcp(dnsConfig, nat.tcp()::onServiceSegment));
        ForwardPorts forwardPorts = new ForwardPorts();
        gateway.addIpHandler(new ForwardReturns(nat.tcp(), forwardPorts));
        gateway.addIpHandler(new RouteToOutside(nat::onPacket));
        lan.attach(gateway);
        nat.start();
        ScheduledFuture<?> sweep = loop.scheduleAtFixedRate(lan::expireMacs, 1, 1, TimeUnit.SECONDS);
        return new Network(name, lan, dhcp, dns, nat, sweep, gateway, forwardPorts);
    }

    String name() {
        return name;
    }

    LearningSwitch lan() {
        return lan;
    }

    DhcpServer dhcp() {
        return dhcp;
    }

    Nat nat() {
        return nat;
    }

    IngressGuard.Leases leases() {
        return leases;
    }

    /** What port forwards into this network use. On the loop. */
    ForwardTarget forwardTarget() {
        return forwardTarget;
    }

    /** Stops the timers and closes the NAT's and the DNS forwarder's sockets. On the loop. */
    @Override
    public void close() {
        macSweep.cancel(false);
        nat.close();
        dns.close();
    }
}
