package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.RelayProcess;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClient;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import dev.riscvrelay.relay.wire.ArpPacket;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay as the Docker image runs it, without Docker: the Dockerfile's own ENTRYPOINT, as an unprivileged user
 * with no capabilities at all (setpriv), serving a real WebTransport client whose ARP request the gateway answers.
 */
class UnprivilegedRelayIT {

    private static final String IMAGE_JAR = "/opt/riscv-relay/riscv-relay.jar";
    private static final String NOBODY = "65534";
    private static final long CLIENT_MAC = 0x02_00_00_00_00_42L;

    @TempDir
    Path dir;

    @Test
    void dockerEntrypointServesAsUnprivilegedUserWithoutCapabilities() throws Exception {
        List<String> entrypoint = dockerfileEntrypoint();
        assertThat(entrypoint).first().isEqualTo("java");
        assertThat(entrypoint).last().isEqualTo(IMAGE_JAR);

        // Lay the jar out world-readable as the image does, wherever this checkout lives.
        Path image = Files.createDirectories(dir.resolve("opt"));
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(image, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jar = Files.copy(Path.of("target", "riscv-relay.jar"), image.resolve("riscv-relay.jar"),
                StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));

        List<String> command = new ArrayList<>(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"));
        for (String word : entrypoint) {
            command.add(switch (word) {
                case "java" -> Path.of(System.getProperty("java.home"), "bin", "java").toString();
                case IMAGE_JAR -> jar.toString();
                default -> word;
            });
        }

        try (RelayProcess relay = RelayProcess.start("unprivileged", command, jar)) {
            String status = Files.readString(Path.of("/proc", Long.toString(relay.pid()), "status"));
            assertThat(field(status, "Uid")).startsWith(NOBODY + "\t" + NOBODY);
            assertThat(field(status, "CapEff")).isEqualTo("0000000000000000");
            assertThat(field(status, "CapPrm")).isEqualTo("0000000000000000");
            assertThat(field(status, "CapBnd")).isEqualTo("0000000000000000");
            assertThat(field(status, "NoNewPrivs")).isEqualTo("1");

            CompletableFuture<Long> gatewayMac = new CompletableFuture<>();
            URI uri = URI.create("https://127.0.0.1:" + relay.port() + "/");
            WebTransportClient client = WebTransportClient.connect(uri,
                    WebTransportClientConfig.pinned(relay.certificateHash()), frame -> {
                        try {
                            EthernetFrame ethernet = new EthernetFrame();
                            ArpPacket arp = new ArpPacket();
                            if (ethernet.wrap(frame) == ParseResult.OK && ethernet.etherType() == EthernetFrame.TYPE_ARP
                                    && arp.wrap(frame, ethernet.payloadOffset(), ethernet.payloadLength()) == ParseResult.OK
                                    && arp.operation() == ArpPacket.OPERATION_REPLY) {
                                gatewayMac.complete(arp.senderMac());
                            }
                        } finally {
                            frame.release();
                        }
                    }).get(20, TimeUnit.SECONDS);
            try {
                client.sendDatagram(arpRequestForGateway());
                assertThat(gatewayMac.get(10, TimeUnit.SECONDS)).isEqualTo(MacAddress.parse("52:54:00:12:34:56"));
            } finally {
                client.close();
            }
            assertThat(relay.isAlive()).isTrue();
        }
    }

    private static ByteBuf arpRequestForGateway() {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(64);
        EthernetFrame.writeHeader(frame, 0, MacAddress.BROADCAST, CLIENT_MAC, EthernetFrame.TYPE_ARP);
        ArpPacket.write(frame, EthernetFrame.HEADER_LENGTH, ArpPacket.OPERATION_REQUEST, CLIENT_MAC,
                Ipv4Address.parse("10.0.2.15"), 0, Ipv4Address.parse("10.0.2.2"));
        return frame.writerIndex(EthernetFrame.HEADER_LENGTH + ArpPacket.LENGTH);
    }

    /** The JSON-array ENTRYPOINT of the repository's Dockerfile, as words. */
    private static List<String> dockerfileEntrypoint() throws Exception {
        Matcher line = Pattern.compile("(?m)^ENTRYPOINT\\s*\\[(.*)]\\s*$").matcher(Files.readString(Path.of("Dockerfile")));
        assertThat(line.find()).as("Dockerfile has an exec-form ENTRYPOINT").isTrue();
        List<String> words = new ArrayList<>();
        Matcher word = Pattern.compile("\"([^\"]*)\"").matcher(line.group(1));
        while (word.find()) {
            words.add(word.group(1));
        }
        return words;
    }

    private static String field(String procStatus, String name) {
        return procStatus.lines().filter(l -> l.startsWith(name + ":")).map(l -> l.substring(name.length() + 1).strip())
                .findFirst().orElseThrow(() -> new AssertionError("no " + name + " in /proc status"));
    }
}
