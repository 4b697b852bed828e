package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Stateless DHCPv6 on the real relay's LAN: a Linux host joined by {@code relay connect} configures its address by
 * SLAAC, then ISC dhclient in stateless mode ({@code -6 -S}, an Information-request to ff02::1:2) learns the DNS
 * forwarder's IPv6 address from the gateway, and Debian's dhclient-script writes it to the host's resolv.conf.
 */
class Dhcpv6StatelessIT {

    @Test
    void dhclientInStatelessModeLearnsTheDnsServer() throws Exception {
        NetnsTestBed.requireTools("ip", "dhclient", "curl");
        Path work = Files.createTempDirectory("rr-dhcpv6");
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("dhcpv6");
            LanHost host = field.addConnectedHost("dhcp6", LinkProfile.CLEAN);
            host.namespace().privateResolvConf();
            // dhclient -6 sends from the link-local address, which is usable once SLAAC has run.
            NamespaceLan.awaitGlobalAddress(host.namespace(), Duration.ofSeconds(30));
            host.namespace().awaitIpv6("eth0", "link", Duration.ofSeconds(10)); // dhclient binds to it

            Path leases = work.resolve("dhclient6.leases");
            Path pid = work.resolve("dhclient6.pid");
            // The hook records what dhclient hands it, then runs Debian's dhclient-script as a bare dhclient would.
            Path record = work.resolve("hook.env");
            Path hook = Files.writeString(work.resolve("hook.sh"), "#!/bin/sh\nenv | grep -E '^(reason|new_dhcp6)'"
                    + " | sort >> " + record + "\nexec /sbin/dhclient-script \"$@\"\n");
            assertThat(hook.toFile().setExecutable(true)).isTrue();
            CommandResult dhclient = null;
            for (int attempt = 1; attempt <= 3; attempt++) {
                dhclient = host.exec(Duration.ofSeconds(60), "dhclient", "-6", "-S", "-1", "-v", "-pf",
                        pid.toString(), "-lf", leases.toString(), "-sf", hook.toString(), "eth0");
                // A bind refused while the kernel still settles the interface's addresses: once more, bounded.
                if (dhclient.succeeded() || !dhclient.stderr().contains("Can't bind to dhcp address")) {
                    break;
                }
                Thread.sleep(1000);
            }
            try {
                System.out.println("[dhclient -6 -S] " + dhclient.describe());
                assertThat(dhclient.succeeded()).as(dhclient.describe()).isTrue();
                assertThat(dhclient.stderr()).as(dhclient.describe())
                        .contains("RCV: Reply message on eth0 from fe80::5054:ff:fe12:3456.");
                String hookEnv = Files.readString(record);
                System.out.println("[dhclient-script environment]\n" + hookEnv);
                assertThat(hookEnv).contains("new_dhcp6_name_servers=fd00:10:0:2::3")
                        .contains("new_dhcp6_server_id=0:3:0:1:52:54:0:12:34:56");
                assertThat(host.exec("cat", "/etc/resolv.conf").orThrow().stdout())
                        .as("Debian's dhclient-script applied it").contains("nameserver fd00:10:0:2::3");
            } finally {
                // Stops the dhclient that went to the background after its Reply.
                host.exec(Duration.ofSeconds(30), "dhclient", "-6", "-x", "-pf", pid.toString(), "-lf",
                        leases.toString(), "eth0");
            }
            assertThat(Ipv6InternetIT.metric(field, field.relayNamespace(), "relay_dhcpv6_replies_total"))
                    .isGreaterThanOrEqualTo(1);
            assertThat(Ipv6InternetIT.metric(field, field.relayNamespace(),
                    "relay_drops_total{reason=\"dhcpv6_malformed\"}")).isZero();
        } finally {
            try (var files = Files.list(work)) {
                for (Path file : files.toList()) {
                    Files.deleteIfExists(file);
                }
            }
            Files.deleteIfExists(work);
        }
    }
}
