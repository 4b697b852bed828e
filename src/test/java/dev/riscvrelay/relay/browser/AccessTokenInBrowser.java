package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tokens as a browser presents them: a headless browser runs the seed's snippet in three sessions against a relay
 * started with {@code --token-file}, the URL extended with {@code /net/lab} and a {@code ?token=} (browsers cannot set
 * headers on a WebTransport CONNECT). Without a token (401) and with a wrong one (403) the session is refused; with
 * the right one it opens and its frames reach the network's gateway. The relay runs on the {@link FieldBed}, in its
 * own namespace across a 1500-byte link from the browser; its admin server answers on the relay's address.
 */
abstract class AccessTokenInBrowser {

    private static final String TOKEN = "lab-7f3c9a";

    @TempDir
    Path dir;

    abstract Browsers.Kind browser();

    /** The exact "Name: message" this browser gives the snippet's catch when the CONNECT gets 401 or 403. */
    abstract String expectedRefusal();

    @Test
    void theBrowserIsRefusedWithoutTheTokenAndAdmittedWithIt() throws Exception {
        Browsers.executable(browser());
        NetnsTestBed.requireTools("ip");
        Path tokens = Files.writeString(dir.resolve("tokens"), "# network token\nlab " + TOKEN + "\n");
        try (FieldBed field = FieldBed.create();
                TestPageServer pages = new TestPageServer(line -> System.out.println("[page] " + line))) {
            // The relay reads the token file from inside its namespace: the mount namespace is the root's.
            RelayProcess relay = field.startRelay(browser().name().toLowerCase() + "-token", "--token-file",
                    tokens.toString());
            pages.relay(relay.certificateHash(), field.relayAddress(), FieldBed.RELAY_PORT);

            // The page runs its scenarios only when every session opened: the refused ones get a run of their own.
            PageReport admitted = run(pages, "sessions=1&scenarios=arp&relayPath.A=" + encode("/net/lab?token=" + TOKEN),
                    "token-admitted");
            assertThat(admitted.isTrue("sessions.0.ready")).as("session with the token").isTrue();
            assertThat(admitted.get("sessions.0.error")).isNull();
            assertThat(admitted.isTrue("arp.replied")).as("the lab network's gateway answers ARP").isTrue();

            PageReport refused = run(pages, "sessions=2&scenarios="
                    + "&relayPath.A=" + encode("/net/lab")
                    + "&relayPath.B=" + encode("/net/lab?token=wrong-" + TOKEN), "token-refused");
            String noToken = refused.string("sessions.0.error");
            String wrongToken = refused.string("sessions.1.error");
            System.out.println("[facts] " + browser() + " on a 401 CONNECT: " + noToken + "; on a 403: " + wrongToken);
            assertThat(refused.isTrue("sessions.0.ready")).as("session without a token").isFalse();
            assertThat(refused.isTrue("sessions.1.ready")).as("session with a wrong token").isFalse();
            // A refused CONNECT looks the same to the page whatever the status: it never learns it.
            assertThat(noToken).isEqualTo(expectedRefusal());
            assertThat(wrongToken).isEqualTo(expectedRefusal());

            String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create(relay.adminUrl("/metrics"))).build(), HttpResponse.BodyHandlers.ofString()).body();
            assertThat(metrics).contains("relay_sessions_refused_no_token_total 1.0",
                    "relay_sessions_refused_bad_token_total 1.0", "relay_sessions_opened_total 1.0");
        }
    }

    private PageReport run(TestPageServer pages, String query, String label) throws Exception {
        pages.expectReport();
        try (Browsers.Running running = Browsers.launch(browser(),
                pages.page("relay-test.html?" + query), pages.relayHost(), label)) {
            try {
                PageReport report = pages.awaitReport(60, TimeUnit.SECONDS);
                System.out.println("[report] " + report);
                return report;
            } catch (TimeoutException e) {
                return fail("no report from " + browser() + "; browser log " + running.log() + " ends with:\n"
                        + running.logTail(40));
            }
        }
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
