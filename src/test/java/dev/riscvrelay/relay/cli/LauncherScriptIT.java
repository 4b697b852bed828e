package dev.riscvrelay.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import dev.riscvrelay.relay.testbed.RelayProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./relay}, the README's first command, keeps a relay it started running while the jar is rebuilt under it
 * (by {@code ./relay} after a change, by {@code ./test}, by Maven). The launcher runs in a checkout of its own in a
 * temporary directory: the script, {@code scripts/java-env.sh}, and the built jar, newer than the sources so that it
 * builds nothing.
 */
class LauncherScriptIT {

    private static final Path BUILT_JAR = Path.of("target", "riscv-relay.jar");

    @TempDir
    Path checkout;

    @Test
    void aRelayStartedByTheLauncherOutlivesARebuildOfItsJarAndStopsCleanly() throws Exception {
        Path jar = prepareCheckout();
        RelayProcess relay = RelayProcess.start("launcher", List.of("bash", checkout.resolve("relay").toString()),
                jar);
        try {
            // What the jar plugin does on a rebuild: it writes the jar's new bytes into the same file.
            Files.write(jar, new byte[] {'P', 'K', 0, 0}, StandardOpenOption.TRUNCATE_EXISTING);

            // Pages the relay has not served yet load classes it has not used yet: from a jar rewritten under it,
            // that failed with NoClassDefFoundError, and so did its shutdown, which then never ended.
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            for (String page : List.of("/api/networks", "/", "/metrics")) {
                HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(relay.adminUrl(page)))
                        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).as("GET %s: %s", page, response.body()).isEqualTo(200);
            }
            assertThat(relay.terminate(20)).as("exit status after SIGTERM").isIn(0, 143);
            assertThat(relay.output()).noneMatch(line -> line.contains("NoClassDefFoundError")
                    || line.contains("ClassNotFoundException"));
        } finally {
            relay.close();
        }
    }

    @Test
    void theLauncherRemovesACopyNoProcessRunsFrom() throws Exception {
        Path jar = prepareCheckout();
        launch("--version");
        assertThat(runCopies()).hasSize(1);

        // A rebuild: the same jar, written again later.
        Files.copy(BUILT_JAR, jar, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(5)));
        assertThat(launch("--version").stdout()).contains("riscv-relay");
        List<Path> copies = runCopies();
        assertThat(copies).as("the first copy is gone, no process runs from it").hasSize(1);
        assertThat(Files.mismatch(copies.getFirst(), BUILT_JAR)).isEqualTo(-1L);
    }

    @Test
    void whereItCannotWriteItsCopyTheLauncherRunsTheBuiltJarAndSaysSo() throws Exception {
        prepareCheckout();
        Files.writeString(checkout.resolve("target").resolve("run"), "a file where the copies' directory goes\n");

        CommandResult version = launch("--version");
        assertThat(version.stdout()).contains("riscv-relay");
        assertThat(version.stderr()).contains("cannot write").contains("target/riscv-relay.jar itself");
    }

    /** The launcher's files in {@link #checkout}, the jar newer than pom.xml and src/main; returns the jar. */
    private Path prepareCheckout() throws IOException {
        assertThat(BUILT_JAR).as("built by `./mvnw package` before the integration tests").isRegularFile();
        Files.copy(Path.of("relay"), checkout.resolve("relay"));
        Files.createDirectories(checkout.resolve("scripts"));
        Files.copy(Path.of("scripts", "java-env.sh"), checkout.resolve("scripts").resolve("java-env.sh"));
        Files.writeString(checkout.resolve("pom.xml"), "<project/>\n");
        Files.createDirectories(checkout.resolve("src").resolve("main"));
        Path jar = Files.createDirectories(checkout.resolve("target")).resolve("riscv-relay.jar");
        Files.copy(BUILT_JAR, jar);
        Instant old = Instant.now().minusSeconds(3600);
        Files.setLastModifiedTime(checkout.resolve("pom.xml"), FileTime.from(old));
        Files.setLastModifiedTime(checkout.resolve("src").resolve("main"), FileTime.from(old));
        return jar;
    }

    private List<Path> runCopies() throws IOException {
        try (Stream<Path> files = Files.list(checkout.resolve("target").resolve("run"))) {
            return files.filter(file -> file.getFileName().toString().endsWith(".jar")).toList();
        }
    }

    /** {@code ./relay ARGS} of {@link #checkout}; fails unless it exits 0 within 60 s. */
    private CommandResult launch(String... args) {
        List<String> command = new ArrayList<>(List.of("bash", checkout.resolve("relay").toString()));
        command.addAll(List.of(args));
        return NetnsTestBed.run(Duration.ofSeconds(60), command).orThrow();
    }
}
