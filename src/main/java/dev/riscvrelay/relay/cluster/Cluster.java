package dev.riscvrelay.relay.cluster;

import dev.riscvrelay.relay.gateway.dhcp.SharedLeases;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.tls.CertificateManager;
import io.nats.client.AuthHandler;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The relay's membership in a cluster: two NATS connections. Every network's {@link TrunkPort} shares one
 * {@link NatsLink} (core NATS on the switch's loop, no persistence); jnats carries the JetStream key-value buckets
 * (leases, the shared certificate), off the loop.
 *
 * <p>If NATS does not answer at start, the relay runs alone and joins when it does: its LANs work for the members
 * connected to it, and frames for other relays are dropped and counted meanwhile. A lost trunk connection is said
 * once, and so is its return; both connections reconnect for ever, to any server of the NATS cluster they have
 * learned, and subscribe again by themselves.
 */
public final class Cluster implements Trunks, AutoCloseable {

    /** How long start waits for NATS before it says the relay runs alone for now. */
    static final Duration FIRST_CONNECT_WAIT = Duration.ofSeconds(3);

    private final ClusterOptions options;
    private final NatsTls tls;
    private final Counters counters;
    private final Consumer<String> log;
    private final Subjects subjects;
    private final ClusterLeases leases;
    /** The self-signed certificate shared with the cluster, or null (CA-issued or fixed identities). */
    private final SharedIdentity identity;
    private final CountDownLatch firstConnect = new CountDownLatch(1);
    private volatile Connection connection;
    /** Set when start said the relay runs alone: the first connection is then said when it comes. */
    private volatile boolean startedAlone;
    /** The trunks' connection, made on the switch's loop by {@link #runOn}; then used on that loop only. */
    private volatile NatsLink link;
    private EventLoop linkLoop;
    private boolean closed; // guarded by this

    private Cluster(ClusterOptions options, Duration leaseTime, CertificateManager certificates, Counters counters,
            Consumer<String> log) {
        this.identity = certificates == null ? null : new SharedIdentity(certificates, log);
        this.options = options;
        this.tls = options.ca() == null ? NatsTls.jvmDefault() : NatsTls.fromPem(options.ca());
        this.counters = counters;
        this.log = log;
        this.subjects = new Subjects(options.relayId());
        this.leases = new ClusterLeases(options.relayId(), leaseTime, counters, log);
    }

    /**
     * Connects to NATS in the background and waits a little for it; prints one line either way.
     *
     * @param leaseTime the DHCP lease time: entries in the shared lease bucket live twice as long unless renewed
     * @param certificates the relay's identity: a self-signed one is shared with the cluster (null: not shared)
     * @param log where the relay's start-up and connection lines go
     */
    public static Cluster start(ClusterOptions options, Duration leaseTime, CertificateManager certificates,
            Counters counters, Consumer<String> log) throws InterruptedException {
        Cluster cluster = new Cluster(options, leaseTime, certificates, counters, log);
        Nats.connectAsynchronously(cluster.natsOptions(), true);
        String servers = String.join(",", options.servers());
        if (cluster.firstConnect.await(FIRST_CONNECT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
            // The trunk link will try the same server first: one NATS node, and one place to lose.
            log.accept("Cluster: relay " + options.relayId() + " joined through " + cluster.serverUrl());
            // Before the relay prints its hash: the one it prints is the cluster's.
            cluster.shareIdentity();
        } else {
            cluster.startedAlone = true;
            log.accept("Cluster: NATS does not answer at " + servers + "; relay " + options.relayId()
                    + " runs alone and joins when it does (frames for other relays are dropped and counted"
                    + " until then)");
        }
        return cluster;
    }

    private Options natsOptions() {
        Options.Builder builder = new Options.Builder()
                .servers(options.servers().toArray(String[]::new))
                .connectionName("riscv-relay " + options.relayId() + " state")
                .maxReconnects(-1)
                .reconnectWait(NatsLink.RECONNECT_WAIT)
                .connectionTimeout(NatsLink.CONNECT_TIMEOUT)
                // A dead server is noticed within about six seconds, not the two minutes of the defaults.
                .pingInterval(NatsLink.PING_INTERVAL)
                .maxPingsOut(NatsLink.MAX_PINGS_OUT)
                .connectionListener(this::onConnectionEvent)
                .errorListener(new QuietErrors());
        if (options.credentials() != null) {
            builder.credentialPath(options.credentials().toString());
        }
        if (tls.custom()) {
            builder.sslContext(tls.jdkContext());
        }
        return builder.build();
    }

    /** jnats's connection (the buckets): it reconnects by itself; the trunk link speaks for the cluster. */
    private void onConnectionEvent(Connection conn, ConnectionListener.Events event) {
        if (event == ConnectionListener.Events.CONNECTED || event == ConnectionListener.Events.RECONNECTED) {
            connection = conn;
            boolean first = firstConnect.getCount() > 0;
            leases.connected(conn, bucketReplicas(conn));
            if (first) {
                firstConnect.countDown();
                if (startedAlone) {
                    Thread.ofVirtual().name("cluster-identity").start(this::shareIdentity);
                }
            }
        }
    }

    /** Starts the trunks' link on {@code loop}, the switch's loop; before the first network opens. */
    @Override
    public void runOn(EventLoop loop) {
        AuthHandler credentials = options.credentials() == null ? null
                : Nats.credentials(options.credentials().toString());
        Connection conn = connection;
        NatsLink started = new NatsLink(options.servers(), conn == null ? null : conn.getConnectedUrl(),
                "riscv-relay " + options.relayId(), credentials, tls, loop, new LinkEvents(), log);
        synchronized (this) {
            if (closed) {
                return;
            }
            linkLoop = loop;
            link = started;
        }
        started.start();
    }

    /** What the trunk link says: the cluster's lines and counters. On the link's loop. */
    private final class LinkEvents implements NatsLink.Events {
        @Override
        public void connected(String url, boolean first) {
            if (!first) {
                counters.increment(Counter.CLUSTER_RECONNECTS);
                log.accept("Cluster: reconnected through " + url);
            } else if (startedAlone) {
                log.accept("Cluster: joined through " + url);
            }
        }

        @Override
        public void lost(String url) {
            counters.increment(Counter.CLUSTER_DISCONNECTS);
            log.accept("Cluster: lost the NATS connection; reconnecting (frames for other relays are"
                    + " dropped and counted meanwhile)");
        }

        @Override
        public void refused(String url, String reason) {
            log.accept("Cluster: NATS at " + url + " refused the relay: " + reason);
        }
    }

    private void shareIdentity() {
        Connection conn = connection;
        if (identity != null && conn != null) {
            identity.join(conn, bucketReplicas(conn));
        }
    }

    /** Replicas of the key-value buckets: three where the NATS cluster has them, else as many servers as it has. */
    private static int bucketReplicas(Connection conn) {
        return Math.min(3, Math.max(1, conn.getServers().size()));
    }

    private String serverUrl() {
        Connection conn = connection;
        return conn == null ? "?" : conn.getConnectedUrl();
    }

    /** The trunks' view of the link; on the link's loop. */
    private final TrunkPort.Bus bus = new TrunkPort.Bus() {
        @Override
        public boolean connected() {
            NatsLink current = link;
            return current != null && current.connected();
        }

        @Override
        public boolean publish(byte[] subject, ByteBuf body) {
            NatsLink current = link;
            if (current == null) {
                body.release();
                return false;
            }
            return current.publish(subject, body);
        }
    };

    @Override
    public Trunk open(String network, LearningSwitch lan, EventLoop loop) {
        TrunkPort trunk = new TrunkPort(network, lan, loop, counters, PooledByteBufAllocator.DEFAULT,
                bus, subjects, this::forget);
        lan.attachTrunk(trunk);
        synchronized (this) {
            if (closed || link == null) {
                return trunk;
            }
            if (loop != linkLoop) {
                throw new IllegalStateException("a trunk's switch runs on another loop than the cluster's link");
            }
        }
        trunk.subscriptions(link.subscribe(trunk.floodSubject(), trunk::onMessage),
                link.subscribe(trunk.ownSubject(), trunk::onMessage));
        return trunk;
    }

    @Override
    public SharedLeases leases(String network) {
        return leases.forNetwork(network);
    }

    /** A trunk closed (on the link's loop): its subscriptions end. */
    private void forget(TrunkPort trunk) {
        NatsLink current = link;
        if (current != null) {
            for (int sid : trunk.subscriptions()) {
                current.unsubscribe(sid);
            }
        }
    }

    /** Leaves NATS: flushes what is queued (briefly) and closes the connection. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        leases.close();
        NatsLink current = link;
        if (current != null) {
            current.close();
        }
        Connection conn = connection;
        if (conn != null) {
            try {
                conn.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** NATS's own error reports stay out of the relay's output: connection events are said once, above. */
    private static final class QuietErrors implements ErrorListener {
        @Override
        public void errorOccurred(Connection conn, String error) {
        }

        @Override
        public void exceptionOccurred(Connection conn, Exception exp) {
        }

        @Override
        public void slowConsumerDetected(Connection conn, io.nats.client.Consumer consumer) {
        }
    }
}
