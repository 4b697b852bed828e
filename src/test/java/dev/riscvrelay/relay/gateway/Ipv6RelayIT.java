package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * IPv6 on the LAN of the real relay, chosen with {@code --ipv6-prefix}: a Linux host joined by {@code relay
 * connect} (a TAP in its namespace, across the field test bed's 1500-MTU veths) configures itself by SLAAC in that
 * prefix, pings the gateway's addresses, and learns at once that IPv6 beyond the LAN has no route.
 */
class Ipv6RelayIT {

    @Test
    void aConnectedHostGetsAnAddressInTheChosenPrefixAndPingsTheGateway() throws Exception {
        NetnsTestBed.requireTools("ip", "ping");
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("ipv6", "--ipv6-prefix", "2001:db8:1:2::/64");
            LanHost host = field.addConnectedHost("v6", LinkProfile.CLEAN);
            String address = NamespaceLan.awaitGlobalAddress(host.namespace(), Duration.ofSeconds(30));
            assertThat(address).startsWith("2001:db8:1:2:").endsWith("/64");
            assertThat(host.exec("ip", "-6", "route", "show", "default").orThrow().stdout())
                    .contains("default via fe80::5054:ff:fe12:3456 dev eth0");

            CommandResult global = host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2",
                    "2001:db8:1:2::2");
            assertThat(global.succeeded()).as(global.describe()).isTrue();
            CommandResult linkLocal = host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W",
                    "2", "fe80::5054:ff:fe12:3456%eth0");
            assertThat(linkLocal.succeeded()).as(linkLocal.describe()).isTrue();
            CommandResult outside = host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "1", "-W", "5",
                    "2606:4700::1111");
            assertThat(outside.stdout()).as(outside.describe())
                    .contains("From 2001:db8:1:2::2 icmp_seq=1 Destination unreachable: No route");
            assertThat(String.join("\n", field.relay().output())).as("printed at start")
                    .contains("IPv6 2001:db8:1:2::/64: gateway 2001:db8:1:2::2 (SLAAC)")
                    .contains("Egress IPv6: VMs reach the public internet; denied: ::/128, ::1/128,");
        }
    }
}
