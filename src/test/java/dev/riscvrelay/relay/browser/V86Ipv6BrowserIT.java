package dev.riscvrelay.relay.browser;

import static dev.riscvrelay.relay.browser.V86BrowserLanIT.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;

/**
 * IPv6 in the demo's browser VM: v86 in headless Chromium, its NIC over WebTransport, on a relay run with
 * {@code --mtu 1280} (IPv6's minimum link MTU; below it Linux turns IPv6 off on the interface). The VM boots at the
 * page's 1185 bytes without IPv6 on eth0, udhcpc applies the lease's 1280-byte MTU, and the kernel then configures
 * eth0 by SLAAC from the gateway's router advertisements: an address in fd00:10:0:2::/64, the DNS forwarder's IPv6
 * address in the RDNSS option. The VM pings the gateway's IPv6 address and a Linux host joined by {@code relay
 * connect} that configured itself the same way, and the host pings the VM.
 *
 * <p>The trade-off measured here: Chromium's WebTransport datagrams carry frames of at most about 1199 bytes, so a
 * full 1280-byte IPv6 packet (a 1294-byte frame) from the VM never leaves the page; the NIC counts it as dropped.
 */
class V86Ipv6BrowserIT {

    private static final Pattern SLAAC = Pattern.compile("inet6 (fd00:10:0:2:[0-9a-f:]+)/64 scope global");
    private static final Pattern HOST_SLAAC = Pattern.compile("(fd00:10:0:2:[0-9a-f:]+)/64");

    @Test
    void theBrowserVmGetsAnIpv6AddressBySlaacAndPingsTheGatewayAndAHost() throws Exception {
        NetnsTestBed.requireTools("ip", "ping");
        V86BrowserLanIT.buildImage();
        try (FieldBed field = FieldBed.create()) {
            RelayProcess relay = field.startRelay("v86v6", "--v86-dir", Path.of("target", "v86").toString(),
                    "--mtu", "1280");
            try (Browsers.Running chromium = V86BrowserLanIT.launchChromium(field, relay, "v86-ipv6",
                    URI.create(V86BrowserLanIT.pageBase(field) + "?transport=webtransport"));
                 DevTools devTools = DevTools.attach(chromium.profile(), 30, TimeUnit.SECONDS)) {
                DevTools.Page vm = V86BrowserLanIT.page(devTools, "transport=webtransport");
                try {
                    exercise(field, relay, vm, chromium);
                } catch (Throwable failure) {
                    try {
                        Path png = Path.of("target", "browser-it", "v86-ipv6-tab.png");
                        Files.createDirectories(png.getParent());
                        vm.screenshot(png);
                    } catch (Exception e) {
                        failure.addSuppressed(e);
                    }
                    throw failure;
                }
            }
        }
    }

    private static void exercise(FieldBed field, RelayProcess relay, DevTools.Page vm, Browsers.Running chromium)
            throws Exception {
        LanHost host = field.addConnectedHost("v6host", LinkProfile.CLEAN);
        long boot = V86BrowserLanIT.awaitBoot(vm, chromium);
        System.out.println("[facts] v86 boot, page load to shell: " + boot + " ms");

        // The kernel has IPv6 (built in), but not on eth0 while it is at the page's 1185 bytes.
        String before = run(vm, "ip -o link show eth0; cat /proc/net/if_inet6", 20);
        assertThat(before).as("IPv6 in the VM's kernel, off on eth0 below 1280 bytes").contains("mtu 1185")
                .containsPattern("(?m) lo$").doesNotContainPattern("(?m) eth0$");

        V86BrowserLanIT.lease(vm, 1280);
        // SLAAC after the MTU change: link-local, router solicitation, advertisement, duplicate address detection.
        String addresses = run(vm, "i=0; while [ $i -lt 30 ]; do ip -6 addr show dev eth0 | grep -q 'scope global'"
                + " && ! ip -6 addr show dev eth0 | grep -q tentative && break; i=$((i+1)); sleep 1; done;"
                + " ip -6 addr show dev eth0; ip -6 route; cat /proc/sys/net/ipv6/conf/eth0/mtu", 60);
        Matcher slaac = SLAAC.matcher(addresses);
        assertThat(slaac.find()).as("a SLAAC address in the relay's prefix on the VM's eth0:\n" + addresses)
                .isTrue();
        String vmAddress = slaac.group(1);
        System.out.println("[facts] v86 VM's SLAAC address: " + vmAddress);

        String hostAddress = host.namespace().awaitGlobalIpv6("eth0", Duration.ofSeconds(30));
        Matcher hostSlaac = HOST_SLAAC.matcher(hostAddress);
        assertThat(hostSlaac.matches()).as("the connected host's SLAAC address " + hostAddress).isTrue();
        String hostV6 = hostSlaac.group(1);

        SoftAssertions soft = new SoftAssertions();
        soft.assertThat(addresses).as("default route via the gateway's link-local address, the RA's MTU")
                .contains("default via fe80::5054:ff:fe12:3456 dev eth0").contains("1280");
        String pingGateway = run(vm, "ping -6 -c 3 -i 0.5 fd00:10:0:2::2", 30);
        System.out.println("[facts] ping -6 VM -> gateway fd00:10:0:2::2: " + V86BrowserLanIT.rtt(pingGateway));
        soft.assertThat(pingGateway).as("VM -> gateway over IPv6")
                .containsPattern("3 packets transmitted, [23] packets received");
        String pingHost = run(vm, "ping -6 -c 3 -i 0.5 " + hostV6, 30);
        System.out.println("[facts] ping -6 VM -> connected host " + hostV6 + ": " + V86BrowserLanIT.rtt(pingHost));
        soft.assertThat(pingHost).as("VM -> connected host over IPv6")
                .containsPattern("3 packets transmitted, [23] packets received");
        CommandResult fromHost = host.exec(Duration.ofSeconds(20), "ping", "-6", "-c", "3", "-i", "0.5", "-W", "2",
                vmAddress);
        soft.assertThat(fromHost.succeeded()).as("connected host -> VM over IPv6: " + fromHost.describe()).isTrue();

        // A full-MTU IPv6 packet (1232 + 8 + 40 = 1280 bytes, a 1294-byte frame) does not fit a Chromium datagram.
        long droppedBefore = ((Number) vm.evaluate("vm.nic.dropped")).longValue();
        String bigPing = run(vm, "ping -6 -c 1 -W 2 -s 1232 fd00:10:0:2::2", 20);
        long droppedAfter = ((Number) vm.evaluate("vm.nic.dropped")).longValue();
        System.out.println("[facts] 1280-byte ping -6 from the WebTransport VM: " + bigPing.lines()
                .filter(l -> l.contains("transmitted")).findFirst().orElse("?") + "; NIC drops " + droppedBefore
                + " -> " + droppedAfter);
        soft.assertThat(bigPing).as("a 1294-byte frame does not fit Chromium's WebTransport datagram")
                .contains("1 packets transmitted, 0 packets received");
        soft.assertThat(droppedAfter).as("the page's NIC counts the oversized frame").isGreaterThan(droppedBefore);
        soft.assertThat(relay.isAlive()).as("relay alive").isTrue();
        soft.assertAll();
    }
}
