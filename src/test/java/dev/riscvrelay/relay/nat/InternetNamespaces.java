package dev.riscvrelay.relay.nat;

import static dev.riscvrelay.relay.nat.NetworkNamespaces.run;
import static dev.riscvrelay.relay.nat.NetworkNamespaces.runQuietly;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A small world for NAT tests, made of two namespaces and torn down by {@link #close}:
 * <pre>
 *   relay namespace  rrnat-X-r          internet namespace  rrnat-X-i
 *   198.51.100.1/24  ------ veth ------  198.51.100.10/24
 *   route 203.0.113.0/24 via .10         203.0.113.10/32 on lo, a UDP echo server on port 7
 *   ping_group_range 0 2147483647
 * </pre>
 * The NAT's event loop thread joins the relay namespace ({@link NetworkNamespaces#enterOnThisThread}); the rest of
 * the test JVM stays in the root namespace. That keeps the host's routes and its {@code ping_group_range} (often
 * closed) out of the test, and other tests' 203.0.113.0/24 out of ours.
 */
public final class InternetNamespaces implements AutoCloseable {

    public static final String INTERNET_HOST = "203.0.113.10";
    public static final int ECHO_PORT = 7;
    public static final int CLOSED_PORT = 9;

    private static final String PYTHON = "/usr/bin/python3";
    private static final String ECHO_SERVER = """
            import socket
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("203.0.113.10", 7))
            while True:
                data, peer = s.recvfrom(65535)
                s.sendto(data, peer)
            """;

    public final String relay;
    public final String internet;
    private final String vethRelay;
    private final String vethInternet;
    private Process echoServer;

    public InternetNamespaces() {
        String suffix = NetworkNamespaces.randomSuffix();
        // Not "rr-": the test bed's stale-namespace cleanup owns that prefix and would take these for a dead run's.
        relay = "rrnat-" + suffix + "-r";
        internet = "rrnat-" + suffix + "-i";
        vethRelay = "rrn" + suffix + "r";
        vethInternet = "rrn" + suffix + "i";
        if (!Files.isExecutable(Path.of(PYTHON))) {
            throw new IllegalStateException(PYTHON + " is needed for the UDP echo server in the test namespace");
        }
        try {
            run("ip", "netns", "add", relay);
            run("ip", "netns", "add", internet);
            run("ip", "link", "add", vethRelay, "netns", relay, "type", "veth", "peer", "name", vethInternet,
                    "netns", internet);
            inRelay("ip", "link", "set", "lo", "up");
            inRelay("ip", "addr", "add", "198.51.100.1/24", "dev", vethRelay);
            inRelay("ip", "link", "set", vethRelay, "up");
            inRelay("ip", "route", "add", "203.0.113.0/24", "via", "198.51.100.10");
            inRelay("sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647");
            inInternet("ip", "link", "set", "lo", "up");
            inInternet("ip", "addr", "add", INTERNET_HOST + "/32", "dev", "lo");
            inInternet("ip", "addr", "add", "198.51.100.10/24", "dev", vethInternet);
            inInternet("ip", "link", "set", vethInternet, "up");
            echoServer = new ProcessBuilder("ip", "netns", "exec", internet, PYTHON, "-c", ECHO_SERVER)
                    .redirectErrorStream(true).start();
            awaitEchoServer();
        } catch (RuntimeException | IOException e) {
            close();
            throw new IllegalStateException("cannot build the test namespaces", e);
        }
    }

    private void awaitEchoServer() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            String sockets = run("ip", "netns", "exec", internet, "ss", "-uln");
            if (sockets.contains(INTERNET_HOST + ":" + ECHO_PORT)) {
                return;
            }
            if (!echoServer.isAlive()) {
                throw new IllegalStateException("the UDP echo server exited: " + echoServer.exitValue());
            }
            Thread.onSpinWait();
        }
        throw new IllegalStateException("the UDP echo server did not start within 10 s");
    }

    public String inRelay(String... command) {
        return inNamespace(relay, command);
    }

    public String inInternet(String... command) {
        return inNamespace(internet, command);
    }

    private static String inNamespace(String namespace, String... command) {
        String[] full = new String[command.length + 4];
        full[0] = "ip";
        full[1] = "netns";
        full[2] = "exec";
        full[3] = namespace;
        System.arraycopy(command, 0, full, 4, command.length);
        return run(full);
    }

    @Override
    public void close() {
        if (echoServer != null) {
            echoServer.destroyForcibly();
            try {
                echoServer.waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        runQuietly("ip", "netns", "del", internet); // the veth pair goes with it
        runQuietly("ip", "netns", "del", relay);
    }

}
