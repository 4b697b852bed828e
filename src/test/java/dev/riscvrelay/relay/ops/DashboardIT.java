package dev.riscvrelay.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.browser.Browsers;
import dev.riscvrelay.relay.browser.DevTools;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient.CloseInfo;
import dev.riscvrelay.relay.wire.MacAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in headless Chromium against the relay process, while two WebTransport members move frames: its
 * plots move, its totals equal {@code /metrics} once the traffic stops, it is readable at a phone's width, and its
 * capture and disconnect buttons act after a confirmation (and not without one). Screenshots are kept in
 * {@code target/dashboard/}.
 */
class DashboardIT {

    private static final long VM_A = MacAddress.parse("02:00:00:00:21:0a");
    private static final long VM_B = MacAddress.parse("02:00:00:00:21:0b");
    private static final Path SCREENSHOTS = Path.of("target", "dashboard");
    private static final Map<String, String> TOTALS = Map.of(
            "frames-in", "relay_frames_in_total", "frames-out", "relay_frames_out_total",
            "bytes-in", "relay_bytes_in_total", "bytes-out", "relay_bytes_out_total", "sessions", "relay_sessions");

    /** Where the relay writes its capture: removed after the test. */
    @TempDir
    Path work;

    @Test
    void theDashboardPlotsTheTrafficOfTwoMembersMatchesMetricsAndActsAfterAConfirmation() throws Exception {
        Path capture = work.resolve("lan.pcap");
        try (RelayProcess relay = RelayProcess.start("ops-dashboard", List.of("--pcap", capture.toString(),
                "--forward", "tcp:127.0.0.1:0=10.0.2.30:8080"));
                LanClient a = LanClient.connect(relay.port(), relay.certificateHash(), VM_A).get(20, TimeUnit.SECONDS);
                LanClient b = LanClient.connect(relay.port(), relay.certificateHash(), VM_B).get(20, TimeUnit.SECONDS)) {
            // The capture ran from the start; the page will start and stop the next one.
            assertThat(OperationsIT.curl("-s", "-X", "POST", relay.adminUrl("/pcap/stop")).stdout())
                    .startsWith("capture written");
            a.resolveGateway("10.0.2.30");
            b.resolveGateway("10.0.2.31");
            AtomicBoolean moving = new AtomicBoolean(true);
            Thread traffic = Thread.ofPlatform().name("two-members").start(() -> {
                while (moving.get()) { // about 400 frames a second each way: enough to see, little for two cores
                    a.sendBroadcast(1000);
                    b.sendBroadcast(1000);
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            URI page = URI.create(relay.adminUrl("/"));
            try (Browsers.Running chromium = Browsers.launch(Browsers.Kind.CHROMIUM, List.of(page), "127.0.0.1",
                    "dashboard", List.of("--remote-debugging-port=0", "--window-size=1280,1800"));
                    DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                DevTools.Page dashboard = awaitPage(devTools, page);
                await("the page shows both sessions", () -> text(dashboard, "sessions").equals("2"));
                await("a few events drawn", () -> number(dashboard, "window.dashboard.state.draws") >= 3);

                String before = (String) dashboard.evaluate("document.getElementById('plot-throughput').toDataURL()");
                double eventsBefore = number(dashboard, "window.dashboard.state.events");
                await("two more events", () -> number(dashboard, "window.dashboard.state.events") >= eventsBefore + 2);
                String after = (String) dashboard.evaluate("document.getElementById('plot-throughput').toDataURL()");
                assertThat(after).as("the throughput plot moved").isNotEqualTo(before);
                double peak = number(dashboard, "Math.max(...window.dashboard.samples.slice(1).map((s, i) =>"
                        + " (s.bytesIn - window.dashboard.samples[i].bytesIn) * 8000 / (s.time - window.dashboard.samples[i].time)))");
                assertThat(peak).as("the highest bit/s in plotted").isGreaterThan(1_000_000);
                assertThat(rows(dashboard)).containsExactlyInAnyOrder(MacAddress.format(VM_A), MacAddress.format(VM_B));
                assertThat((String) dashboard.evaluate("document.querySelector('[data-network=default] table').innerText"))
                        .contains("webtransport", "127.0.0.1:");
                await("the forward is listed", () -> text(dashboard, "forwards").startsWith("tcp 127.0.0.1:"));
                assertThat(text(dashboard, "forwards")).endsWith(" → default/10.0.2.30:8080");
                dashboard.screenshot(SCREENSHOTS.resolve("dashboard.png"));

                moving.set(false);
                traffic.join(5_000);
                assertTotalsMatchMetrics(relay, dashboard);

                dashboard.call("Emulation.setDeviceMetricsOverride",
                        "{\"width\":390,\"height\":844,\"deviceScaleFactor\":2,\"mobile\":true}", 10);
                // A phone widens the layout to whatever overflows, so a page 390 wide has nothing wider in it.
                Thread.sleep(500);
                assertThat(number(dashboard, "window.innerWidth")).as("layout width on the phone").isEqualTo(390);
                assertThat(number(dashboard, "document.documentElement.scrollWidth")).as("no sideways scrolling")
                        .isLessThanOrEqualTo(390);
                dashboard.screenshot(SCREENSHOTS.resolve("dashboard-phone.png"));
                dashboard.call("Emulation.clearDeviceMetricsOverride", "{}", 10);

                // Capture: start and stop from the page, each after its confirmation.
                dashboard.evaluate("window.confirm = (q) => { window.asked = q; return true; }; true");
                dashboard.evaluate("document.getElementById('capture-toggle').click(); true");
                await("capturing", () -> text(dashboard, "capture-state").startsWith("capturing to "));
                assertThat(text(dashboard, "capture-state")).endsWith(capture.toString());
                dashboard.evaluate("document.getElementById('capture-toggle').click(); true");
                await("capture stopped", () -> text(dashboard, "capture-state").equals("no capture running"));
                assertThat((String) dashboard.evaluate("window.asked")).startsWith("Stop the capture");

                // Disconnect: nothing happens when the operator declines, the member goes when confirmed.
                dashboard.evaluate("window.confirm = () => false; true");
                clickDisconnect(dashboard, VM_B);
                double eventsNow = number(dashboard, "window.dashboard.state.events");
                await("another event", () -> number(dashboard, "window.dashboard.state.events") >= eventsNow + 2);
                assertThat(b.client.closed()).as("declined: still connected").isNotDone();
                dashboard.evaluate("window.confirm = (q) => { window.asked = q; return true; }; true");
                clickDisconnect(dashboard, VM_B);
                CloseInfo closed = b.client.closed().get(10, TimeUnit.SECONDS);
                assertThat(closed.reason()).isEqualTo("disconnected by the relay's operator");
                assertThat((String) dashboard.evaluate("window.asked")).contains(MacAddress.format(VM_B));
                await("one member left", () -> rows(dashboard).equals(List.of(MacAddress.format(VM_A))));
                dashboard.screenshot(SCREENSHOTS.resolve("dashboard-after-disconnect.png"));
            }
        }
    }

    /** Waits for a quiet moment: /metrics unchanged across the page's next event, which then shows the same. */
    private static void assertTotalsMatchMetrics(RelayProcess relay, DevTools.Page dashboard) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        String mismatch = "";
        while (System.nanoTime() < deadline) {
            String metricsBefore = OperationsIT.curl("-s", relay.adminUrl("/metrics")).stdout();
            double events = number(dashboard, "window.dashboard.state.events");
            await("the next event", () -> number(dashboard, "window.dashboard.state.events") >= events + 1);
            String metricsAfter = OperationsIT.curl("-s", relay.adminUrl("/metrics")).stdout();
            StringBuilder differences = new StringBuilder();
            for (Map.Entry<String, String> total : TOTALS.entrySet()) {
                double before = OperationsIT.metricValue(metricsBefore, total.getValue());
                double after = OperationsIT.metricValue(metricsAfter, total.getValue());
                double shown = Double.parseDouble(text(dashboard, total.getKey()).replace(",", ""));
                if (before != after || shown != after) {
                    differences.append(total.getKey()).append(": page ").append(shown).append(", /metrics ")
                            .append(before).append(" then ").append(after).append("; ");
                }
            }
            double drops = dropsTotal(metricsAfter);
            double shownDrops = Double.parseDouble(text(dashboard, "drops").replace(",", ""));
            if (drops != dropsTotal(metricsBefore) || shownDrops != drops) {
                differences.append("drops: page ").append(shownDrops).append(", /metrics ").append(drops);
            }
            if (differences.isEmpty()) {
                return;
            }
            mismatch = differences.toString();
        }
        throw new AssertionError("the dashboard's totals never settled on /metrics: " + mismatch);
    }

    private static double dropsTotal(String metrics) {
        Matcher m = Pattern.compile("(?m)^relay_drops_total\\{reason=\"[a-z_]+\"} (\\S+)$").matcher(metrics);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }

    private static void clickDisconnect(DevTools.Page dashboard, long mac) throws Exception {
        dashboard.evaluate("document.querySelector('tr[data-mac=\"" + MacAddress.format(mac)
                + "\"] button').click(); true");
    }

    @SuppressWarnings("unchecked")
    private static List<String> rows(DevTools.Page dashboard) throws Exception {
        return (List<String>) dashboard.evaluate(
                "[...document.querySelectorAll('[data-network=default] tr[data-mac]')].map(r => r.dataset.mac)");
    }

    private static String text(DevTools.Page dashboard, String id) throws Exception {
        return (String) dashboard.evaluate("document.getElementById('" + id + "').textContent");
    }

    private static double number(DevTools.Page dashboard, String expression) throws Exception {
        Object value = dashboard.evaluate(expression);
        return value == null ? Double.NaN : ((Number) value).doubleValue();
    }

    private static DevTools.Page awaitPage(DevTools devTools, URI page) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            List<DevTools.Page> pages = devTools.pages(page.getHost() + ":" + page.getPort());
            if (!pages.isEmpty()) {
                pages.getFirst().awaitLoaded(page.getHost() + ":" + page.getPort(), 20, TimeUnit.SECONDS);
                return pages.getFirst();
            }
            Thread.sleep(100);
        }
        throw new AssertionError("Chromium never opened " + page);
    }

    private interface Condition {
        boolean holds() throws Exception;
    }

    private static void await(String what, Condition condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            if (condition.holds()) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("timed out waiting: " + what);
    }
}
