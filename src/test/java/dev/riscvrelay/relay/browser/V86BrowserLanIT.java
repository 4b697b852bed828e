package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * The demo page as a user opens it from another machine, twice, in headless Chromium: each tab boots Linux in v86
 * from the relay's own HTTPS listener; one VM's NIC goes over WebTransport, the other's over WebSocket (v86's stock
 * network_relay_url, {@code wss://} to the page's own origin). Commands are typed on each VM's console through the
 * DevTools protocol and their output read back: udhcpc leases, pings to the gateway, to the other VM and to a host
 * on the test internet (ICMP NAT), nslookup through the gateway's DNS forwarder, a wget through the TCP NAT, checked
 * by its sha256, and a web preview: one VM's busybox httpd opened in a new tab at /net/default/vm/ADDR:8080/. Then
 * a riscv-vm framed-protocol client (upstream-client.html, with a raw-frame session beside it) joins the same LAN
 * with a host connected by {@code relay connect}: the VM pings both of the page's members, the host pings the framed
 * client and the framed client pings the host.
 *
 * <pre>
 *   root namespace                      link ns        relay namespace                  internet namespace
 *   Chromium tab (v86, WebTransport) -+  1500-MTU      relay 198.19.X.2:4433 udp+tcp
 *   Chromium tab (v86, WebSocket) ----+-- veths ------ --dns 203.0.113.53 -- inet0 ---- 198.51.100.10
 *     https://198.19.X.2:4433/                          --allow 203.0.113.0/24          203.0.113.10 http :80
 *                                                                                       203.0.113.53 dnsmasq
 * </pre>
 *
 * The relay runs on the {@link FieldBed}, bound to 0.0.0.0, so {@code --websocket auto} speaks TLS ({@code wss://})
 * and the same TCP port serves the demo page over HTTPS: a secure context for WebTransport, as a user gets it. Its
 * certificate is self-signed; the README tells users to open https://HOST:4433/ once and accept the warning, which
 * for headless Chromium is {@code --ignore-certificate-errors-spki-list} with that certificate's key (and nothing
 * else). The WebTransport NIC still checks the certificate by the hash from /relay.json.
 */
class V86BrowserLanIT {

    private static final Path SCREENSHOTS = Path.of("target", "browser-it");
    private static final long BOOT_SECONDS = 180;
    private static final Pattern RTT = Pattern.compile("round-trip min/avg/max = ([\\d.]+)/([\\d.]+)/([\\d.]+) ms");
    private static final Pattern LEASE = Pattern.compile("udhcpc: lease (10\\.0\\.2\\.\\d+)/24 router (\\S+) dns (\\S+)"
            + " mtu (\\S+)");
    private static final Pattern KERNEL_UP = Pattern.compile("init: kernel up at ([\\d.]+) s");
    private static final Pattern PROMPT = Pattern.compile("VM ready: uptime ([\\d.]+) s");
    private static final String WEB_HOST = FieldBed.INTERNET_HOST;
    private static final String RESOLVER = FieldBed.INTERNET_RESOLVER;
    private static final int FILE_BYTES = 1 << 20;
    private static final AtomicInteger COMMANDS = new AtomicInteger();
    private static final String HOST_ADDRESS = "10.0.2.250";
    private static final String RAW_ADDRESS = "10.0.2.251";

    @Test
    void twoBrowserVmsOneOverWebTransportOneOverWebSocketShareTheLanAndReachTheInternet() throws Exception {
        NetnsTestBed.requireTools("ip", "dnsmasq", "python3", "ss", "ping");
        buildImage();
        Path site = Files.createTempDirectory("rr-v86-site");
        byte[] file = new byte[FILE_BYTES];
        new Random(86).nextBytes(file);
        Files.write(site.resolve("file"), file);
        String fileSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(file));
        try (FieldBed field = FieldBed.create()) {
            startInternet(field, site);
            RelayProcess relay = field.startRelay("v86", "--v86-dir", Path.of("target", "v86").toString(),
                    "--dns", RESOLVER, "--allow", "203.0.113.0/24");
            String base = pageBase(field);
            try (Browsers.Running chromium = launchChromium(field, relay, "v86-lan",
                    URI.create(base + "?transport=webtransport"));
                 DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                devTools.openTab(URI.create(base + "?transport=websocket"));
                DevTools.Page wt = page(devTools, "transport=webtransport");
                DevTools.Page ws = page(devTools, "transport=websocket");
                try {
                    exercise(wt, ws, chromium, fileSha256, relay, field.relayAddress(), devTools);
                    upstreamClientJoins(field, relay, devTools, wt);
                } catch (Throwable failure) {
                    try {
                        screenshots(wt, ws); // what the consoles showed when it failed
                    } catch (Exception e) {
                        failure.addSuppressed(e);
                    }
                    throw withState(failure, field, wt, ws);
                }
                screenshots(wt, ws);
            }
        } finally {
            Files.deleteIfExists(site.resolve("file"));
            Files.deleteIfExists(site);
        }
    }

    private static void exercise(DevTools.Page wt, DevTools.Page ws, Browsers.Running chromium, String fileSha256,
            RelayProcess relay, String relayHost, DevTools devTools) throws Exception {
        long bootWt = awaitBoot(wt, chromium);
        long bootWs = awaitBoot(ws, chromium);
        System.out.println("[facts] v86 boot, page load to shell ('VM ready'): WebTransport tab " + bootWt
                + " ms, WebSocket tab " + bootWs + " ms; guest uptime when /init starts " + guestLine(wt, KERNEL_UP)
                + " s / " + guestLine(ws, KERNEL_UP) + " s, at the prompt " + guestLine(wt, PROMPT) + " s / "
                + guestLine(ws, PROMPT) + " s");

        // DHCP: address, router, resolver and MTU, applied by the image's udhcpc script.
        String addressWt = lease(wt, 1185);
        String addressWs = lease(ws, 1185);
        assertThat(addressWt).as("the two VMs' leases").isNotEqualTo(addressWs);

        SoftAssertions soft = new SoftAssertions();
        for (DevTools.Page page : List.of(wt, ws)) {
            String config = run(page, "ip -o link show eth0; ip -o -4 addr show eth0; ip route; cat /etc/resolv.conf",
                    20);
            soft.assertThat(config).as("network configuration of " + label(page)).contains("mtu 1185",
                    "default via 10.0.2.2 dev eth0", "nameserver 10.0.2.3");
        }

        String pingGatewayWt = run(wt, "ping -c 5 -i 0.5 10.0.2.2", 40);
        String pingGatewayWs = run(ws, "ping -c 5 -i 0.5 10.0.2.2", 40);
        String pingWtToWs = run(wt, "ping -c 5 -i 0.5 " + addressWs, 40);
        String pingWsToWt = run(ws, "ping -c 5 -i 0.5 " + addressWt, 40);
        for (String[] ping : List.of(new String[] {"WT VM -> gateway", pingGatewayWt},
                new String[] {"WS VM -> gateway", pingGatewayWs}, new String[] {"WT VM -> WS VM", pingWtToWs},
                new String[] {"WS VM -> WT VM", pingWsToWt})) {
            System.out.println("[facts] ping " + ping[0] + " (inside the browser VM): " + rtt(ping[1]));
            soft.assertThat(ping[1]).as(ping[0]).containsPattern("5 packets transmitted, [45] packets received");
        }
        // ICMP through the relay's ICMP NAT to a host on the test internet (the relay namespace allows echo sockets).
        String pingInternet = run(ws, "ping -c 3 -i 0.5 " + WEB_HOST, 30);
        System.out.println("[facts] ping WS VM -> " + WEB_HOST + " (ICMP NAT): " + rtt(pingInternet));
        soft.assertThat(pingInternet).as("WS VM -> internet host through the ICMP NAT")
                .containsPattern("3 packets transmitted, [23] packets received");
        String bigPing = run(wt, "ping -c 2 -s 1157 " + addressWs, 30); // 1157 + 8 + 20 = 1185 (the MTU)
        soft.assertThat(bigPing).as("full-MTU frames WT VM -> WS VM and back")
                .containsPattern("2 packets transmitted, [12] packets received");

        // DNS through the gateway's forwarder: named explicitly, and through resolv.conf from the lease.
        String lookupWt = run(wt, "nslookup www.relay.test 10.0.2.3", 30);
        String lookupWs = run(ws, "nslookup mail.relay.test", 30);
        soft.assertThat(lookupWt).as("nslookup www.relay.test 10.0.2.3 in the WT VM")
                .contains("10.0.2.3").containsPattern("Address:? (1: )?" + Pattern.quote(WEB_HOST))
                .doesNotContain("can't find").contains("rc=0");
        soft.assertThat(lookupWs).as("nslookup mail.relay.test (resolv.conf) in the WS VM")
                .contains("10.0.2.3").containsPattern("Address:? (1: )?" + Pattern.quote(WEB_HOST))
                .doesNotContain("can't find").contains("rc=0");

        // HTTP through the TCP NAT, timed by the guest's own clock (/proc/uptime, 10 ms resolution).
        for (DevTools.Page page : List.of(wt, ws)) {
            long started = System.nanoTime();
            String wget = run(page, "a=$(cut -d' ' -f1 /proc/uptime); wget -q -O /tmp/file http://" + WEB_HOST
                    + "/file; b=$(cut -d' ' -f1 /proc/uptime); echo \"wget $a $b $(wc -c < /tmp/file)\";"
                    + " sha256sum /tmp/file; rm -f /tmp/file", 120);
            long wallMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            soft.assertThat(wget).as("sha256 of the file " + label(page) + " fetched").contains(fileSha256);
            Matcher timing = Pattern.compile("wget ([\\d.]+) ([\\d.]+) (\\d+)").matcher(wget);
            if (timing.find()) {
                double seconds = Double.parseDouble(timing.group(2)) - Double.parseDouble(timing.group(1));
                long bytes = Long.parseLong(timing.group(3));
                soft.assertThat(bytes).as("bytes fetched by " + label(page)).isEqualTo(FILE_BYTES);
                System.out.printf("[facts] wget of %d bytes from http://%s/ in the %s VM: %.2f s guest time,"
                        + " %.0f KiB/s = %.2f Mbit/s (whole typed command incl. sha256sum: %d ms wall)%n", bytes,
                        WEB_HOST, label(page), seconds, bytes / 1024.0 / seconds, bytes * 8 / seconds / 1e6,
                        wallMillis);
            } else {
                soft.fail("no timing line from the wget in " + label(page) + ":\n" + wget);
            }
        }

        // A web preview: the WS VM's busybox httpd, opened in a new Chromium tab through the relay's TLS listener.
        String httpd = run(ws, "mkdir -p /tmp/www && echo preview-from-the-vm > /tmp/www/index.html"
                + " && busybox httpd -p 8080 -h /tmp/www", 20);
        devTools.openTab(URI.create("https://" + relayHost + ":" + FieldBed.RELAY_PORT + "/net/default/vm/"
                + addressWs + ":8080/index.html"));
        String shown = "";
        DevTools.Page preview = null;
        long previewStart = System.nanoTime();
        long previewDeadline = previewStart + TimeUnit.SECONDS.toNanos(30);
        while (!shown.contains("preview-from-the-vm") && System.nanoTime() - previewDeadline < 0) {
            if (preview == null) {
                List<DevTools.Page> tabs = devTools.pages("/vm/" + addressWs);
                preview = tabs.isEmpty() ? null : tabs.getFirst();
            }
            if (preview != null) {
                shown = String.valueOf(preview.evaluate("document.body ? document.body.innerText : ''"));
            }
            Thread.sleep(250);
        }
        System.out.printf("[facts] web preview of the WS VM's busybox httpd in a Chromium tab: %d ms%n",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - previewStart));
        soft.assertThat(shown).as("the WS VM's busybox httpd through the preview (httpd: %s)", httpd)
                .contains("preview-from-the-vm");

        soft.assertThat(String.valueOf(ws.evaluate("vm.events.join('\\n')"))).as("the WebSocket NIC's URL")
                .contains("NIC on wss://" + relayHost + ":" + FieldBed.RELAY_PORT + "/");
        System.out.println("[facts] nic counters in the WebTransport tab: "
                + wt.evaluate("JSON.stringify({sent: vm.nic.sent, received: vm.nic.received,"
                        + " dropped: vm.nic.dropped, maxDatagramSize: vm.nic.maxDatagramSize})"));
        // What the VMs sent arrived as sent: a frame carrying another's bytes fails the gateway's parse.
        String metrics = relay.metrics();
        for (String reason : List.of("malformed", "bad_checksum", "nat_tcp_malformed", "nat_tcp_bad_checksum")) {
            soft.assertThat(RelayProcess.metric(metrics, "relay_drops_total{reason=\"" + reason + "\"}"))
                    .as("frames from the VMs the relay dropped as " + reason).isZero();
        }
        soft.assertThat(relay.isAlive()).as("relay alive").isTrue();
        soft.assertAll();
    }

    /**
     * A framed-protocol client and a raw-frame session (one page, a third tab) and a connected host join the VMs'
     * LAN; the WebTransport VM pings both page members, the host pings the framed client, the client pings the host.
     */
    private static void upstreamClientJoins(FieldBed field, RelayProcess relay, DevTools devTools, DevTools.Page wt)
            throws Exception {
        LanHost host = field.addLanHost("v86host", HOST_ADDRESS, LinkProfile.CLEAN);
        try (TestPageServer pages = new TestPageServer(line -> System.out.println("[page] " + line))) {
            pages.expectReport();
            devTools.openTab(UpstreamClientPage.url(pages, field, relay, HOST_ADDRESS, RAW_ADDRESS));
            PageReport report = pages.awaitReport(60, TimeUnit.SECONDS);
            String address = UpstreamClientPage.assignedAddress(report);
            System.out.println("[facts] riscv-vm framed client beside the v86 VMs: assigned " + address
                    + ", ping to the connected host " + report.number("steps.upstreamToHost.ping.rttMs") + " ms");
            SoftAssertions soft = new SoftAssertions();
            for (String member : List.of(address, RAW_ADDRESS)) {
                String ping = run(wt, "ping -c 3 -i 0.5 " + member, 30);
                soft.assertThat(ping).as("WT VM -> " + member).containsPattern("3 packets transmitted, [23] packets"
                        + " received");
            }
            CommandResult fromHost = host.ping(address, 3, 0.2);
            soft.assertThat(fromHost.succeeded()).as("connected host -> framed client: " + fromHost.describe())
                    .isTrue();
            soft.assertAll();
        }
    }

    /**
     * The test internet behind the relay's namespace ({@link FieldBed#addInternet}): a web server on 203.0.113.10
     * and a resolver on 203.0.113.53 that knows relay.test.
     */
    private static void startInternet(FieldBed field, Path site) throws Exception {
        Namespace internet = field.addInternet();
        NetnsTestBed bed = field.bed();
        bed.startInBackground(internet, "python3", "-m", "http.server", "--bind", WEB_HOST, "--directory",
                site.toString(), "80");
        bed.startInBackground(internet, "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--pid-file",
                "--port=53", "--listen-address=" + RESOLVER, "--bind-interfaces", "--no-resolv", "--no-hosts",
                // --local: the zone is answered from local data only, so AAAA gets an empty answer, not REFUSED.
                "--address=/relay.test/" + WEB_HOST, "--local=/relay.test/");
        internet.awaitListening("-ltn", WEB_HOST + ":80");
        internet.awaitListening("-lun", RESOLVER + ":53");
    }

    /**
     * {@code failure} with what the pages' NICs and the relay's TCP NAT saw, so a failure in CI says whether the
     * session ended, frames were dropped, or a connection timed out.
     */
    static AssertionError withState(Throwable failure, FieldBed field, DevTools.Page... pages) {
        StringBuilder state = new StringBuilder(String.valueOf(failure.getMessage()));
        for (DevTools.Page page : pages) {
            try {
                state.append("\n[").append(label(page)).append(" tab] ").append(page.evaluate(
                        "JSON.stringify({events: vm.events, nic: vm.nic ? {state: vm.nic.state, sent: vm.nic.sent,"
                        + " received: vm.nic.received, dropped: vm.nic.dropped, sessions: vm.nic.sessions} : null})"));
            } catch (Exception e) {
                state.append("\n[").append(label(page)).append(" tab] unreadable: ").append(e.getMessage());
            }
        }
        CommandResult scrape = field.relayNamespace().exec(java.time.Duration.ofSeconds(10), "curl", "-sS",
                field.relay().adminUrl("/metrics"));
        state.append("\n[relay /metrics]");
        for (String line : scrape.stdout().split("\n")) {
            if (!line.startsWith("#") && line.matches("relay_(nat_tcp|drops|sessions|websocket).*")
                    && !line.endsWith(" 0") && !line.endsWith(" 0.0")) {
                state.append("\n  ").append(line);
            }
        }
        if (!scrape.succeeded()) {
            state.append("\n  unreadable: ").append(scrape.describe());
        }
        AssertionError detailed = new AssertionError(state.toString(), failure);
        for (Throwable suppressed : failure.getSuppressed()) {
            detailed.addSuppressed(suppressed);
        }
        return detailed;
    }

    /** The demo page's URL on the field bed's relay (its own HTTPS listener). */
    static String pageBase(FieldBed field) {
        return "https://" + field.relayAddress() + ":" + FieldBed.RELAY_PORT + "/";
    }

    /**
     * Headless Chromium with its DevTools port open, showing {@code first}, that accepts exactly the relay's
     * self-signed certificate (as a user does who opens the page once and accepts the warning).
     */
    static Browsers.Running launchChromium(FieldBed field, RelayProcess relay, String label, URI first)
            throws Exception {
        String spki = PinnedTls.spkiPin(field.relayAddress(), FieldBed.RELAY_PORT, relay.certificateHash());
        return Browsers.launch(Browsers.Kind.CHROMIUM, List.of(first), field.relayAddress(), label,
                List.of("--remote-debugging-port=0",
                        // "Accept the warning" for exactly the relay's self-signed certificate.
                        "--ignore-certificate-errors-spki-list=" + spki,
                        // Tabs running VMs side by side: none may be throttled as a background tab.
                        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                        "--disable-backgrounding-occluded-windows", "--window-size=1000,900"));
    }

    /**
     * Runs udhcpc in the VM and returns the leased address, after checking what the lease carried (the relay's
     * {@code --mtu} as {@code mtu}).
     */
    static String lease(DevTools.Page page, int mtu) throws Exception {
        String udhcpc = run(page, "udhcpc -i eth0 -n -q -t 5 -O mtu", 40);
        Matcher lease = LEASE.matcher(udhcpc);
        assertThat(lease.find()).as("udhcpc lease line in " + label(page) + ":\n" + udhcpc).isTrue();
        assertThat(lease.group(2)).as("router").isEqualTo("10.0.2.2");
        assertThat(lease.group(3)).as("dns").isEqualTo("10.0.2.3");
        assertThat(lease.group(4)).as("mtu").isEqualTo(Integer.toString(mtu));
        System.out.println("[facts] udhcpc lease in the " + label(page) + " VM: " + lease.group(1));
        return lease.group(1);
    }

    /** One PNG per tab, and both consoles side by side in one. */
    private static void screenshots(DevTools.Page wt, DevTools.Page ws) throws Exception {
        Files.createDirectories(SCREENSHOTS);
        Path wtPng = SCREENSHOTS.resolve("v86-webtransport-tab.png");
        Path wsPng = SCREENSHOTS.resolve("v86-websocket-tab.png");
        wt.screenshot(wtPng);
        ws.screenshot(wsPng);
        BufferedImage left = ImageIO.read(wtPng.toFile());
        BufferedImage right = ImageIO.read(wsPng.toFile());
        BufferedImage both = new BufferedImage(left.getWidth() + right.getWidth() + 8,
                Math.max(left.getHeight(), right.getHeight()), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = both.createGraphics();
        g.setColor(Color.DARK_GRAY);
        g.fillRect(0, 0, both.getWidth(), both.getHeight());
        g.drawImage(left, 0, 0, null);
        g.drawImage(right, left.getWidth() + 8, 0, null);
        g.dispose();
        Path bothPng = SCREENSHOTS.resolve("v86-both-consoles.png");
        ImageIO.write(both, "png", bothPng.toFile());
        System.out.println("[facts] screenshots: " + bothPng.toAbsolutePath() + " (both consoles), "
                + wtPng.toAbsolutePath() + ", " + wsPng.toAbsolutePath());
    }

    /** scripts/build-v86-image.sh: skips itself when the image is up to date. */
    static void buildImage() throws Exception {
        SetupScript.run("scripts/build-v86-image.sh", "v86-build.log", 600);
    }

    static DevTools.Page page(DevTools devTools, String urlPart) throws Exception {
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

    static long awaitBoot(DevTools.Page page, Browsers.Running chromium) throws Exception {
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

    /** The first group of {@code line} in the VM's console output, or "?". */
    private static String guestLine(DevTools.Page page, Pattern line) throws Exception {
        Matcher m = line.matcher(String.valueOf(page.evaluate("vm.output()")));
        return m.find() ? m.group(1) : "?";
    }

    static String label(DevTools.Page page) {
        return page.url().contains("transport=websocket") ? "WebSocket"
                : page.url().contains("transport=wisp") ? "WISP" : "WebTransport";
    }

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
                System.out.println("[vm " + label(page) + "] $ " + command + "\n" + result);
                return result;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("'" + command + "' did not finish within " + timeoutSeconds + " s; console:\n"
                + output);
    }

    static String rtt(String ping) {
        Matcher m = RTT.matcher(ping);
        return m.find() ? "rtt min/avg/max " + m.group(1) + "/" + m.group(2) + "/" + m.group(3) + " ms" : "no rtt";
    }
}
