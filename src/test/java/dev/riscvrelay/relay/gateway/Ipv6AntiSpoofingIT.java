package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * IPv6 source binding on the real relay: two Linux hosts joined by {@code relay connect} configure themselves by
 * SLAAC (EUI-64, Linux's default) and one adds an address of its own choosing (claimed by its duplicate address
 * detection); their ordinary IPv6 (router and neighbour discovery, MLD, pings) passes without a single drop. When
 * one host takes the other's addresses (its SLAAC address, then its chosen one) and sends from them, the relay
 * drops those frames and counts them as {@code spoofed_ipv6}, and the forger's own address still works.
 */
class Ipv6AntiSpoofingIT {

    private static final String GATEWAY = "fd00:10:0:2::2";
    private static final String CHOSEN = "fd00:10:0:2:1234:5678:9abc:def0";

    private final HttpClient admin = HttpClient.newHttpClient();

    @Test
    void aHostSendingFromAnotherMembersIpv6AddressIsDroppedAndCountedWhileNormalTrafficFlows() throws Exception {
        NetnsTestBed.requireTools("ip", "ping");
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("spoof6");
            LanHost forger = field.addConnectedHost("forger", LinkProfile.CLEAN);
            LanHost victim = field.addConnectedHost("victim", LinkProfile.CLEAN);
            String forgerAddress = bare(NamespaceLan.awaitGlobalAddress(forger.namespace(), Duration.ofSeconds(30)));
            String victimAddress = bare(NamespaceLan.awaitGlobalAddress(victim.namespace(), Duration.ofSeconds(30)));
            assertThat(victimAddress).as("EUI-64 SLAAC").contains("ff:fe");
            victim.exec("ip", "-6", "address", "add", CHOSEN + "/64", "dev", "eth0").orThrow();
            awaitNotTentative(victim, CHOSEN);

            assertPings(forger, null, victimAddress);
            assertPings(forger, null, CHOSEN);
            assertPings(victim, CHOSEN, GATEWAY);
            assertPings(forger, null, GATEWAY);
            assertThat(metric(field, "spoofed_ipv6")).as("nothing a Linux host does by itself is dropped").isZero();
            assertThat(metric(field, "ipv6_header_chain")).isZero();

            // The forger takes the victim's SLAAC address (no DAD, as an attacker would) and pings from it.
            forger.exec("ip", "-6", "address", "add", victimAddress + "/128", "dev", "eth0", "nodad").orThrow();
            CommandResult asVictim = forger.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W",
                    "2", "-I", victimAddress, GATEWAY);
            assertThat(asVictim.succeeded()).as(asVictim.describe()).isFalse();
            double afterSlaac = metric(field, "spoofed_ipv6");
            assertThat(afterSlaac).isGreaterThanOrEqualTo(3);

            // And the address the victim chose and claimed first.
            forger.exec("ip", "-6", "address", "add", CHOSEN + "/128", "dev", "eth0", "nodad").orThrow();
            CommandResult asChosen = forger.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W",
                    "2", "-I", CHOSEN, GATEWAY);
            assertThat(asChosen.succeeded()).as(asChosen.describe()).isFalse();
            assertThat(metric(field, "spoofed_ipv6")).isGreaterThanOrEqualTo(afterSlaac + 3);

            // The victim keeps both addresses, the forger its own.
            assertPings(victim, victimAddress, GATEWAY);
            assertPings(victim, CHOSEN, GATEWAY);
            assertPings(forger, forgerAddress, GATEWAY);
        }
    }

    private static String bare(String withLength) {
        return withLength.substring(0, withLength.indexOf('/'));
    }

    private static void assertPings(LanHost host, String from, String to) {
        CommandResult ping = from == null
                ? host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", to)
                : host.exec(Duration.ofSeconds(15), "ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", "-I", from, to);
        assertThat(ping.succeeded()).as(ping.describe()).isTrue();
    }

    private static void awaitNotTentative(LanHost host, String address) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String shown = "";
        while (System.nanoTime() < deadline) {
            shown = host.exec("ip", "-6", "-o", "addr", "show", "dev", "eth0").orThrow().stdout();
            if (shown.contains(address + "/64") && !shown.lines().filter(l -> l.contains(address))
                    .anyMatch(l -> l.contains("tentative"))) {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError(address + " still tentative or missing: " + shown);
    }

    private double metric(FieldBed field, String reason) throws Exception {
        String metrics = admin.send(HttpRequest.newBuilder(URI.create(field.adminUrl("/metrics"))).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String series = "relay_drops_total{reason=\"" + reason + "\"} ";
        return metrics.lines().filter(line -> line.startsWith(series)).findFirst()
                .map(line -> Double.parseDouble(line.substring(series.length())))
                .orElseThrow(() -> new AssertionError("no " + series + "in\n" + metrics));
    }
}
