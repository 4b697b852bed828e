package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.ImpairedLink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The relay, {@code relay connect}, {@link ImpairedLink} and the {@link PingFloor} as processes of a namespace bench
 * (P2, the field part):
 * this JVM's java and class path, so the bench measures the code it runs; the lines that say they are ready.
 */
final class RelayProcesses {

    static final Pattern HASH = Pattern.compile("Certificate Hash \\(use this in client\\): ([0-9a-f]{64})");
    static final Pattern LISTENING = Pattern.compile("Listening on https://\\S+:(\\d+)");
    /** {@code relay connect}'s ready line: the TAP's MTU and the frame size one datagram carries. */
    static final Pattern CONNECT_READY = Pattern.compile("MTU (\\d+) \\(one datagram carries (\\d+)-byte");
    static final Pattern LINK_READY = Pattern.compile("^ImpairedLink listening on ");
    static final Pattern PING_FLOOR_READY = Pattern.compile(
            "^(" + Pattern.quote(PingFloor.GATEWAY_READY) + "|" + Pattern.quote(PingFloor.PUMP_READY) + ")");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    private RelayProcesses() {
    }

    /**
     * The JVM options {@code ./relay} gives the relay and {@code relay connect}: the direct-memory bound, and
     * transparent huge pages where the kernel offers them (madvise or always), as that script checks.
     */
    static List<String> launcherOptions() {
        List<String> options = new ArrayList<>(List.of("-XX:MaxDirectMemorySize=2g"));
        if (transparentHugePagesOffered()) {
            options.add("-XX:+UseTransparentHugePages");
        }
        return options;
    }

    private static boolean transparentHugePagesOffered() {
        try {
            String mode = Files.readString(Path.of("/sys/kernel/mm/transparent_hugepage/enabled"));
            return mode.contains("[always]") || mode.contains("[madvise]");
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code java [jvmOptions] -cp CLASSPATH mainClass args}. */
    static List<String> java(List<String> jvmOptions, String mainClass, List<String> args) {
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        List<String> command = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
        command.addAll(args);
        return command;
    }

    /** A started relay and the certificate hash its clients pin. */
    record Relay(Namespaces.Background process, String certificateHash) {
    }

    /** A started {@code relay connect} and the MTU of its TAP. */
    record Connector(Namespaces.Background process, int tapMtu) {
    }

    /** Starts the relay with {@code args} in {@code namespace} and waits until it listens. */
    static Relay startRelay(Namespaces ns, String namespace, List<String> jvmOptions, List<String> args) {
        Namespaces.Background relay = ns.start("relay", namespace,
                java(withLauncherOptions(jvmOptions), "dev.riscvrelay.relay.cli.RelayCommand", args));
        String hash = relay.awaitLine(HASH, START_TIMEOUT).group(1);
        relay.awaitLine(LISTENING, START_TIMEOUT);
        return new Relay(relay, hash);
    }

    /** Starts {@code relay connect --url URL --cert-hash HASH args} in {@code namespace}; waits until its TAP is up. */
    static Connector startConnector(Namespaces ns, String label, String namespace, List<String> jvmOptions,
            String url, String hash, List<String> args) {
        return awaitConnector(launchConnector(ns, label, namespace, jvmOptions, url, hash, args));
    }

    /** Starts {@code relay connect} as {@link #startConnector} without waiting: several start side by side. */
    static Namespaces.Background launchConnector(Namespaces ns, String label, String namespace,
            List<String> jvmOptions, String url, String hash, List<String> args) {
        List<String> connectArgs = new ArrayList<>(List.of("connect", "--url", url, "--cert-hash", hash));
        connectArgs.addAll(args);
        return ns.start(label, namespace, java(withLauncherOptions(jvmOptions), "dev.riscvrelay.relay.cli.RelayCommand",
                connectArgs));
    }

    /** {@link #launcherOptions()}, then {@code extra}: the relay and the connector run as {@code ./relay} runs them. */
    private static List<String> withLauncherOptions(List<String> extra) {
        List<String> options = launcherOptions();
        options.addAll(extra);
        return options;
    }

    /** Waits (bounded) until a launched connector's TAP is up. */
    static Connector awaitConnector(Namespaces.Background connector) {
        Matcher ready = connector.awaitLine(CONNECT_READY, START_TIMEOUT);
        return new Connector(connector, Integer.parseInt(ready.group(1)));
    }

    /**
     * Starts an {@link ImpairedLink} process in {@code namespace} ({@code listen} and {@code to} as ADDR:PORT); it
     * prints its counters every second and ends by itself after {@code lifetime}.
     */
    static Namespaces.Background startLink(Namespaces ns, String namespace, String listen, String to,
            ImpairedLink.LinkProfile profile, Duration lifetime) {
        Namespaces.Background link = ns.start("link " + profile.cliName(), namespace, java(
                List.of("-Xmx256m", "-XX:+UseSerialGC"), ImpairedLink.class.getName(), List.of("--listen", listen,
                        "--to", to, "--profile", profile.cliName(), "--seed", "1", "--duration-seconds",
                        Long.toString(lifetime.toSeconds()), "--report-seconds", "1")));
        link.awaitLine(LINK_READY, START_TIMEOUT);
        return link;
    }

    /**
     * Starts a {@link PingFloor} process ({@code args}: {@code gateway ADDRESS:PORT} or {@code pump TAP
     * ADDRESS:PORT}) in {@code namespace} and waits until it says it is up.
     */
    static Namespaces.Background startPingFloor(Namespaces ns, String label, String namespace, List<String> args) {
        // The floor's JVM gets the relay's options: the comparison is of the code on the path, not of the JVM's set-up.
        Namespaces.Background floor = ns.start(label, namespace, java(launcherOptions(), PingFloor.class.getName(),
                args));
        floor.awaitLine(PING_FLOOR_READY, START_TIMEOUT);
        return floor;
    }
}
