package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.ConnectorProcess;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.Initramfs;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.util.ArrayList;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A real x86_64 Linux VM (Debian's kernel, a busybox initramfs built here) joins the relay's LAN through
 * {@code relay connect --qemu-dgram}, i.e. QEMU's {@code -netdev dgram}: no TAP, no privileges for QEMU's
 * network. On the field bed: QEMU and its connector share a client namespace (their dgram link on its loopback),
 * the connector's QUIC packets cross the 1500-MTU link to the relay in its own namespace, and the namespace host the
 * guest pings sits in another client namespace behind its own connector. The guest configures a static address at
 * the connector's MTU (1408 on this path), pings the gateway and the namespace host (also with full-size packets),
 * prints markers to its serial console and powers off. Always TCG: on this machine kind /dev/kvm exists but a KVM
 * guest hangs before its first console line, while TCG boots Debian's kernel to init in about two seconds. Bounded
 * by a timeout.
 */
class QemuGuestOnRelayIT {

    private static final Duration VM_TIMEOUT = Duration.ofSeconds(180);
    private static final String GUEST_IP = "10.0.2.30";
    private static final String INSTALL_STATIC_BUSYBOX =
            "apt-get install -y busybox-static (it replaces Debian's dynamically linked busybox package)";

    @Test
    void aVmOnQemuDgramPingsTheGatewayAndANamespaceHost() throws Exception {
        NetnsTestBed.requireTools("ip", "ping", "qemu-system-x86_64");
        Path kernel = newestKernel();
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isExecutable(busybox)) {
            throw new AssertionError("test needs /bin/busybox; install it: " + INSTALL_STATIC_BUSYBOX);
        }
        Path work = Files.createTempDirectory("rr-vm");
        Path serial = Path.of("target", "relay-logs", "qemu-guest-serial.log");
        Files.createDirectories(serial.getParent());
        Process qemu = null;
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("qemu");
            LanHost host = field.addLanHost("a", "10.0.2.15", LinkProfile.CLEAN);
            Namespace vm = field.addClientNamespace("vm");
            // A fresh namespace: nothing else uses its loopback's ports.
            int connectorPort = 10_000;
            int qemuPort = 10_001;
            ConnectorProcess connector = field.startConnector("qemu", vm, List.of("--url",
                    field.relayUrl(LinkProfile.CLEAN), "--cert-hash", field.relay().certificateHash(),
                    "--qemu-dgram", "127.0.0.1:" + connectorPort, "--qemu-remote", "127.0.0.1:" + qemuPort));
            connector.awaitReady(Duration.ofSeconds(30));
            assertThat(connector.mtu()).as("1472-byte QUIC packets on the 1500-byte path").isEqualTo(1408);
            assertThat(connector.lines()).anyMatch(line -> line.matches("QEMU dgram endpoint on \\S*127\\.0\\.0\\.1:"
                    + connectorPort + " for QEMU at \\S*127\\.0\\.0\\.1:" + qemuPort
                    + ", guest MTU 1408 \\(one datagram carries 1422-byte frames\\)"));

            Path initramfs = buildInitramfs(work, kernel, busybox, connector.mtu());
            List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", vm.name()));
            command.addAll(List.of("qemu-system-x86_64", "-accel", "tcg", "-m", "256",
                    "-nodefaults", "-display", "none", "-no-reboot", "-serial", "file:" + serial.toAbsolutePath(),
                    "-kernel", kernel.toString(), "-initrd", initramfs.toString(),
                    "-append", "console=ttyS0 panic=-1 quiet loglevel=3",
                    "-netdev", "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=" + qemuPort
                            + ",remote.type=inet,remote.host=127.0.0.1,remote.port=" + connectorPort,
                    "-device", "e1000,netdev=n0,mac=52:54:00:00:02:30"));
            Path qemuLog = work.resolve("qemu.log");
            long start = System.nanoTime();
            qemu = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(qemuLog.toFile()).start();
            boolean exited = qemu.waitFor(VM_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - start) / 1e9;
            String console = Files.exists(serial) ? Files.readString(serial, StandardCharsets.ISO_8859_1) : "";
            String qemuOutput = Files.readString(qemuLog);
            System.out.println("[qemu] " + qemuOutput.strip());
            System.out.println("[guest console]\n" + console);
            assertThat(exited).as("the VM powers off within " + VM_TIMEOUT + "; console:\n" + console).isTrue();
            LanThroughRelayIT.fact("QEMU guest (TCG) booted, pinged and powered off in %.1f s", seconds);
            assertThat(console).contains("RR-NET-UP mtu " + connector.mtu());
            assertThat(console).contains("RR-PING-GATEWAY-OK").contains("RR-PING-HOST-OK");
            assertThat(console).as("full-size (1408-byte) packets cross both ways").contains("RR-PING-FULL-OK");
            assertThat(console).contains("52:54:00:12:34:56");
            assertThat(host.exec("ip", "neigh", "show", GUEST_IP).orThrow().stdout())
                    .as("the namespace host learned the guest's MAC").contains("52:54:00:00:02:30");
        } finally {
            if (qemu != null && qemu.isAlive()) {
                qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            try (Stream<Path> files = Files.walk(work)) {
                for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    /** The newest /boot/vmlinuz-* (Debian's linux-image-amd64). */
    private static Path newestKernel() throws IOException {
        try (Stream<Path> boot = Files.list(Path.of("/boot"))) {
            return boot.filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
                    .max(Comparator.comparing(p -> p.getFileName().toString()))
                    .orElseThrow(() -> new AssertionError("test needs a kernel in /boot; install it: apt-get"
                            + " install -y linux-image-amd64"));
        }
    }

    /**
     * busybox, the e1000 driver (a module in Debian's kernel; its modules.dep lists no dependencies) when it is
     * not built in, and an init that brings up eth0, pings, prints markers and powers off.
     */
    private static Path buildInitramfs(Path work, Path kernel, Path busybox, int mtu) throws IOException {
        String version = kernel.getFileName().toString().substring("vmlinuz-".length());
        Path modules = Path.of("/lib/modules", version);
        Path e1000 = modules.resolve("kernel/drivers/net/ethernet/intel/e1000/e1000.ko");
        boolean builtIn = Files.exists(modules.resolve("modules.builtin"))
                && Files.readString(modules.resolve("modules.builtin")).contains("/e1000.ko");
        if (!builtIn && !Files.exists(e1000)) {
            throw new AssertionError("no e1000 driver for kernel " + version + " at " + e1000
                    + "; install the matching linux-image package");
        }
        String init = """
                #!/bin/busybox sh
                /bin/busybox mkdir -p /proc /sys /dev /usr/bin /usr/sbin /sbin
                /bin/busybox --install -s
                mount -t proc proc /proc
                mount -t sysfs sysfs /sys
                mount -t devtmpfs devtmpfs /dev 2>/dev/null
                [ -f /lib/e1000.ko ] && insmod /lib/e1000.ko
                ip link set lo up
                ip link set eth0 mtu MTU up
                ip address add GUEST/24 dev eth0
                echo "RR-NET-UP mtu $(cat /sys/class/net/eth0/mtu)"
                if ping -c 3 -w 20 10.0.2.2; then echo RR-PING-GATEWAY-OK; else echo RR-PING-GATEWAY-FAIL; fi
                if ping -c 3 -w 20 10.0.2.15; then echo RR-PING-HOST-OK; else echo RR-PING-HOST-FAIL; fi
                if ping -c 2 -w 20 -s PAYLOAD 10.0.2.15; then echo RR-PING-FULL-OK; else echo RR-PING-FULL-FAIL; fi
                ip neigh
                echo RR-DONE
                poweroff -f
                """.replace("PAYLOAD", Integer.toString(mtu - 28)).replace("MTU", Integer.toString(mtu))
                .replace("GUEST", GUEST_IP);
        Initramfs image = new Initramfs().directory("bin").directory("dev").directory("lib").directory("proc")
                .directory("sys").charDevice("dev/console", 5, 1)
                .staticExecutable("bin/busybox", busybox, INSTALL_STATIC_BUSYBOX)
                .script("init", init);
        if (!builtIn) {
            image.file("lib/e1000.ko", e1000, 0644);
        }
        return image.writeTo(work.resolve("initramfs.cpio"));
    }
}
