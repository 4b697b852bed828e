package dev.riscvrelay.relay.connect;

import dev.riscvrelay.relay.transport.tap.TapDevice;
import dev.riscvrelay.relay.transport.webtransport.WebTransportClientConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What {@code relay connect} bridges: the relay's WebTransport URL (with how to trust it) and one local LAN
 * member, a TAP device or a QEMU socket backend.
 *
 * @param relay the relay's URL, {@code https://HOST:PORT/path}
 * @param client how the WebTransport client trusts the relay (pinned hash or system CAs) and its timeouts
 * @param local the local member
 * @param mtuOverride the local member's MTU; 0 derives it from the first session (max datagram payload − 14)
 * @param backoff first and longest wait between reconnect attempts
 * @param moreRelays other relays of the same cluster, tried in turn after {@code relay} when a session ends or an
 *     attempt fails (hosts keep their addresses: the cluster shares its leases)
 */
public record ConnectorConfig(URI relay, WebTransportClientConfig client, Local local, int mtuOverride,
        Duration backoffInitial, Duration backoffCap, List<RelayEndpoint> moreRelays) {

    /** One relay to connect to: its URL and how to trust it. */
    public record RelayEndpoint(URI url, WebTransportClientConfig client) {
        public RelayEndpoint {
            Objects.requireNonNull(url, "url");
            Objects.requireNonNull(client, "client");
        }
    }

    /** One relay. */
    public ConnectorConfig(URI relay, WebTransportClientConfig client, Local local, int mtuOverride,
            Duration backoffInitial, Duration backoffCap) {
        this(relay, client, local, mtuOverride, backoffInitial, backoffCap, List.of());
    }

    /** Every relay, in the order they are tried: {@code relay} first. */
    public List<RelayEndpoint> relays() {
        List<RelayEndpoint> all = new java.util.ArrayList<>();
        all.add(new RelayEndpoint(relay, client));
        all.addAll(moreRelays);
        return List.copyOf(all);
    }

    public static final Duration DEFAULT_BACKOFF_INITIAL = Duration.ofMillis(500);
    public static final Duration DEFAULT_BACKOFF_CAP = Duration.ofSeconds(5);

    public ConnectorConfig {
        Objects.requireNonNull(relay, "relay");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(local, "local");
        if (mtuOverride != 0 && (mtuOverride < 68 || mtuOverride > 65521)) {
            throw new IllegalArgumentException("MTU must be in 68..65521: " + mtuOverride);
        }
        new Backoff(backoffInitial, backoffCap); // validates
        moreRelays = List.copyOf(moreRelays);
    }

    /** The local LAN member the connector bridges to the relay. */
    public sealed interface Local permits Tap, QemuDgram {
    }

    /**
     * A TAP device, created when missing.
     *
     * @param name interface name (≤ 15 bytes)
     * @param netns network namespace file to create it in (e.g. {@code /run/netns/NAME}); null for our own
     * @param txQueueFrames the frames the kernel queues on it for the connector (its txqueuelen), or
     *     {@link #ADAPTIVE_TX_QUEUE}
     */
    public record Tap(String name, Path netns, int txQueueFrames) implements Local {
        /**
         * The queue follows the path to the relay: {@link TapDevice#TX_QUEUE_FRAMES} while it is short,
         * {@link TapDevice#LONG_PATH_TX_QUEUE_FRAMES} once the session shows a long one.
         */
        public static final int ADAPTIVE_TX_QUEUE = 0;

        public Tap {
            Objects.requireNonNull(name, "name");
            // Checked now, not when the first session opens the TAP: a wrong name or path should not wait for the
            // relay to be reachable.
            TapDevice.checkName(name);
            checkNetns(netns);
            if (txQueueFrames != ADAPTIVE_TX_QUEUE
                    && (txQueueFrames < 1 || txQueueFrames > TapDevice.MAX_TX_QUEUE_FRAMES)) {
                throw new IllegalArgumentException("the transmit queue must be 1.." + TapDevice.MAX_TX_QUEUE_FRAMES
                        + " frames: " + txQueueFrames);
            }
        }

        /** Refuses a namespace file that is not there (null, our own namespace, is fine). */
        public static void checkNetns(Path netns) {
            if (netns != null && !Files.exists(netns)) {
                throw new IllegalArgumentException("no such network namespace file: " + netns
                        + " (ip netns add NAME creates /run/netns/NAME)");
            }
        }

        public Tap(String name, Path netns) {
            this(name, netns, ADAPTIVE_TX_QUEUE);
        }

        /** Whether the connector sets the queue by the path rather than keeping one size. */
        public boolean adaptiveTxQueue() {
            return txQueueFrames == ADAPTIVE_TX_QUEUE;
        }
    }

    /**
     * QEMU's {@code -netdev dgram} (or {@code -netdev socket,udp=}): one frame per UDP datagram.
     *
     * @param listen where the connector receives QEMU's datagrams (QEMU's {@code remote})
     * @param qemu where QEMU receives (QEMU's {@code local}); datagrams from elsewhere are dropped
     */
    public record QemuDgram(InetSocketAddress listen, InetSocketAddress qemu) implements Local {
        public QemuDgram {
            Objects.requireNonNull(listen, "listen");
            Objects.requireNonNull(qemu, "qemu");
        }
    }
}
