package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.net.URI;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * A client written from riscv-vm's framed protocol (upstream-client.js: Register, Assigned, Heartbeat, 0x01 frames,
 * 0x02 chunks) in headless Chromium joins the LAN beside a raw-frame WebTransport session of the same page and a
 * host connected by {@code relay connect}: it is assigned the address DHCP would give its MAC, pings the gateway (a
 * chunked full-size ping too), the raw member, the host and a second framed client (1514-byte frames, which the
 * relay passes on in chunks), and they ping it. A second session registering the same
 * MAC gets an Error and is closed; a spoofed source address is dropped.
 *
 * <pre>
 *   root namespace                         link ns        relay namespace
 *   Chromium page: framed + raw sessions -- 1500-MTU ----- relay 198.19.X.2:4433
 *   client namespace: relay connect (TAP eth0 10.0.2.250) -- veths --'
 * </pre>
 */
class UpstreamClientLanIT {

    private static final String HOST_ADDRESS = "10.0.2.250";
    private static final String RAW_ADDRESS = "10.0.2.251";
    private static final long RUN_SECONDS = 60;

    @Test
    void aFramedProtocolBrowserJoinsTheLanBesideARawSessionAndAConnectedHost() throws Exception {
        Browsers.executable(Browsers.Kind.CHROMIUM);
        NetnsTestBed.requireTools("ip", "ping");
        try (FieldBed field = FieldBed.create();
             TestPageServer pages = new TestPageServer(line -> System.out.println("[page] " + line))) {
            RelayProcess relay = field.startRelay("upstream-client");
            // Without link recovery: the host's full-size frames are the 1427 bytes a plain datagram carries.
            LanHost host = field.addLanHost("uphost", HOST_ADDRESS, LinkProfile.CLEAN, "--no-link-recovery");
            URI page = UpstreamClientPage.url(pages, field, relay, HOST_ADDRESS, RAW_ADDRESS);
            pages.expectReport();
            try (Browsers.Running chromium = Browsers.launch(Browsers.Kind.CHROMIUM, List.of(page),
                    field.relayAddress(), "upstream-client", List.of())) {
                PageReport report;
                try {
                    report = pages.awaitReport(RUN_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    report = fail("no report within " + RUN_SECONDS + " s; browser log " + chromium.log()
                            + " ends with:\n" + chromium.logTail(40));
                }
                System.out.println("[facts] upstream client report: " + report.json());
                check(report, host, field);
            }
        }
    }

    private static void check(PageReport report, LanHost host, FieldBed field) throws Exception {
        SoftAssertions soft = new SoftAssertions();
        String address = UpstreamClientPage.assignedAddress(report);
        // The first lease of the pool: the upstream client registered before anyone asked DHCP.
        soft.assertThat(address).isEqualTo("10.0.2.15");
        soft.assertThat(report.isTrue("steps.heartbeat")).as("HeartbeatAck").isTrue();
        soft.assertThat(report.string("steps.gateway.mac")).isEqualTo(RelayInBrowserScenarios.GATEWAY_MAC);
        soft.assertThat(report.isTrue("steps.gateway.ping.checksumValid")).isTrue();
        soft.assertThat(report.integer("steps.chunkedPing.requestBytes")).as("sent as two 0x02 chunks").isEqualTo(1199);
        soft.assertThat(report.integer("steps.chunkedPing.replyBytes")).isEqualTo(1199);
        soft.assertThat(report.string("steps.rawToUpstream.mac")).isEqualTo(report.string("upstreamMac"));
        soft.assertThat(report.isTrue("steps.rawToUpstream.ping.checksumValid")).isTrue();
        soft.assertThat(report.integer("steps.upstreamToRaw.big.replyBytes")).as("full-size, raw to framed")
                .isEqualTo(1199);
        soft.assertThat(report.isTrue("steps.upstreamToHost.ping.checksumValid")).as("the connected host answered")
                .isTrue();
        soft.assertThat(report.string("steps.sameMacElsewhere.message")).contains("in use");
        soft.assertThat(report.isTrue("steps.sameMacElsewhere.closed")).as("the session was closed").isTrue();
        soft.assertThat(report.string("steps.framedToFramed.ip")).as("the second framed client's address")
                .isEqualTo("10.0.2.16");
        soft.assertThat(report.integer("steps.framedToFramed.ping.replyBytes")).as("1514-byte frames both ways")
                .isEqualTo(1514);

        // The connected host pings the framed client and the raw session, which answer from the page.
        CommandResult toUpstream = host.ping(address, 3, 0.2);
        soft.assertThat(toUpstream.succeeded()).as("host -> framed client: " + toUpstream.describe()).isTrue();
        // Full-size for the host's link (1413-byte IP): 1427-byte frames, one byte over what one datagram carries to
        // the framed client behind its type byte, so they reach it as 0x02 chunks.
        CommandResult full = host.exec(java.time.Duration.ofSeconds(20), "ping", "-c", "2", "-i", "0.2", "-M", "do",
                "-s", "1385", address);
        soft.assertThat(full.succeeded()).as("full-size host -> framed client: " + full.describe()).isTrue();
        CommandResult toRaw = host.ping(RAW_ADDRESS, 3, 0.2);
        soft.assertThat(toRaw.succeeded()).as("host -> raw session: " + toRaw.describe()).isTrue();

        String metrics = field.relay().metrics();
        metrics.lines().filter(line -> line.startsWith("relay_framed") || line.contains("reason=\"framed")
                || line.contains("spoofed") || line.startsWith("relay_datagrams_copied"))
                .forEach(line -> System.out.println("[facts] " + line));
        soft.assertThat(RelayProcess.metric(metrics, "relay_framed_sessions_total")).as("two clients and a thief")
                .isEqualTo(3);
        soft.assertThat(RelayProcess.metric(metrics, "relay_framed_assigned_total")).isEqualTo(2);
        soft.assertThat(RelayProcess.metric(metrics, "relay_framed_refused_total")).isEqualTo(1);
        soft.assertThat(RelayProcess.metric(metrics, "relay_framed_chunked_frames_total"))
                .as("the page's three large pings and one large reply, its two full-size replies to the host")
                .isEqualTo(6);
        soft.assertThat(RelayProcess.metric(metrics, "relay_framed_frames_split_total"))
                .as("the 1514-byte request and reply between the framed clients").isEqualTo(2);
        soft.assertThat(RelayProcess.metric(metrics, "relay_drops_total{reason=\"spoofed_ip\"}")).isEqualTo(1);
        soft.assertThat(RelayProcess.metric(metrics, "relay_drops_total{reason=\"framed_chunk_malformed\"}")).isZero();
        soft.assertAll();
    }
}
