package dev.riscvrelay.relay.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient.CloseInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay's operations against the real relay process: curl reads {@code /metrics}, {@code /healthz} and
 * {@code /cert-hash}, tshark reads the pcap capture, SIGTERM under load from WebTransport clients.
 */
class OperationsIT {

    private static final long VM_MAC = 0x02_00_00_00_00_42L;
    private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(20);

    @TempDir
    Path dir;

    @Test
    void curlReadsMetricsHealthAndHashTsharkReadsTheCaptureAndTheSummaryIsJson() throws Exception {
        Path pcap = dir.resolve("lan.pcap");
        try (RelayProcess relay = RelayProcess.start("ops-admin", List.of("--pcap", pcap.toString(),
                "--log-format", "json", "--summary-interval", "1"))) {
            LanClient vm = LanClient.connect(relay.port(), relay.certificateHash(), VM_MAC).get(20, TimeUnit.SECONDS);
            try {
                assertThat(vm.resolveGateway("10.0.2.15")).isEqualTo(LanClient.GATEWAY_MAC);

                // The loop publishes table sizes once a second: wait for a snapshot taken after the ARP exchange
                // (both MACs learned), not just after the session opened.
                String metrics = awaitMetrics(relay, "relay_mac_table_entries 2.0");
                assertThat(metricValue(metrics, "relay_sessions")).isEqualTo(1);
                assertThat(metricValue(metrics, "relay_frames_in_total")).isGreaterThanOrEqualTo(2);
                assertThat(metricValue(metrics, "relay_frames_out_total")).isGreaterThanOrEqualTo(2);
                assertThat(metricValue(metrics, "relay_sessions_opened_total")).isEqualTo(1);
                assertThat(metricValue(metrics, "relay_gateway_arp_replies_total")).isEqualTo(1);
                assertThat(metricValue(metrics, "relay_mac_table_entries")).isEqualTo(2);
                assertThat(metrics).contains("# TYPE relay_drops_total counter",
                        "relay_drops_total{reason=\"queue_full\"} 0.0", "relay_drops_total{reason=\"runt\"} 0.0",
                        "relay_nat_flows{protocol=\"udp\"} 0.0", "relay_nat_flows{protocol=\"icmp\"} 0.0",
                        "relay_nat_flows{protocol=\"tcp\"} 0.0",
                        "relay_dhcp_leases 0.0", "relay_port_queue_frames ", "relay_certificate_expiry_seconds ");

                CommandResult hash = curl("-s", "-i", relay.adminUrl("/cert-hash"));
                assertThat(hash.stdout()).startsWith("HTTP/1.1 200");
                assertThat(hash.stdout().toLowerCase()).contains("access-control-allow-origin: *");
                assertThat(hash.stdout()).endsWith("\r\n\r\n" + relay.certificateHash());
                CommandResult preflight = curl("-s", "-i", "-X", "OPTIONS", "-H", "Origin: https://vm.example",
                        "-H", "Access-Control-Request-Method: GET", relay.adminUrl("/cert-hash"));
                assertThat(preflight.stdout()).startsWith("HTTP/1.1 204");
                assertThat(preflight.stdout().toLowerCase()).contains("access-control-allow-origin: *");

                CommandResult health = curl("-s", "-w", "\n%{http_code}", relay.adminUrl("/healthz"));
                assertThat(health.stdout()).contains("\"status\":\"ok\"", "\"udpSocketOpen\":true",
                        "\"eventLoopResponds\":true", "\"sessions\":1",
                        "\"certificateSha256\":\"" + relay.certificateHash() + "\"").endsWith("\n200");

                assertThat(curl("-s", "-o", "/dev/null", "-w", "%{http_code}", relay.adminUrl("/pcap/stop")).stdout())
                        .as("a GET does not stop the capture").isEqualTo("405");
                assertThat(curl("-s", "-X", "POST", relay.adminUrl("/pcap/stop")).stdout())
                        .isEqualTo("capture written to " + pcap + "\n");
                assertThat(tsharkArp(pcap)).containsExactly(
                        "02:00:00:00:00:42\tff:ff:ff:ff:ff:ff\t1", "52:54:00:12:34:56\t02:00:00:00:00:42\t2");

                // A second capture through the admin endpoint replaces the first.
                assertThat(curl("-s", "-X", "POST", relay.adminUrl("/pcap/start")).stdout())
                        .isEqualTo("capturing to " + pcap + "\n");
                assertThat(vm.resolveGateway("10.0.2.16")).isEqualTo(LanClient.GATEWAY_MAC);
                assertThat(curl("-s", "-X", "POST", relay.adminUrl("/pcap/stop")).stdout()).startsWith("capture written");
                assertThat(tsharkArp(pcap)).hasSize(2);
                assertThat(metricValue(curl("-s", relay.adminUrl("/metrics")).stdout(),
                        "relay_pcap_frames_written_total")).isEqualTo(4);

                String summary = awaitOutput(relay, Pattern.compile(
                        "^\\{\"time\":\"[0-9T:.Z-]+\",\"level\":\"INFO\",\"logger\":\"dev\\.riscvrelay\\.relay\\.summary\","
                                + "\"message\":\"summary: sessions 1 .*frames in \\d+ .*drops 0 .*nat flows udp 0 icmp 0 tcp 0.*\"}$"));
                assertThat(summary.lines()).hasSize(1);
            } finally {
                vm.close();
            }
        }
    }

    /**
     * A jar overwritten while its relay runs (a rebuild, an upgrade by copying over it) leaves the JVM unable to
     * load the classes a stop still needs. The stop signal must end the relay anyway (the parts that failed to close
     * are logged), rather than leave it half closed and holding its ports.
     */
    @Test
    void aStopSignalEndsTheRelayEvenWhenItsJarWasOverwrittenWhileItRan() throws Exception {
        Path jar = dir.resolve("relay-copy.jar");
        Files.copy(Path.of("target", "riscv-relay.jar"), jar);
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        RelayProcess relay = RelayProcess.start("ops-overwritten-jar",
                List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString()), jar);
        try {
            // In place, as cp does: the same file, other bytes.
            Files.write(jar, "not a jar any more".getBytes(StandardCharsets.US_ASCII));

            long before = System.nanoTime();
            int status = relay.terminate(15);
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before);

            System.out.printf("[facts] stop with an overwritten jar: exit %d after %d ms%n", status, tookMillis);
            assertThat(status).as("exit status after SIGTERM").isZero();
            // Each loop group that cannot report its stop is given up after 3 s.
            assertThat(tookMillis).as("milliseconds from SIGTERM to exit").isLessThan(12_000);
        } finally {
            relay.close();
        }
    }

    @Test
    void sigtermUnderLoadClosesEverySessionWithAReasonExitsZeroAndTheStateKeepsTheHash() throws Exception {
        Path state = dir.resolve("state");
        RelayProcess relay = RelayProcess.start("ops-sigterm", List.of("--state-dir", state.toString()));
        String hash = relay.certificateHash();
        List<LanClient> vms = new ArrayList<>();
        AtomicBoolean loading = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong();
        Thread load = null;
        try {
            for (int i = 0; i < 4; i++) {
                vms.add(LanClient.connect(relay.port(), hash, 0x02_00_00_00_01_00L + i).get(20, TimeUnit.SECONDS));
            }
            for (LanClient vm : vms) {
                vm.resolveGateway("10.0.2." + (20 + vms.indexOf(vm)));
            }
            // Broadcast frames from every VM, flooded to the three others and the gateway: bounded in count and time.
            load = Thread.ofPlatform().name("load").start(() -> {
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (loading.get() && sent.get() < 2_000_000 && System.nanoTime() < end) {
                    for (LanClient vm : vms) {
                        if (vm.sendBroadcast(600)) {
                            sent.incrementAndGet();
                        }
                    }
                    if (sent.get() % 64 == 0) {
                        Thread.onSpinWait();
                    }
                }
            });
            long deadline = System.nanoTime() + TIMEOUT_NANOS;
            while (vms.stream().anyMatch(vm -> vm.framesReceived() < 100) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(vms).allSatisfy(vm -> assertThat(vm.framesReceived()).isGreaterThanOrEqualTo(100));

            long before = System.nanoTime();
            int status = relay.terminate(15);
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before);

            assertThat(status).as("exit status after SIGTERM").isZero();
            assertThat(tookMillis).as("milliseconds from SIGTERM to exit").isLessThan(5000);
            for (LanClient vm : vms) {
                CloseInfo closed = vm.client.closed().get(10, TimeUnit.SECONDS);
                assertThat(closed.byPeer()).isTrue();
                assertThat(closed.reason()).isEqualTo("relay shutting down");
            }
        } finally {
            loading.set(false);
            if (load != null) {
                load.join(10_000);
            }
            vms.forEach(LanClient::close);
            relay.close();
        }

        try (RelayProcess restarted = RelayProcess.start("ops-sigterm-restart",
                List.of("--state-dir", state.toString()))) {
            assertThat(restarted.certificateHash()).as("hash after a restart with the same --state-dir")
                    .isEqualTo(hash);
            assertThat(restarted.terminate(15)).isZero();
        }
    }

    /** Polls /metrics until it contains {@code expected}. */
    private static String awaitMetrics(RelayProcess relay, String expected) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        String metrics = "";
        while (System.nanoTime() < deadline) {
            metrics = curl("-s", relay.adminUrl("/metrics")).stdout();
            if (metrics.contains(expected + "\n")) {
                return metrics;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("/metrics never showed '" + expected + "':\n" + metrics);
    }

    private static String awaitOutput(RelayProcess relay, Pattern line) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT_NANOS;
        while (System.nanoTime() < deadline) {
            for (String each : relay.output()) {
                if (line.matcher(each).matches()) {
                    return each;
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the relay never printed a line matching " + line + ":\n"
                + String.join("\n", relay.output()));
    }

    static double metricValue(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + " (\\S+)$").matcher(metrics);
        if (!m.find()) {
            throw new AssertionError("no sample " + name + " in /metrics:\n" + metrics);
        }
        return Double.parseDouble(m.group(1));
    }

    static CommandResult curl(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("curl", "--max-time", "10"));
        command.addAll(List.of(arguments));
        return run(command);
    }

    /** Each ARP frame in the capture as {@code source\tdestination\topcode}, in order. */
    private static List<String> tsharkArp(Path pcap) throws IOException, InterruptedException {
        CommandResult result = run(List.of("tshark", "-r", pcap.toString(), "-Y", "arp", "-T", "fields",
                "-e", "eth.src", "-e", "eth.dst", "-e", "arp.opcode"));
        assertThat(result.exitCode()).as("tshark: " + result.stderr()).isZero();
        return result.stdout().lines().toList();
    }

    private static CommandResult run(List<String> command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).start();
        } catch (IOException e) {
            throw new AssertionError(command.getFirst() + " is missing: run scripts/install-test-deps.sh", e);
        }
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        byte[] err = process.getErrorStream().readAllBytes();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish");
        }
        return new CommandResult(command, process.exitValue(), false, new String(out, StandardCharsets.UTF_8),
                new String(err, StandardCharsets.UTF_8));
    }
}
