package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.gateway.dhcp.DhcpServer;
import dev.riscvrelay.relay.gateway.dns.DnsConfig;
import dev.riscvrelay.relay.gateway.dns.DnsForwarder;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.DhcpClients;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.transport.tap.TapPort;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Real Linux clients on the virtual LAN: namespaces joined to the in-process switch through TAP devices get a lease
 * from busybox udhcpc and ISC dhclient (address, router, DNS, MTU applied by the client scripts) and resolve a name
 * through the gateway's DNS forwarder, which asks a dnsmasq in an "internet" namespace reached from the host over a
 * veth (203.0.113.0/24, documentation range).
 */
class DhcpDnsIT {


    @Test
    void udhcpcAndDhclientGetLeasesAndResolveThroughTheForwarder() throws Exception {
        NetnsTestBed.requireTools("ip", "busybox", "dhclient", "dnsmasq", "dig", "nslookup");
        Counters counters = new Counters();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
        EventLoop loop = group.next();
        Path work = Files.createTempDirectory("rr-dhcp-it");
        List<TapPort> taps = new ArrayList<>();
        DnsForwarder forwarder = null;
        try (NetnsTestBed bed = NetnsTestBed.create()) {
            // The "internet": dnsmasq answering relay.test at 203.0.113.53.
            NamespaceLan.startResolver(bed, "/relay.test/203.0.113.10");

            LearningSwitch lan = new LearningSwitch(NetworkConfig.defaults(), counters, System::nanoTime);
            Gateway gateway = new Gateway(NetworkConfig.defaults(), lan, PooledByteBufAllocator.DEFAULT, counters);
            gateway.addIpHandler(new DhcpServer(NetworkConfig.defaults(), System::nanoTime));
            DnsConfig dnsConfig = DnsConfig.of(List.of(new InetSocketAddress(NamespaceLan.RESOLVER, 53)))
                    .withTimeout(Duration.ofSeconds(2));
            forwarder = new DnsForwarder(dnsConfig, loop, counters, System::nanoTime);
            gateway.addIpHandler(forwarder);
            loop.submit(() -> lan.attach(gateway)).sync();
            forwarder.start().sync();

            // Guest 1: busybox udhcpc with a script like a distribution's.
            Namespace guest1 = bed.addNamespace("udhcpc");
            taps.add(NamespaceLan.joinLan(bed, guest1, lan, loop, counters));
            guest1.privateResolvConf();
            Path script = DhcpClients.writeUdhcpcScript(work);
            CommandResult udhcpc = guest1.exec(Duration.ofSeconds(30), "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                    "-t", "3", "-s", script.toString());
            assertThat(udhcpc.succeeded()).as(udhcpc.describe()).isTrue();
            assertThat(udhcpc.stdout() + udhcpc.stderr()).contains("lease of 10.0.2.15 obtained from 10.0.2.2");
            assertThat(guest1.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout())
                    .contains("inet 10.0.2.15/24");
            assertThat(guest1.exec("ip", "route").orThrow().stdout()).contains("default via 10.0.2.2 dev eth0");
            assertThat(guest1.exec("ip", "-o", "link", "show", "dev", "eth0").orThrow().stdout())
                    .contains("mtu 1185");
            assertThat(guest1.exec("cat", "/etc/resolv.conf").orThrow().stdout()).contains("nameserver 10.0.2.3");

            CommandResult dig = guest1.exec(Duration.ofSeconds(15), "dig", "+time=3", "+tries=2", "+short",
                    "@10.0.2.3", "www.relay.test", "A");
            assertThat(dig.succeeded()).as(dig.describe()).isTrue();
            assertThat(dig.stdout().trim()).isEqualTo("203.0.113.10");
            CommandResult nslookup = guest1.exec(Duration.ofSeconds(15), "nslookup", "-type=A", "mail.relay.test");
            assertThat(nslookup.succeeded()).as(nslookup.describe()).isTrue();
            assertThat(nslookup.stdout()).contains("Server:\t\t10.0.2.3").contains("Address: 203.0.113.10");

            // Guest 2: ISC dhclient with Debian's dhclient-script.
            Namespace guest2 = bed.addNamespace("dhclient");
            taps.add(NamespaceLan.joinLan(bed, guest2, lan, loop, counters));
            guest2.privateResolvConf();
            Path leases = work.resolve("dhclient.leases");
            CommandResult dhclient = guest2.exec(Duration.ofSeconds(60), "dhclient", "-1", "-v", "-pf",
                    work.resolve("dhclient.pid").toString(), "-lf", leases.toString(), "eth0");
            assertThat(dhclient.succeeded()).as(dhclient.describe()).isTrue();
            assertThat(dhclient.stderr()).contains("DHCPACK of 10.0.2.16 from 10.0.2.2");
            assertThat(guest2.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout())
                    .contains("inet 10.0.2.16/24");
            assertThat(guest2.exec("ip", "route").orThrow().stdout()).contains("default via 10.0.2.2");
            assertThat(guest2.exec("cat", "/etc/resolv.conf").orThrow().stdout()).contains("nameserver 10.0.2.3");
            // Debian's dhclient-script does not apply option 26; the lease records it.
            assertThat(Files.readString(leases)).contains("option interface-mtu 1185;")
                    .contains("option routers 10.0.2.2;").contains("option domain-name-servers 10.0.2.3;");
            CommandResult dig2 = guest2.exec(Duration.ofSeconds(15), "dig", "+time=3", "+tries=2", "+short",
                    "api.relay.test");
            assertThat(dig2.stdout().trim()).as(dig2.describe()).isEqualTo("203.0.113.10");
            // Release: the address goes back to the pool.
            guest2.exec(Duration.ofSeconds(30), "dhclient", "-r", "-pf", work.resolve("dhclient.pid").toString(),
                    "-lf", leases.toString(), "eth0").orThrow();

            assertThat(counters.get(Counter.DHCP_OFFERS)).isGreaterThanOrEqualTo(2);
            assertThat(counters.get(Counter.DHCP_ACKS)).isGreaterThanOrEqualTo(2);
            assertThat(counters.get(Counter.DHCP_RELEASES)).isEqualTo(1);
            assertThat(counters.get(Counter.DNS_ANSWERS)).isGreaterThanOrEqualTo(3);
            assertThat(counters.get(Counter.DROP_DHCP_MALFORMED)).isZero();
            assertThat(counters.get(Counter.DROP_DNS_MALFORMED)).isZero();
        } finally {
            for (TapPort tap : taps) {
                tap.close();
            }
            if (forwarder != null) {
                forwarder.close();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
            try (var files = Files.list(work)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(work);
        }
    }
}
