package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ClusterBed;
import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.DhcpClients;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The demo page on a cluster ({@link ClusterBed}: three relays joined through NATS, a host connected to each): a
 * headless Chromium tab opens the page from relay a and boots Linux in v86, whose NIC is a WebTransport session to
 * relay a. Every relay runs with {@code --page-relays} naming all three, so the page knows where else to go.
 *
 * <ul>
 *   <li>The VM leases an address by DHCP from the cluster's shared leases, distinct from the one a DHCP client on
 *       relay b holds, and is on one LAN with the hosts on relays b and c: pings both ways, and an HTTP fetch from
 *       host b to the VM's busybox httpd.
 *   <li>Relay a is killed (SIGKILL: no goodbye to the browser or to NATS; its host answers the next datagram
 *       with ICMP port unreachable). The page connects to relay b, the next of its list, and the VM, with the same
 *       MAC, is on the LAN again with the same address, which a new DHCP exchange through relay b confirms.
 *   <li>Relay b hangs (SIGSTOP: nothing answers, not even ICMP). The page moves on to relay c once QUIC has given
 *       the connection up, and the VM keeps its address there too.
 * </ul>
 */
class ClusterBrowserIT {

    private static final Pattern LEASE = Pattern.compile("udhcpc: lease (10\\.0\\.2\\.\\d+)/24 router (\\S+)");
    private static final Pattern INET = Pattern.compile("inet (10\\.0\\.2\\.\\d+)/24");
    private static final Duration MOVE_TIMEOUT = Duration.ofSeconds(120);

    @Test
    void aBrowserVmAndHostsOnOtherRelaysAreOneLanAndTheVmKeepsItsAddressWhenItsRelayDies() throws Exception {
        V86BrowserLanIT.buildImage();
        try (ClusterBed cluster = ClusterBed.start((i, c) -> List.of("--v86-dir",
                Path.of("target", "v86").toString(), "--page-relays", String.join(",", relayUrls(c))))) {
            List<String> relays = relayUrls(cluster);
            FieldBed a = cluster.bed(0);

            // A DHCP client on relay b holds one address of the shared pool first.
            LanHost dhcpHost = cluster.bed(1).addConnectedHost("dhcpb", LinkProfile.CLEAN);
            dhcpHost.namespace().privateResolvConf();
            Path script = DhcpClients.writeUdhcpcScript(cluster.scratch());
            String hostLease = udhcpc(dhcpHost, script);

            String spki = PinnedTls.spkiPin(a.relayAddress(), FieldBed.RELAY_PORT, a.relay().certificateHash());
            List<String> relayHosts = List.of(a.relayAddress(), cluster.bed(1).relayAddress(),
                    cluster.bed(2).relayAddress());
            try (Browsers.Running chromium = Browsers.launch(Browsers.Kind.CHROMIUM,
                    List.of(URI.create(relays.get(0) + "?transport=webtransport")), relayHosts, "cluster-v86",
                    List.of("--remote-debugging-port=0",
                            // The page over HTTPS from relay a: "accept the warning" for exactly its certificate,
                            // which is the cluster's one certificate.
                            "--ignore-certificate-errors-spki-list=" + spki,
                            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                            "--window-size=1000,900"));
                 DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                DevTools.Page page = V86BrowserLanIT.page(devTools, "transport=webtransport");
                try {
                    exercise(cluster, page, chromium, relays, hostLease, dhcpHost, script);
                } catch (Throwable failure) {
                    try {
                        failure.addSuppressed(new AssertionError("page events:\n"
                                + page.evaluate("window.vm ? vm.events.join('\\n') : ''")));
                        page.screenshot(Path.of("target", "browser-it", "cluster-v86.png"));
                    } catch (Exception e) {
                        failure.addSuppressed(e);
                    }
                    throw failure;
                }
                page.screenshot(Path.of("target", "browser-it", "cluster-v86.png"));
            }
        }
    }

    private static void exercise(ClusterBed cluster, DevTools.Page page, Browsers.Running chromium,
            List<String> relays, String hostLease, LanHost dhcpHost, Path script) throws Exception {
        long bootMs = V86BrowserLanIT.awaitBoot(page, chromium);
        assertThat(page.evaluate("JSON.stringify(vm.relays)")).as("the page's relays: its own, then --page-relays")
                .isEqualTo("[\"" + String.join("\",\"", relays) + "\"]");
        assertThat(page.evaluate("vm.nic.state + ' ' + vm.nic.url")).isEqualTo("connected " + relays.get(0));

        String lease = vmLease(page);
        System.out.printf("[facts] cluster browser: v86 booted in %d ms; VM on relay a leased %s, the DHCP client on"
                + " relay b holds %s%n", bootMs, lease, hostLease);
        assertThat(lease).as("the VM's lease beside the other relays' addresses")
                .isNotEqualTo(hostLease).isNotIn(cluster.host(0).address(), cluster.host(1).address(),
                        cluster.host(2).address());
        String mac = V86BrowserLanIT.run(page, "cat /sys/class/net/eth0/address", 20).lines()
                .filter(line -> line.matches("[0-9a-f:]{17}")).findFirst().orElseThrow();

        LanHost hostB = cluster.host(1);
        LanHost hostC = cluster.host(2);
        for (String peer : List.of(hostB.address(), hostC.address(), hostLease)) {
            String ping = V86BrowserLanIT.run(page, "ping -c 3 -i 0.5 " + peer, 30);
            assertThat(ping).as("VM on relay a -> %s on another relay", peer)
                    .containsPattern("3 packets transmitted, [23] packets received");
        }
        CommandResult fromC = hostC.ping(lease, 3, 0.3);
        assertThat(fromC.succeeded()).as("host c on relay c -> the VM: %s", fromC).isTrue();
        V86BrowserLanIT.run(page, "mkdir -p /tmp/www && echo served-by-the-browser-vm > /tmp/www/index.html"
                + " && busybox httpd -p 8080 -h /tmp/www", 20);
        CommandResult fetch = hostB.exec(Duration.ofSeconds(30), "curl", "-sS", "--max-time", "20",
                "http://" + lease + ":8080/index.html");
        assertThat(fetch.stdout()).as("host b fetches from the VM's httpd over TCP: %s", fetch)
                .contains("served-by-the-browser-vm");

        // Relay a dies. The page finds relay b, the next in its list; the VM keeps MAC, address and LAN.
        long killed = System.nanoTime();
        cluster.bed(0).relay().kill();
        String state = awaitNic(page, "connected " + relays.get(1) + " 2", killed);
        long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
        assertThat(state).as("the NIC's state %d ms after relay a was killed", movedMs)
                .isEqualTo("connected " + relays.get(1) + " 2");
        String status = String.valueOf(page.evaluate("document.getElementById('relay-status').textContent"));
        assertThat(status).as("what the page shows").startsWith("relay " + relays.get(1) + ": connected");
        String events = String.valueOf(page.evaluate("vm.events.join('\\n')"));
        assertThat(events).contains("session to " + relays.get(0) + " ended",
                "WebTransport session open to " + relays.get(1));
        System.out.printf("[facts] cluster browser: relay a killed; the page had a session to relay b after %d ms%n",
                movedMs);

        long answerDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean answers = false;
        while (!answers && System.nanoTime() < answerDeadline) {
            answers = V86BrowserLanIT.run(page, "ping -c 1 -W 2 " + hostC.address(), 20)
                    .contains("1 packets received");
        }
        assertThat(answers).as("the VM, now through relay b, reaches host c on relay c").isTrue();
        assertThat(V86BrowserLanIT.run(page, "ip -o -4 addr show dev eth0", 20)).as("its address, kept")
                .contains("inet " + lease + "/24");
        assertThat(V86BrowserLanIT.run(page, "cat /sys/class/net/eth0/address", 20)).contains(mac);
        assertThat(vmLease(page)).as("its lease, renewed through relay b").isEqualTo(lease);
        for (LanHost host : List.of(hostB, hostC, dhcpHost)) {
            CommandResult ping = host.ping(lease, 3, 0.3);
            assertThat(ping.succeeded()).as("%s -> the VM on relay b: %s", host.namespace().name(), ping).isTrue();
        }
        CommandResult again = hostC.exec(Duration.ofSeconds(30), "curl", "-sS", "--max-time", "20",
                "http://" + lease + ":8080/index.html");
        assertThat(again.stdout()).as("host c fetches from the VM's httpd, which kept running: %s", again)
                .contains("served-by-the-browser-vm");
        assertThat(udhcpc(dhcpHost, script)).as("the DHCP client on relay b keeps its own").isEqualTo(hostLease);

        // Relay b hangs (SIGSTOP): its socket takes the datagrams and nothing answers, not even ICMP, as when a
        // machine freezes or its network goes. Only QUIC's own timeouts end the session; then relay c takes over.
        long frozen = System.nanoTime();
        CommandResult stop = dev.riscvrelay.relay.testbed.NetnsTestBed.run(Duration.ofSeconds(10), "kill", "-STOP",
                Long.toString(cluster.bed(1).relay().pid()));
        assertThat(stop.succeeded()).as("%s", stop).isTrue();
        String onC;
        try {
            onC = awaitNic(page, "connected " + relays.get(2) + " 3", frozen);
        } finally {
            cluster.bed(1).relay().kill(); // a stopped process holds SIGTERM until SIGCONT: the bed's close would wait
        }
        long frozenMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozen);
        assertThat(onC).as("the NIC's state %d ms after relay b hung", frozenMs)
                .isEqualTo("connected " + relays.get(2) + " 3");
        System.out.printf("[facts] cluster browser: relay b hung (SIGSTOP); the page had a session to relay c after"
                + " %d ms%n", frozenMs);
        assertThat(vmLease(page)).as("its lease, renewed through relay c").isEqualTo(lease);
        CommandResult fromCAgain = hostC.ping(lease, 3, 0.3);
        assertThat(fromCAgain.succeeded()).as("host c -> the VM, both on relay c now: %s", fromCAgain).isTrue();
        System.out.println("[facts] cluster browser: nic " + page.evaluate("JSON.stringify({sessions: vm.nic.sessions,"
                + " sent: vm.nic.sent, received: vm.nic.received, dropped: vm.nic.dropped})"));
    }

    /** Waits until the NIC's "state url sessions" is {@code expected}; returns the last one seen. */
    private static String awaitNic(DevTools.Page page, String expected, long since) throws Exception {
        long deadline = since + MOVE_TIMEOUT.toNanos();
        String state = null;
        while (System.nanoTime() < deadline) {
            state = String.valueOf(page.evaluate("vm.nic.state + ' ' + vm.nic.url + ' ' + vm.nic.sessions"));
            if (expected.equals(state)) {
                break;
            }
            Thread.sleep(200);
        }
        return state;
    }

    /** https://RELAY:4433/ of each relay, as the root namespace (the browser) reaches them. */
    private static List<String> relayUrls(ClusterBed cluster) {
        List<String> urls = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            urls.add("https://" + cluster.bed(i).relayAddress() + ":" + FieldBed.RELAY_PORT + "/");
        }
        return urls;
    }

    /** udhcpc in the VM (the image's script applies the lease); the leased address. */
    private static String vmLease(DevTools.Page page) throws Exception {
        String udhcpc = V86BrowserLanIT.run(page, "udhcpc -i eth0 -n -q -t 5 -O mtu", 60);
        Matcher m = LEASE.matcher(udhcpc);
        assertThat(m.find()).as("udhcpc lease line:\n%s", udhcpc).isTrue();
        assertThat(m.group(2)).as("router").isEqualTo("10.0.2.2");
        return m.group(1);
    }

    private static String udhcpc(LanHost client, Path script) {
        CommandResult result = client.exec(Duration.ofSeconds(40), "busybox", "udhcpc", "-i", "eth0", "-n", "-q",
                "-t", "5", "-s", script.toString());
        assertThat(result.succeeded()).as("%s", result).isTrue();
        Matcher m = INET.matcher(client.exec("ip", "-4", "-o", "addr", "show", "dev", "eth0").orThrow().stdout());
        assertThat(m.find()).isTrue();
        return m.group(1);
    }
}
