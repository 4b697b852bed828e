package dev.riscvrelay.relay.testbed;

import dev.riscvrelay.relay.testbed.NetnsTestBed.Namespace;
import java.time.Duration;

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
}
