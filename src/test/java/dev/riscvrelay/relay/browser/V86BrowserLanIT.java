package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.RelayProcess;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * The demo page as a user opens it, twice, in headless Chromium: each tab boots Linux in v86 from the relay's own
 * web server; one VM's NIC goes over WebTransport, the other's over WebSocket (v86's stock network_relay_url).
 * Commands are typed on each VM's console through the DevTools protocol and their output read back.
 */
class V86BrowserLanIT {

    private static final Path SCREENSHOTS = Path.of("target", "browser-it");
    private static final long BOOT_SECONDS = 180;
    private static final Pattern RTT = Pattern.compile("round-trip min/avg/max = ([\\d.]+)/([\\d.]+)/([\\d.]+) ms");

    @Test
    void twoBrowserVmsOneOverWebTransportOneOverWebSocketShareTheLan() throws Exception {
        buildImage();
        int webPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            webPort = probe.getLocalPort();
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path jar = Path.of("target", "riscv-relay.jar");
        try (RelayProcess relay = RelayProcess.start("v86", List.of(java.toString(),
                "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "--web", "127.0.0.1:" + webPort,
                "--v86-dir", Path.of("target", "v86").toString()), jar)) {
            String base = "http://127.0.0.1:" + webPort + "/";
            URI webTransportTab = URI.create(base + "?transport=webtransport&ip=10.0.2.15/24");
            URI webSocketTab = URI.create(base + "?transport=websocket&ip=10.0.2.16/24");
            try (Browsers.Running chromium = Browsers.launch(Browsers.Kind.CHROMIUM,
                    List.of(webTransportTab), "v86-lan", List.of("--remote-debugging-port=0",
                            // Two tabs, both running a VM: neither may be throttled as a background tab.
                            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                            "--disable-backgrounding-occluded-windows", "--window-size=1000,900"));
                 DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                devTools.openTab(webSocketTab);
                DevTools.Page wt = page(devTools, "transport=webtransport");
                DevTools.Page ws = page(devTools, "transport=websocket");
                long bootWt = awaitBoot(wt, chromium);
                long bootWs = awaitBoot(ws, chromium);
                System.out.println("[facts] v86 boot to shell (page load to 'VM ready'): WebTransport tab " + bootWt
                        + " ms, WebSocket tab " + bootWs + " ms; guest " + guestUptime(wt) + " / " + guestUptime(ws));

                SoftAssertions soft = new SoftAssertions();
                String link = run(wt, "ip -o link show eth0; ip -o addr show eth0", 20);
                soft.assertThat(link).as("eth0 of the WebTransport VM").contains("mtu 1185", "10.0.2.15/24");

                String pingGatewayWt = run(wt, "ping -c 5 -i 0.5 10.0.2.2", 40);
                String pingGatewayWs = run(ws, "ping -c 5 -i 0.5 10.0.2.2", 40);
                String pingWtToWs = run(wt, "ping -c 5 -i 0.5 10.0.2.16", 40);
                String pingWsToWt = run(ws, "ping -c 5 -i 0.5 10.0.2.15", 40);
                for (String[] ping : List.of(new String[] {"WT VM -> gateway", pingGatewayWt},
                        new String[] {"WS VM -> gateway", pingGatewayWs}, new String[] {"WT VM -> WS VM", pingWtToWs},
                        new String[] {"WS VM -> WT VM", pingWsToWt})) {
                    System.out.println("[facts] ping " + ping[0] + ": " + rtt(ping[1]));
                    soft.assertThat(ping[1]).as(ping[0]).contains("5 packets transmitted").containsPattern(
                            "5 packets transmitted, [45] packets received");
                }
                String bigPing = run(wt, "ping -c 2 -s 1157 10.0.2.16", 30); // 1157 + 8 + 20 = 1185 (the MTU)
                soft.assertThat(bigPing).as("full-MTU frames WT VM -> WS VM and back")
                        .containsPattern("2 packets transmitted, [12] packets received");
                System.out.println("[facts] nic counters in the WebTransport tab: "
                        + wt.evaluate("JSON.stringify({sent: vm.nic.sent, received: vm.nic.received,"
                                + " dropped: vm.nic.dropped, maxDatagramSize: vm.nic.maxDatagramSize})"));

                Files.createDirectories(SCREENSHOTS);
                wt.screenshot(SCREENSHOTS.resolve("v86-webtransport-tab.png"));
                ws.screenshot(SCREENSHOTS.resolve("v86-websocket-tab.png"));
                soft.assertThat(relay.isAlive()).as("relay alive").isTrue();
                soft.assertAll();
            }
        }
    }

    private static void buildImage() throws Exception {
        Process build = new ProcessBuilder("scripts/build-v86-image.sh").inheritIO().start();
        if (!build.waitFor(600, TimeUnit.SECONDS)) {
            build.destroyForcibly();
            throw new AssertionError("scripts/build-v86-image.sh took longer than 10 minutes");
        }
        assertThat(build.exitValue()).as("scripts/build-v86-image.sh exit code").isZero();
    }

    private static DevTools.Page page(DevTools devTools, String urlPart) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            List<DevTools.Page> pages = devTools.pages(urlPart);
            if (!pages.isEmpty()) {
                return pages.get(0);
            }
            Thread.sleep(200);
        }
        throw new AssertionError("no Chromium tab with " + urlPart);
    }

    private static long awaitBoot(DevTools.Page page, Browsers.Running chromium) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOOT_SECONDS);
        while (System.nanoTime() < deadline) {
            Object boot = page.evaluate("window.vm ? vm.bootMs : null");
            if (boot instanceof Number ms) {
                return ms.longValue();
            }
            Thread.sleep(500);
        }
        Object output = page.evaluate("window.vm ? vm.output().slice(-3000) + '\\n' + vm.events.join('\\n') : "
                + "document.getElementById('status').textContent");
        throw new AssertionError("VM in " + page.url() + " did not boot within " + BOOT_SECONDS + " s; console:\n"
                + output + "\nbrowser log:\n" + chromium.logTail(30));
    }

    private static String guestUptime(DevTools.Page page) throws Exception {
        Matcher m = Pattern.compile("VM ready: uptime ([\\d.]+) s").matcher(String.valueOf(page.evaluate("vm.output()")));
        return m.find() ? m.group(1) + " s uptime" : "?";
    }

    private static final java.util.concurrent.atomic.AtomicInteger COMMANDS = new java.util.concurrent.atomic.AtomicInteger();

    /**
     * Types {@code command} on the VM's console between two markers and returns what it printed. The markers are
     * typed with quotes inside ({@code =="E"7==}) so the echo of the typed line never matches the output.
     */
    static String run(DevTools.Page page, String command, long timeoutSeconds) throws Exception {
        int n = COMMANDS.incrementAndGet();
        String begin = "==B" + n + "==";
        String end = "==E" + n + "==";
        int already = ((Number) page.evaluate("vm.output().length")).intValue();
        page.type("echo ==\"B\"" + n + "==; " + command + "; echo ==\"E\"" + n + "== rc=$?\n");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        String output = "";
        while (System.nanoTime() < deadline) {
            output = String.valueOf(page.evaluate("vm.output().slice(" + already + ")")).replace("\r", "");
            int from = output.indexOf(begin + "\n");
            int to = output.indexOf(end + " rc=");
            if (from >= 0 && to > from) {
                String result = output.substring(from + begin.length() + 1, output.indexOf('\n', to) < 0
                        ? output.length() : output.indexOf('\n', to));
                System.out.println("[vm " + page.url().replaceAll(".*transport=(\\w+).*", "$1") + "] $ " + command
                        + "\n" + result);
                return result;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("'" + command + "' did not finish within " + timeoutSeconds + " s; console:\n"
                + output);
    }

    private static String rtt(String ping) {
        Matcher m = RTT.matcher(ping);
        return m.find() ? "rtt min/avg/max " + m.group(1) + "/" + m.group(2) + "/" + m.group(3) + " ms" : "no rtt";
    }
}
