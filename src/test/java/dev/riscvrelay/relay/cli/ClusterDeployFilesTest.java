package dev.riscvrelay.relay.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.cluster.ClusterOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The cluster recipe in deploy/cluster/ holds together: the relay unit's command line, with its environment file,
 * is one the relay accepts, and nats-server accepts the NATS node's configuration with its environment file.
 * (ClusterIT runs its NATS nodes from that same configuration.)
 */
class ClusterDeployFilesTest {

    static final Path DIR = Path.of("deploy", "cluster");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{?([A-Z_0-9]+)}?");

    /** The KEY=VALUE lines of an environment file, as systemd reads them (no quoting used here). */
    static Map<String, String> environment(Path file) throws IOException {
        Map<String, String> env = new HashMap<>();
        for (String line : Files.readAllLines(file)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                int equals = line.indexOf('=');
                env.put(line.substring(0, equals), line.substring(equals + 1));
            }
        }
        return env;
    }

    @Test
    void theRelayUnitsCommandLineIsOneTheRelayAccepts() throws IOException {
        Map<String, String> env = environment(DIR.resolve("riscv-relay.env"));
        String execStart = Files.readAllLines(DIR.resolve("riscv-relay.service")).stream()
                .filter(line -> line.startsWith("ExecStart=")).findFirst().orElseThrow();
        // systemd: ${VAR} is one word, $VAR splits into words at white space.
        List<String> words = new ArrayList<>();
        for (String word : execStart.substring("ExecStart=".length()).split(" ")) {
            Matcher m = VARIABLE.matcher(word);
            if (m.matches() && !word.contains("{")) {
                words.addAll(Arrays.asList(env.get(m.group(1)).split(" ")));
            } else {
                words.add(m.replaceAll(r -> Matcher.quoteReplacement(env.get(r.group(1)))));
            }
        }
        List<String> args = words.subList(words.indexOf("-jar") + 2, words.size());
        assertThat(args).contains("--cluster", "--relay-id", "relay1", "--bind");

        RelayCommand command = new RelayCommand(new java.io.PrintWriter(System.out), new java.io.PrintWriter(System.err));
        new picocli.CommandLine(command).parseArgs(args.toArray(String[]::new));
        ClusterOptions cluster = command.toClusterOptions();
        assertThat(command.toConfig().port()).isEqualTo(4433);
        assertThat(cluster.servers()).hasSize(3);
        assertThat(cluster.relayId()).isEqualTo("relay1");
    }

    @Test
    void nats_serverAcceptsTheNodesConfiguration() throws Exception {
        Map<String, String> env = environment(DIR.resolve("riscv-relay-nats.env"));
        ProcessBuilder check = new ProcessBuilder("nats-server", "-c", DIR.resolve("nats.conf").toString(), "-t")
                .redirectErrorStream(true);
        check.environment().putAll(env);
        Process process = check.start();
        assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes());
        assertThat(process.exitValue()).as(output).isZero();
        assertThat(output).contains("is valid");
    }
}
