package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.CommandResult;
import java.time.Duration;
import java.util.List;

/**
 * Runs iperf3 clients against a server that serves one test at a time. The server is still "busy" for a moment after
 * a test ends (it reads the last results, or notices a killed client's control connection close through the NAT), and
 * a client that comes then fails at once. So a client that was told so waits and asks again, a bounded number of
 * times: a bench's test must measure what it says, not fail or, as a background load, silently not run.
 */
final class Iperf3Client {

    /** What iperf3 prints (in its JSON error or on its console) when another test is running. */
    static final String BUSY = "the server is busy";
    static final int MAX_TRIES = 20;
    static final long RETRY_MILLIS = 500;

    private Iperf3Client() {
    }

    /** Runs {@code command} in {@code namespace} until the server takes it (at most {@link #MAX_TRIES} tries). */
    static CommandResult run(Namespaces ns, String namespace, Duration timeout, List<String> command) {
        CommandResult result = null;
        for (int tries = 0; tries < MAX_TRIES; tries++) {
            result = ns.exec(namespace, timeout, command.toArray(String[]::new));
            if (!result.stdout().contains(BUSY) && !result.stderr().contains(BUSY)) {
                return result;
            }
            HttpTransfers.sleep(RETRY_MILLIS);
        }
        return result;
    }

    /**
     * Starts {@code command} in the background as a load, and returns once it has run for {@code settleMillis}; a
     * client the server turned away is started again. Throws when the load ends early for another reason.
     */
    static Namespaces.Background startLoad(Namespaces ns, String label, String namespace, List<String> command,
            long settleMillis) {
        for (int tries = 0; tries < MAX_TRIES; tries++) {
            Namespaces.Background load = ns.start(label, namespace, command);
            HttpTransfers.sleep(settleMillis);
            if (load.isAlive()) {
                return load;
            }
            String output = load.output();
            ns.stop(load);
            if (!output.contains(BUSY)) {
                throw new IllegalStateException(label + " ended after less than " + settleMillis + " ms: " + output);
            }
            HttpTransfers.sleep(RETRY_MILLIS);
        }
        throw new IllegalStateException(label + ": the iperf3 server stayed busy for " + MAX_TRIES + " tries");
    }
}
