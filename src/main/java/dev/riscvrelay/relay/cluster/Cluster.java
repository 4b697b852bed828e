package dev.riscvrelay.relay.cluster;

import dev.riscvrelay.relay.gateway.dhcp.SharedLeases;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.switching.LearningSwitch;
import dev.riscvrelay.relay.tls.CertificateManager;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The relay's membership in a cluster: one NATS connection (core NATS, no persistence) that carries every
 * network's {@link TrunkPort}.
 *
 * <p>If NATS does not answer at start, the relay runs alone and joins when it does: its LANs work for the members
 * connected to it, and frames for other relays are dropped and counted meanwhile. A lost connection is said once,
 * and so is its return; the client reconnects for ever, to any server of the NATS cluster it has learned, and
 * subscribes again by itself.
 */
public final class Cluster implements Trunks, AutoCloseable {

    /** How long start waits for NATS before it says the relay runs alone for now. */
    static final Duration FIRST_CONNECT_WAIT = Duration.ofSeconds(3);
    /** Messages NATS may hold for sending; past this a batch is dropped and counted, never waited for. */
    static final int OUTGOING_QUEUE_MESSAGES = 16_384;

    private final ClusterOptions options;
    private final Counters counters;
    private final Consumer<String> log;
    private final Subjects subjects;
    private final ClusterLeases leases;
    /** The self-signed certificate shared with the cluster, or null (CA-issued or fixed identities). */
    private final SharedIdentity identity;
    private final CountDownLatch firstConnect = new CountDownLatch(1);
    private final List<TrunkPort> trunks = new ArrayList<>(); // guarded by this
    private volatile Connection connection;
    private volatile boolean connected;
    /** Set when start said the relay runs alone: the first connection is then said when it comes. */
    private volatile boolean startedAlone;
    private Dispatcher dispatcher; // guarded by this
    private boolean closed; // guarded by this

    private Cluster(ClusterOptions options, Duration leaseTime, CertificateManager certificates, Counters counters,
            Consumer<String> log) {
        this.identity = certificates == null ? null : new SharedIdentity(certificates, log);
        this.options = options;
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
                .connectionName("riscv-relay " + options.relayId())
                .noEcho() // a relay never receives its own frames back
                .maxReconnects(-1)
                .reconnectWait(Duration.ofSeconds(1))
                .connectionTimeout(Duration.ofSeconds(2))
                // A dead server is noticed within about six seconds, not the two minutes of the defaults.
                .pingInterval(Duration.ofSeconds(2))
                .maxPingsOut(3)
                .maxMessagesInOutgoingQueue(OUTGOING_QUEUE_MESSAGES)
                .discardMessagesWhenOutgoingQueueFull()
                // Frames are not worth keeping for a reconnect: TCP in the VMs resends what matters.
                .reconnectBufferSize(0)
                .connectionListener(this::onConnectionEvent)
                .errorListener(new QuietErrors());
        if (options.credentials() != null) {
            builder.credentialPath(options.credentials().toString());
        }
        return builder.build();
    }

    private void onConnectionEvent(Connection conn, ConnectionListener.Events event) {
        switch (event) {
            case CONNECTED, RECONNECTED -> {
                connection = conn;
                boolean first = firstConnect.getCount() > 0;
                subscribeAll(conn);
                leases.connected(conn, bucketReplicas(conn));
                connected = true;
                if (first) {
                    firstConnect.countDown();
                    if (startedAlone) {
                        log.accept("Cluster: joined through " + conn.getConnectedUrl());
                        Thread.ofVirtual().name("cluster-identity").start(this::shareIdentity);
                    }
                } else {
                    counters.increment(Counter.CLUSTER_RECONNECTS);
                    log.accept("Cluster: reconnected through " + conn.getConnectedUrl());
                }
            }
            case DISCONNECTED -> {
                if (connected) {
                    connected = false;
                    counters.increment(Counter.CLUSTER_DISCONNECTS);
                    log.accept("Cluster: lost the NATS connection; reconnecting (frames for other relays are"
                            + " dropped and counted meanwhile)");
                }
            }
            case CLOSED -> connected = false;
            default -> {
            }
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

    /** The trunks' view of the connection. */
    private final TrunkPort.Bus bus = new TrunkPort.Bus() {
        @Override
        public boolean connected() {
            return connected;
        }

        @Override
        public void publish(String subject, byte[] body) {
            Connection conn = connection;
            if (conn == null) {
                throw new IllegalStateException("not connected");
            }
            conn.publish(subject, body);
        }
    };

    @Override
    public Trunk open(String network, LearningSwitch lan, EventLoop loop) {
        TrunkPort trunk = new TrunkPort(network, lan, loop, counters, PooledByteBufAllocator.DEFAULT,
                bus, subjects, this::forget);
        lan.attachTrunk(trunk);
        synchronized (this) {
            if (closed) {
                return trunk;
            }
            trunks.add(trunk);
            if (dispatcher != null) {
                subscribe(trunk);
            }
        }
        return trunk;
    }

    @Override
    public SharedLeases leases(String network) {
        return leases.forNetwork(network);
    }

    private synchronized void subscribeAll(Connection conn) {
        if (closed || dispatcher != null) {
            return; // after a reconnect NATS subscribes again by itself
        }
        dispatcher = conn.createDispatcher();
        for (TrunkPort trunk : trunks) {
            subscribe(trunk);
        }
    }

    private void subscribe(TrunkPort trunk) {
        Subscription flood = dispatcher.subscribe(trunk.floodSubject(), trunk::onMessage);
        Subscription own = dispatcher.subscribe(trunk.ownSubject(), trunk::onMessage);
        trunk.subscriptions(flood, own);
    }

    private synchronized void forget(TrunkPort trunk) {
        trunks.remove(trunk);
        if (dispatcher != null) {
            for (Subscription subscription : trunk.subscriptions()) {
                dispatcher.unsubscribe(subscription);
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
