package dev.riscvrelay.relay.testbed;

import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A Linux host on the relay's LAN ({@link NetnsTestBed#addLanHost}): a namespace, its static address and the
 * {@code relay connect} process that bridges its {@code eth0} to the relay.
 */
public record LanHost(Namespace namespace, String address, ConnectorProcess connector) {

    public CommandResult exec(String... command) {
        return namespace.exec(command);
    }

    public CommandResult exec(Duration timeout, String... command) {
        return namespace.exec(timeout, command);
    }

    /** {@code ping -c count -i interval -W 2 target}, bounded by a timeout that fits the count. */
    public CommandResult ping(String target, int count, double intervalSeconds) {
        Duration timeout = Duration.ofMillis((long) (count * intervalSeconds * 1000) + 10_000);
        return exec(timeout, "ping", "-c", Integer.toString(count), "-i", Double.toString(intervalSeconds), "-W",
                "2", target);
    }

    /**
     * Sends {@code payload} over TCP (socat) to {@code to}, which writes it to {@code received}; fails (with what
     * the sender said) when the send or the receiver's end of stream does not come within {@code timeout}.
     *
     * @return the seconds it took
     */
    public double sendFile(LanHost to, Path payload, Path received, int port, Duration timeout)
            throws IOException, InterruptedException {
        Process listener = to.namespace().bed().startInBackground(to.namespace(), "socat", "-u",
                "TCP-LISTEN:" + port + ",bind=" + to.address() + ",reuseaddr", "CREATE:" + received);
        to.namespace().awaitListening("-ltn", to.address() + ":" + port);
        long start = System.nanoTime();
        CommandResult send = exec(timeout, "socat", "-u", "OPEN:" + payload,
                "TCP:" + to.address() + ":" + port + ",connect-timeout=10");
        boolean done = listener.waitFor(30, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("bulk %s -> %s: %s in %.1f s, %d bytes arrived%n", address, to.address(),
                send.succeeded() ? "sent" : "FAILED", seconds, Files.exists(received) ? Files.size(received) : -1);
        if (!send.succeeded()) {
            throw new AssertionError(send.describe());
        }
        if (!done) {
            throw new AssertionError("the receiver did not get the end of the stream within 30 s");
        }
        return seconds;
    }
}
