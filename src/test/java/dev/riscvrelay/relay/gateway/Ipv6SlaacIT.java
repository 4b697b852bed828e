package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.gateway.dns.DnsConfig;
import dev.riscvrelay.relay.gateway.dns.DnsForwarder;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.transport.tap.TapPort;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A real Linux host on the virtual LAN configures IPv6 from the gateway alone: a namespace joined to the in-process
 * switch through a TAP device (1500 MTU) gets a global address in the LAN's /64 by SLAAC, a default route via the
 * gateway's link-local address and the advertised MTU, then pings the gateway's global and link-local addresses and
 * resolves an AAAA record through the DNS forwarder's IPv6 address, which asks a dnsmasq in an "internet"
 * namespace reached from the host over a veth (203.0.113.0/24, documentation range). A ping beyond the LAN gets
 * "no route" back from the gateway.
 */
class Ipv6SlaacIT {

    private static final String GATEWAY_LINK_LOCAL = "fe80::5054:ff:fe12:3456";

    @Test
    void aLinuxHostConfiguresItselfBySlaacAndPingsTheGateway() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "dnsmasq", "dig");
        Counters counters = new Counters();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoop loop = group.next();
        TapPort tap = null;
        DnsForwarder forwarder = null;
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            // The "internet": dnsmasq answering relay.test with an IPv6 and an IPv4 address.
            NamespaceLan.startResolver(bed, "/relay.test/2001:db8::10", "/relay.test/203.0.113.10");

            NetworkConfig config = NetworkConfig.defaults();
            LearningSwitch lan = new LearningSwitch(config, counters, System::nanoTime);
            Gateway gateway = new Gateway(config, lan, PooledByteBufAllocator.DEFAULT, counters);
            forwarder = new DnsForwarder(DnsConfig.of(List.of(new InetSocketAddress(NamespaceLan.RESOLVER, 53)))
                    .withTimeout(Duration.ofSeconds(2)), loop, counters, System::nanoTime);
            gateway.addIpHandler(forwarder);
            gateway.addIpv6Handler(forwarder);
            loop.submit(() -> lan.attach(gateway)).sync();
            forwarder.start().sync();
            // As the relay's network does: the periodic advertisement is checked every second.
            loop.scheduleAtFixedRate(() -> gateway.everySecond(System.nanoTime()), 0, 1, TimeUnit.SECONDS);

            Namespace guest = bed.addNamespace("slaac");
            tap = NamespaceLan.joinLan(bed, guest, lan, loop, counters);

            String address = NamespaceLan.awaitGlobalAddress(guest, Duration.ofSeconds(30));
            assertThat(address).as("SLAAC: the prefix and the modified EUI-64 of the TAP's MAC")
                    .startsWith("fd00:10:0:2:").endsWith("/64");
            String routes = guest.exec("ip", "-6", "route", "show", "default").orThrow().stdout();
            assertThat(routes).contains("default via " + GATEWAY_LINK_LOCAL + " dev eth0").contains("proto ra");
            assertThat(guest.exec("cat", "/proc/sys/net/ipv6/conf/eth0/mtu").orThrow().stdout().trim())
                    .as("the MTU option: the LAN MTU raised to IPv6's minimum").isEqualTo("1280");

            CommandResult global = guest.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2",
                    "fd00:10:0:2::2");
            assertThat(global.succeeded()).as(global.describe()).isTrue();
            assertThat(global.stdout()).contains("3 received");
            CommandResult linkLocal = guest.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W",
                    "2", GATEWAY_LINK_LOCAL + "%eth0");
            assertThat(linkLocal.succeeded()).as(linkLocal.describe()).isTrue();
            CommandResult big = guest.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "1", "-s", "1200", "-W", "2",
                    "fd00:10:0:2::3");
            assertThat(big.succeeded()).as("a full 1280-byte packet to the DNS address: " + big.describe()).isTrue();
            String neighbours = guest.exec("ip", "-6", "neigh", "show", "dev", "eth0").orThrow().stdout();
            assertThat(neighbours).as("the gateway answered neighbour discovery as a router")
                    .containsPattern("fd00:10:0:2::2 lladdr 52:54:00:12:34:56 router");

            CommandResult dig = guest.exec(Duration.ofSeconds(15), "dig", "+time=3", "+tries=2", "+short",
                    "@fd00:10:0:2::3", "www.relay.test", "AAAA");
            assertThat(dig.succeeded()).as(dig.describe()).isTrue();
            assertThat(dig.stdout().trim()).isEqualTo("2001:db8::10");
            CommandResult digA = guest.exec(Duration.ofSeconds(15), "dig", "+time=3", "+tries=2", "+short",
                    "@fd00:10:0:2::3", "api.relay.test", "A");
            assertThat(digA.stdout().trim()).as(digA.describe()).isEqualTo("203.0.113.10");

            // IPv6 beyond the LAN is not carried: the host learns so at once.
            CommandResult outside = guest.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "1", "-W", "5",
                    "2001:db8::1");
            assertThat(outside.succeeded()).isFalse();
            assertThat(outside.stdout()).as(outside.describe())
                    .contains("From fd00:10:0:2::2 icmp_seq=1 Destination unreachable: No route");
            assertThat(counters.get(Counter.GATEWAY_IPV6_NO_ROUTE)).isEqualTo(1);

            assertThat(counters.get(Counter.DNS_ANSWERS)).isEqualTo(2);
            assertThat(counters.get(Counter.GATEWAY_ROUTER_ADVERTISEMENTS)).isGreaterThanOrEqualTo(1);
            assertThat(counters.get(Counter.GATEWAY_NEIGHBOR_ADVERTISEMENTS)).isGreaterThanOrEqualTo(1);
            assertThat(counters.get(Counter.GATEWAY_ECHO_REPLIES)).isGreaterThanOrEqualTo(7);
            assertThat(counters.get(Counter.DROP_NDP_INVALID)).isZero();
            assertThat(counters.get(Counter.DROP_BAD_CHECKSUM)).isZero();
            assertThat(counters.get(Counter.DROP_MALFORMED)).isZero();
        } finally {
            if (tap != null) {
                tap.close();
            }
            if (forwarder != null) {
                forwarder.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
