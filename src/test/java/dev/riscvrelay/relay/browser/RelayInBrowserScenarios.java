package dev.riscvrelay.relay.browser;

import dev.riscvrelay.relay.testbed.RelayProcess;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.MacAddress;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The end-to-end scenarios one real browser runs against the real relay process: the seed's snippet connects
 * (three sessions, each its own embedded page), then the page resolves and pings the gateway, exchanges broadcast
 * and unicast frames between sessions, and probes datagram sizes. The page records what it observed; here we
 * assert what must hold and print the rest as {@code [facts]} lines.
 *
 * <p>Run (packages the relay jar first, then about a minute per browser):
 * {@code ./mvnw verify -Dit.test='ChromiumWebTransportIT,FirefoxWebTransportIT' -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false}. Browser, relay and page logs land in {@code target/browser-it/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class RelayInBrowserScenarios {

    static final String GATEWAY_MAC = "52:54:00:12:34:56";
    static final String GATEWAY_IP = "10.0.2.2";
    /** One browser run may take this long; the page's own watchdog reports at 50 s. */
    static final long BROWSER_RUN_SECONDS = 60;

    private static final long PROBE_MAC = 0x02_00_00_00_b0_0bL;

    private RelayProcess relay;
    private TestPageServer pages;
    private WebTransportClient probeClient;

    abstract Browsers.Kind browser();

    @BeforeAll
    void startRelayAndPageServer() throws Exception {
        Browsers.executable(browser()); // fail first and clearly when the browser is missing
        System.out.println("[facts] " + browser() + ": " + Browsers.version(browser()));
        relay = RelayProcess.start(browser().name().toLowerCase());
        pages = new TestPageServer(line -> System.out.println("[page] " + line));
    }

    @AfterAll
    void stopRelayAndPageServer() {
        if (probeClient != null) probeClient.close();
        if (pages != null) pages.close();
        if (relay != null) relay.close();
    }

    /** Opens relay-test.html?query in the browser and returns the report the page posted. */
    PageReport runPage(String query, String label) throws InterruptedException {
        pages.expectReport();
        try (Browsers.Running running = Browsers.launch(browser(), pages.page("relay-test.html?" + query), label)) {
            try {
                return pages.awaitReport(BROWSER_RUN_SECONDS, TimeUnit.SECONDS);
            } catch (TimeoutException e) {
                return fail("no report from " + browser() + " within " + BROWSER_RUN_SECONDS + " s; browser log "
                        + running.log() + " ends with:\n" + running.logTail(40));
            }
        }
    }

    @Test
    void gatewayArpPingLanAndDatagramSizesThroughTheSeedSnippet() throws InterruptedException {
        pages.relay(relay.certificateHash(), relay.port());
        pages.inboundProbe(this::sendInboundProbe);
        PageReport report = runPage("sessions=3&scenarios=arp,ping,lan,sizes,inbound", "scenarios");
        System.out.println("[report] " + report);
        printFacts(report);

        assertThat(report.isTrue("secureContext")).as("http://127.0.0.1 is a secure context").isTrue();
        assertThat(report.string("webTransport")).isEqualTo("function");
        for (Object session : report.list("sessions")) {
            assertThat(session).as("session").asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                    .containsEntry("ready", true).containsEntry("error", null);
        }
        assertThat(report.list("sessions")).hasSize(3);
        assertThat(report.list("errors")).as("page errors").isEmpty();

        String macA = report.string("sessions.0.mac");
        String ipA = report.string("sessions.0.ip");
        SoftAssertions soft = new SoftAssertions();

        // (a) ARP for the gateway
        soft.assertThat(report.isTrue("arp.replied")).as("ARP reply from the gateway").isTrue();
        soft.assertThat(report.integer("arp.op")).as("ARP opcode").isEqualTo(2);
        soft.assertThat(report.string("arp.senderMac")).as("gateway MAC in ARP reply").isEqualTo(GATEWAY_MAC);
        soft.assertThat(report.string("arp.senderIp")).isEqualTo(GATEWAY_IP);
        soft.assertThat(report.string("arp.targetMac")).as("ARP reply target MAC").isEqualTo(macA);
        soft.assertThat(report.string("arp.targetIp")).isEqualTo(ipA);
        soft.assertThat(report.string("arp.ethDst")).as("ARP reply is unicast to A").isEqualTo(macA);
        soft.assertThat(report.string("arp.ethSrc")).isEqualTo(GATEWAY_MAC);

        // (b) ICMP echo to the gateway, payload byte-exact, checksums valid
        soft.assertThat(report.isTrue("ping.replied")).as("echo reply from the gateway").isTrue();
        soft.assertThat(report.string("ping.ethDst")).isEqualTo(macA);
        soft.assertThat(report.string("ping.ethSrc")).isEqualTo(GATEWAY_MAC);
        soft.assertThat(report.string("ping.ipSrc")).isEqualTo(GATEWAY_IP);
        soft.assertThat(report.string("ping.ipDst")).isEqualTo(ipA);
        soft.assertThat(report.integer("ping.icmpType")).as("echo reply type").isEqualTo(0);
        soft.assertThat(report.integer("ping.icmpCode")).isEqualTo(0);
        soft.assertThat(report.isTrue("ping.ipHeaderChecksumValid")).as("IPv4 header checksum").isTrue();
        soft.assertThat(report.isTrue("ping.icmpChecksumValid")).as("ICMP checksum").isTrue();
        soft.assertThat(report.isTrue("ping.payloadExact")).as("echo payload byte-exact").isTrue();
        soft.assertThat(report.integer("ping.rtt.samples")).as("sequential echoes answered out of 30")
                .isGreaterThanOrEqualTo(28);

        // (c) broadcast to all others and never back; a learned unicast to its target only
        for (String receiver : List.of("A", "B", "C")) {
            for (String sender : List.of("A", "B", "C")) {
                if (receiver.equals(sender)) continue;
                soft.assertThat(report.isTrue("lan.broadcastSeen." + receiver + "." + sender))
                        .as("%s sees %s's broadcast", receiver, sender).isTrue();
            }
            soft.assertThat(report.integer("lan.ownBroadcastsEchoed." + receiver))
                    .as("%s's own broadcast came back to it", receiver).isZero();
            soft.assertThat(report.integer("ownFramesEchoed." + receiver))
                    .as("frames with %s's own source MAC delivered to %s", receiver, receiver).isZero();
            soft.assertThat(report.get("failuresAfterReady." + receiver)).as("%s session failure", receiver).isNull();
        }
        soft.assertThat(report.isTrue("lan.unicast.deliveredToB")).as("unicast A -> B reaches B").isTrue();
        soft.assertThat(report.string("lan.unicast.deliveredDst")).isEqualTo(report.string("sessions.1.mac"));
        soft.assertThat(report.isTrue("lan.unicast.fenceReachedC")).as("A's later broadcast reaches C").isTrue();
        soft.assertThat(report.integer("lan.unicast.copiesAtC")).as("unicast A -> B leaked to C").isZero();
        soft.assertThat(report.integer("lan.unicast.copiesAtA")).as("unicast A -> B echoed to A").isZero();

        // (d) every frame up to the browser's own maxDatagramSize crosses both ways; oversize does not kill it
        Integer maxDatagramSize = report.integer("sizes.maxDatagramSize");
        soft.assertThat(maxDatagramSize).as("maxDatagramSize (0 means the server sent no max_datagram_frame_size)")
                .isNotNull().isGreaterThan(0);
        for (Object row : report.list("sizes.results")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = (Map<String, Object>) row;
            int size = (int) Math.round((Double) r.get("size"));
            if (maxDatagramSize != null && size <= maxDatagramSize) {
                soft.assertThat(r.get("gatewayEcho")).as("%d-byte echo via the gateway (≤ maxDatagramSize)", size)
                        .isEqualTo(true);
                soft.assertThat(r.get("lanAtoB")).as("%d-byte frame A -> B (≤ maxDatagramSize)", size)
                        .isEqualTo(true);
            }
        }
        // (e) relay -> browser: frames a Java client on the LAN sends to A
        for (String size : List.of("1199", "1200", "1514")) {
            soft.assertThat(report.isTrue("inbound.fenceArrived." + size))
                    .as("fence after the %s-byte probe reached A", size).isTrue();
        }
        soft.assertThat(report.isTrue("inbound.arrived.1199")).as("1199-byte frame relay -> browser").isTrue();
        soft.assertThat(report.isTrue("inbound.arrived.1200")).as("1200-byte frame relay -> browser").isTrue();
        soft.assertThat(report.isTrue("inbound.arrived.1514"))
                .as("a 1514-byte frame does not fit one QUIC datagram on a 1500-byte UDP path").isFalse();
        soft.assertThat(report.isTrue("sizes.sessionAliveAfterOversize"))
                .as("the session still works after oversized writes").isTrue();
        soft.assertThat(relay.isAlive()).as("relay process alive").isTrue();
        soft.assertAll();
    }

    /**
     * Trust comes from the hash: in one page, against the same relay, session A's snippet carries a hash that differs
     * in one digit and is refused (the snippet's own catch reports it), while session B with the printed hash
     * connects.
     */
    @Test
    void aWrongCertificateHashIsRefusedWhileTheRightOneConnects() throws InterruptedException {
        pages.relay(relay.certificateHash(), relay.port());
        PageReport report = runPage("sessions=2&wrongHash=A&scenarios=", "wrong-hash");
        System.out.println("[report] " + report);
        String error = report.string("sessions.0.error");
        System.out.println("[facts] " + browser() + " refusal of a wrong certificate hash: " + error);
        assertThat(report.isTrue("sessions.0.wrongHash")).isTrue();
        assertThat(report.isTrue("sessions.0.ready")).as("session A with a wrong hash").isFalse();
        assertThat(error).as("the refusal the snippet logged").isEqualTo(expectedWrongHashRefusal());
        assertThat(report.isTrue("sessions.1.ready")).as("session B with the right hash, same relay").isTrue();
        assertThat(report.get("sessions.1.error")).isNull();
        assertThat(relay.isAlive()).as("relay process alive").isTrue();
    }

    /**
     * Answers the page's {@code POST /inbound}: a Java WebTransport client on the LAN sends the page's session one frame
     * of the size asked for (unicast to its MAC, marked as the page expects), then a small fence frame. Says whether
     * the client could hand the frame to its QUIC connection at all.
     */
    private String sendInboundProbe(String request) {
        PageReport asked = PageReport.parse(request);
        long target = MacAddress.parse(asked.string("mac"));
        String run = asked.string("run");
        int size = asked.integer("size");
        if (probeClient == null) {
            URI uri = URI.create("https://127.0.0.1:" + relay.port() + "/");
            probeClient = WebTransportClient.connect(uri, WebTransportClientConfig.pinned(relay.certificateHash()),
                    ByteBuf::release).join();
        }
        boolean sent = probeClient.sendDatagram(markedFrame(target, PROBE_MAC, "inbound:" + size + ":" + run, size));
        probeClient.sendDatagram(markedFrame(target, PROBE_MAC, "inbound-fence:" + run, 60));
        return sent ? "sent" : "refused by the Java client (its max payload is " + probeClient.maxDatagramPayload()
                + ")";
    }

    /** An experimental-EtherType frame (0x88b5) whose payload starts with {@code marker}, zero-padded. */
    private static ByteBuf markedFrame(long destination, long source, String marker, int length) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(length);
        EthernetFrame.writeHeader(frame, 0, destination, source, 0x88b5);
        frame.writerIndex(EthernetFrame.HEADER_LENGTH);
        frame.writeBytes(marker.getBytes(StandardCharsets.US_ASCII));
        frame.writeZero(length - frame.writerIndex());
        return frame;
    }

    /** The exact "Name: message" this browser gives the seed snippet's catch when the hash does not match. */
    abstract String expectedWrongHashRefusal();

    private void printFacts(PageReport report) {
        String b = "[facts] " + browser() + ": ";
        System.out.println(b + "userAgent " + report.string("userAgent") + ", crossOriginIsolated "
                + report.get("crossOriginIsolated"));
        for (Object session : report.list("sessions")) System.out.println(b + "session " + session);
        System.out.println(b + "maxDatagramSize " + report.get("sizes.maxDatagramSize"));
        for (Object row : report.list("sizes.results")) System.out.println(b + "frame size " + row);
        System.out.println(b + "largest frame echoed by the gateway " + report.get("sizes.largestGatewayEcho")
                + ", largest A -> B " + report.get("sizes.largestLanAtoB"));
        System.out.println(b + "relay -> browser frame sizes that arrived " + report.get("inbound.arrived")
                + ", fences " + report.get("inbound.fenceArrived") + ", Java client " + report.get("inbound.answers"));
        System.out.println(b + "first echo RTT ms " + report.get("ping.rttMs") + ", sequential echo RTT "
                + report.get("ping.rtt"));
    }
}
