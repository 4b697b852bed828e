package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.IngressGuard;
import dev.riscvrelay.relay.access.Ipv6AddressOwners;
import dev.riscvrelay.relay.cluster.Trunks;
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
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.Ipv6EgressPolicy;
import dev.riscvrelay.relay.nat.Nat;
import dev.riscvrelay.relay.nat.NatConfig;
import dev.riscvrelay.relay.nat.tcp.TcpConfig;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.switching.Port;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.IoEventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One virtual LAN: its own learning switch, gateway at 10.0.2.2 with DHCP pool, DNS forwarder and NAT tables. No
 * frame crosses from one network to another: they share nothing but perhaps an event loop (and the host's budget,
 * each network's NAT flows having sockets of their own). Built, used and closed on its loop, but for the member
 * count, which the gate keeps under its lock, and the {@link #sizes()} it publishes for gauges.
 *
 * <p>It also knows its {@link Member}s: which session holds which source MAC (so DHCP can count leases against the
 * session and its client address) and since when it has had none (so an empty network can be freed).
 */
final class Network implements AutoCloseable {

    private final String name;
    private final LearningSwitch lan;
    private final DhcpServer dhcp;
    private final DnsForwarder dns;
    private final Nat nat;
    private final Gateway gateway;
    private final ScheduledFuture<?> everySecond;
    private final IngressGuard.Leases leases;
    private final int leasesPerAddress;
    /** Bounded by the sessions the network admits times the MACs each may bind. */
    private final Map<Long, Member> macOwners;
    private final Map<InetAddress, int[]> leasesByAddress = new HashMap<>();
    private final Ipv6AddressOwners<Member> ipv6Owners;
    private final IoEventLoop loop;
    /** Written under the gate's lock ({@link Networks}); read by the gate and by views. */
    private volatile int members;
    private volatile long emptySince;
    /** The table sizes as this network's loop last saw them (every second), for gauges read on another loop. */
    private volatile Sizes published = new Sizes(0, 0, 0, 0, 0);
    private final ForwardTarget forwardTarget;
    /** The link to the same network on the cluster's other relays, or null. */
    private Trunks.Trunk trunk;
    private final Counters counters;
    private final HostBudget.Share budget;

    private Network(String name, IoEventLoop loop, LearningSwitch lan, DhcpServer dhcp, DnsForwarder dns, Nat nat,
            Map<Long, Member> macOwners, int leasesPerAddress, long createdAt, Gateway gateway,
            ForwardPorts forwardPorts, Counters counters, HostBudget.Share budget, NanoClock clock) {
        this.name = name;
        this.loop = loop;
        this.counters = counters;
        this.budget = budget;
        this.forwardTarget = new ForwardTarget(lan.config(), gateway.neighbours(), mac -> lan.portOf(mac) != null,
                nat.tcp(), nat.udp(), forwardPorts);
        this.lan = lan;
        this.ipv6Owners = new Ipv6AddressOwners<>(lan.config());
        this.dhcp = dhcp;
        this.dns = dns;
        this.nat = nat;
        this.gateway = gateway;
        this.everySecond = loop.scheduleAtFixedRate(() -> {
            lan.expireMacs();
            dhcp.expire(counters);
            gateway.everySecond(clock.nanoTime());
            published = sizesNow();
        }, 1, 1, TimeUnit.SECONDS);
        this.macOwners = macOwners;
        this.leasesPerAddress = leasesPerAddress;
        this.emptySince = createdAt;
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
        return create(name, config, loop, counters, NanoClock.SYSTEM, new HostBudget(config.hostBudget()));
    }

    /**
     * @param clock the time of leases, of membership (when members left) and of fragments in reassembly
     * @param budget the relay's host budget, of which this network's NAT takes its share
     */
    static Network create(String name, RelayConfig config, IoEventLoop loop, Counters counters, NanoClock clock,
            HostBudget budget) {
        NetworkConfig network = config.network();
        LearningSwitch lan = new LearningSwitch(network, counters);
        Gateway gateway = new Gateway(network, lan, PooledByteBufAllocator.DEFAULT, counters, clock);
        DnsConfig dnsConfig = config.dnsResolvers().isEmpty() ? DnsConfig.fromHost()
                : DnsConfig.of(config.dnsResolvers());
        DnsForwarder dns = new DnsForwarder(dnsConfig, loop, counters, System::nanoTime);
        // Not awaited: this runs on the loop that binds the sockets; queries before the bind completes are few.
        dns.start();
        Map<Long, Member> macOwners = new HashMap<>();
        HostBudget.Share share = budget.share(mac -> {
            Member owner = macOwners.get(mac);
            return owner == null ? null : owner.peer();
        });
        Nat nat;
        try {
            nat = new Nat(network, NatConfig.defaults(), TcpConfig.defaults(),
                    EgressPolicy.forThisHost(config.egress()), Ipv6EgressPolicy.forThisHost(config.egress()), loop,
                    frame -> lan.forwardFromOutside(gateway, frame), counters, NanoClock.SYSTEM,
                    PooledByteBufAllocator.DEFAULT, share);
        } catch (RuntimeException e) {
            dns.close();
            throw e;
        }
        nat.tcp().usePortFrameLimits(mac -> {
            Port port = lan.portOf(mac);
            return port == null ? 0 : port.largestUnsplitFrame();
        });
        DhcpServer dhcp = new DhcpServer(network, clock, macOwners::get,
                config.access().claims().leaseGrace());
        dhcp.watch(gateway.neighbours());
        gateway.addIpHandler(dhcp);
        gateway.addIpHandler(dns);
        gateway.addIpv6Handler(dns);
        // A truncated UDP answer sends the guest back over TCP to the same address: carry it to the resolver.
        gateway.addIpHandler(new DnsOverTcp(dnsConfig, nat.tcp()::onServiceSegment));
        ForwardPorts forwardPorts = new ForwardPorts();
        gateway.addIpHandler(new ForwardReturns(nat.tcp(), forwardPorts));
        gateway.addIpHandler(new RouteToOutside(nat::onPacket));
        gateway.routeIpv6ToOutside(nat::onPacket6);
        // Every relay of a cluster runs its own gateway: frames from other relays never reach this one.
        lan.attachLocal(gateway);
        nat.start();
        return new Network(name, loop, lan, dhcp, dns, nat, macOwners, config.access().claims().leasesPerAddress(),
                clock.nanoTime(), gateway, forwardPorts, counters, share, clock);
    }

    String name() {
        return name;
    }

    /** The event loop that owns this network. */
    IoEventLoop loop() {
        return loop;
    }

    /** The sizes of the tables gauges show. */
    record Sizes(int learnedMacs, int udpFlows, int icmpFlows, int tcpConnections, int boundLeases) {
    }

    /** The sizes now on the network's loop; from another thread, as the loop saw them at most a second ago. */
    Sizes sizes() {
        return loop.inEventLoop() ? sizesNow() : published;
    }

    private Sizes sizesNow() {
        return new Sizes(lan.learnedMacCount(), nat.udp().flowCount(), nat.icmp().flowCount(),
                nat.tcp().connectionCount(), dhcp.boundLeases());
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

    /** The network's share of the relay's host budget, which its NAT and its WISP streams draw from. */
    HostBudget.Share budget() {
        return budget;
    }

    IngressGuard.Leases leases() {
        return leases;
    }

    /** Which member holds which IPv6 address by first use. */
    Ipv6AddressOwners<Member> ipv6Owners() {
        return ipv6Owners;
    }

    /** A session joined; under the gate's lock. */
    void memberJoined() {
        members++;
    }

    /** A session left at {@code now} (nanoTime); under the gate's lock. */
    void memberLeft(long now) {
        if (--members == 0) {
            emptySince = now;
        }
    }

    int members() {
        return members;
    }

    /** Since when (nanoTime) the network has had no member; meaningful while {@link #members()} is 0. */
    long emptySince() {
        return emptySince;
    }

    /** {@code member} bound {@code mac}: it now holds the MAC, and the leases the MAC left behind in a departure. */
    void claimMac(long mac, Member member) {
        macOwners.put(mac, member);
        dhcp.adopt(mac, member);
    }

    /** The live member that holds {@code mac}, or null. */
    Member macOwner(long mac) {
        return macOwners.get(mac);
    }

    /** Leases {@code mac} an address held by {@code member}, as DHCP would: see {@link DhcpServer#assign}. */
    long assign(long mac, Member member) {
        return dhcp.assign(mac, member, counters);
    }

    void releaseMac(long mac, Member member) {
        macOwners.remove(mac, member);
    }

    boolean mayLeaseTo(InetAddress peer) {
        int[] held = leasesByAddress.get(peer);
        return held == null || held[0] < leasesPerAddress;
    }

    void addressLeaseTaken(InetAddress peer) {
        leasesByAddress.computeIfAbsent(peer, p -> new int[1])[0]++;
    }

    void addressLeasesReturned(InetAddress peer, int count) {
        int[] held = leasesByAddress.get(peer);
        if (held != null && (held[0] -= count) <= 0) {
            leasesByAddress.remove(peer);
        }
    }

    /** What port forwards into this network use. On the loop. */
    ForwardTarget forwardTarget() {
        return forwardTarget;
    }

    /** Links the network to the cluster (null: it stays on this relay). On the loop. */
    void useTrunk(Trunks.Trunk clusterTrunk) {
        this.trunk = clusterTrunk;
    }

    /** Stops the timers, leaves the cluster, and closes the NAT's and the DNS forwarder's sockets. On the loop. */
    @Override
    public void close() {
        if (trunk != null) {
            trunk.close();
        }
        everySecond.cancel(false);
        gateway.close();
        nat.close();
        dns.close();
    }
}
