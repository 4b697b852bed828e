package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Headless Chromium reaches the relay over IPv6: the relay in its field-bed namespace bound to {@code ::}, the browser
 * in the root namespace on a page from {@code http://127.0.0.1}, connecting with {@code serverCertificateHashes} to
 * {@code https://[2001:db8:19:X::2]:4433} across the 1500-MTU links. One session asks the gateway for its MAC (ARP)
 * and pings it; both answers come back over the IPv6 path.
 */
class ChromiumIpv6WebTransportIT {

    @Test
    void chromiumConnectsOverIpv6AndTheGatewayAnswersArpAndPing() throws Exception {
        Browsers.executable(Browsers.Kind.CHROMIUM);
        NetnsTestBed.requireTools("ip");
        try (FieldBed field = FieldBed.create();
                TestPageServer pages = new TestPageServer(line -> System.out.println("[page] " + line))) {
            field.startRelayOnIpv6("chromium-v6", "::");
            // The page's URL is the IPv6 literal: the session can only come over IPv6.
            pages.relay(field.relay().certificateHash(), "[" + field.relayIpv6Address() + "]", FieldBed.RELAY_PORT);
            pages.expectReport();
            PageReport report;
            try (Browsers.Running running = Browsers.launch(Browsers.Kind.CHROMIUM,
                    pages.page("relay-test.html?sessions=1&scenarios=arp,ping"), pages.relayHost(), "ipv6")) {
                try {
                    report = pages.awaitReport(RelayInBrowserScenarios.BROWSER_RUN_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    report = fail("no report from Chromium; browser log " + running.log() + " ends with:\n"
                            + running.logTail(40));
                }
            }
            System.out.println("[report] " + report);
            assertThat(report.list("errors")).as("page errors").isEmpty();
            assertThat(report.string("sessions.0.error")).isNull();
            assertThat(report.isTrue("sessions.0.ready")).isTrue();
            assertThat(report.isTrue("arp.replied")).as("ARP reply from the gateway").isTrue();
            assertThat(report.string("arp.senderMac")).isEqualTo(RelayInBrowserScenarios.GATEWAY_MAC);
            assertThat(report.isTrue("ping.replied")).as("echo reply from the gateway").isTrue();
            assertThat(report.string("ping.ipSrc")).isEqualTo(RelayInBrowserScenarios.GATEWAY_IP);
        }
    }
}
