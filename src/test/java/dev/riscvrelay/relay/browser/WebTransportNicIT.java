package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The demo page's WebTransport NIC adapter in headless Chromium, fed the way v86's NE2000 feeds it: each frame a
 * view into one transmit buffer that the next frame overwrites, a burst of them within one turn of the event loop.
 * The datagram writer queues what it cannot take at once, so an adapter that hands it the view instead of a copy
 * sends later frames with the last frame's bytes; a busy guest (a TCP download's ACKs) then loses most of what it
 * sends. Every ping of the burst must come back, and the relay must count no frame as malformed.
 *
 * <pre>
 *   root namespace                                     relay namespace
 *   Chromium: https://198.19.X.2:4433/relay.json ----- relay 198.19.X.2:4433 (page, WebTransport, gateway)
 *     relay-vm.js's WebTransportNic, NE2000-like feed
 * </pre>
 */
class WebTransportNicIT {

    private static final Pattern SUMMARY = Pattern.compile("\"count\":(\\d+),\"answered\":(\\d+)");

    @Test
    void framesHandedOverAsViewsOfOneReusedBufferArriveEachAsItWas() throws Exception {
        NetnsTestBed.requireTools("ip");
        try (FieldBed field = FieldBed.create()) {
            RelayProcess relay = field.startRelay("nic");
            URI page = URI.create(V86BrowserLanIT.pageBase(field) + "relay.json");
            try (Browsers.Running chromium = V86BrowserLanIT.launchChromium(field, relay, "nic", page);
                 DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                DevTools.Page tab = devTools.pages("relay.json").getFirst();
                tab.awaitLoaded("/relay.json", 30, TimeUnit.SECONDS);
                String summary = String.valueOf(tab.evaluate(resource("ethernet-frames.js")
                        + resource("nic-reused-buffer.js")));
                System.out.println("[facts] NE2000-like burst through the page's WebTransport NIC: " + summary);
                Matcher counts = SUMMARY.matcher(summary);
                assertThat(counts.find()).as("summary from the page: " + summary).isTrue();
                assertThat(Integer.parseInt(counts.group(2))).as("pings of the burst the gateway answered, each with"
                        + " its own sequence number and payload; " + summary)
                        .isEqualTo(Integer.parseInt(counts.group(1)));
                assertThat(relay.metric("relay_drops_total{reason=\"malformed\"}")).as("frames the relay dropped as"
                        + " malformed").isZero();
            }
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = WebTransportNicIT.class.getResourceAsStream("/browser/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /browser/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8) + "\n";
        }
    }
}
