package dev.riscvrelay.relay.cluster;

import dev.riscvrelay.relay.gateway.dhcp.SharedLeases;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.KeyValueManagement;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * DHCP leases shared by the relays of a cluster, in a JetStream key-value bucket ({@value #BUCKET}): one key per
 * leased address ({@code NETWORK.AABBCCDD}, the address in hex), its value the MAC that holds it and the relay that
 * gave it ({@code 5254001234ab relay-a}).
 *
 * <p>Every relay watches the whole bucket into a local copy, so its DHCP server decides on the loop without a
 * round trip: it skips addresses other MACs hold anywhere, and offers a MAC the address it held on another relay.
 * Its own offers and leases go to the bucket in the background with create-if-absent, so of two relays that offer
 * one address at the same moment only one wins; the other sees the winner's entry and NAKs its client at the next
 * request, and the client starts over. A relay takes over the key of a MAC that moved to it, and deletes only keys
 * that are still its own. Entries live {@link #ENTRY_TTL_FACTOR} lease times unless renewed, so a relay that died
 * leaves nothing held for long. JetStream removes an expired entry without telling the watchers, so the copy keeps
 * each entry's time and treats one older than that as gone too.
 */
final class ClusterLeases {

    static final String BUCKET = "riscv-relay-leases";
    static final int ENTRY_TTL_FACTOR = 2;
    /** Writes waiting for the bucket; past this they are dropped and counted (the copy still knows them). */
    static final int PENDING_WRITES = 10_000;

    private final String relayId;
    private final Duration leaseTime;
    private final Counters counters;
    private final Consumer<String> log;
    /** Key to value and when it was written, as the bucket holds it (and as this relay just wrote it). */
    private final Map<String, Held> copy = new ConcurrentHashMap<>();
    private final long entryTtlMillis;
    private final LongSupplier clock;
    private final ThreadPoolExecutor writer;
    private volatile KeyValue bucket;

    ClusterLeases(String relayId, Duration leaseTime, Counters counters, Consumer<String> log) {
        this(relayId, leaseTime, counters, log, System::currentTimeMillis);
    }

    /** @param clock wall-clock milliseconds, as the NATS servers stamp entries */
    ClusterLeases(String relayId, Duration leaseTime, Counters counters, Consumer<String> log, LongSupplier clock) {
        this.relayId = relayId;
        this.entryTtlMillis = leaseTime.multipliedBy(ENTRY_TTL_FACTOR).toMillis();
        this.clock = clock;
        this.leaseTime = leaseTime;
        this.counters = counters;
        this.log = log;
        this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(PENDING_WRITES),
                runnable -> {
                    Thread thread = new Thread(runnable, "cluster-leases");
                    thread.setDaemon(true);
                    return thread;
                }, (runnable, executor) -> counters.increment(Counter.DROP_CLUSTER_LEASE_WRITE));
    }

    /** Opens (or creates) the bucket and starts watching it; in the background, once per connection. */
    void connected(Connection connection, int replicas) {
        writer.execute(() -> open(connection, replicas));
    }

    private void open(Connection connection, int replicas) {
        for (int attempt = 1; bucket == null; attempt++) {
            try {
                openOnce(connection, replicas);
                log.accept("Cluster: DHCP leases shared in JetStream bucket " + BUCKET);
            } catch (IOException | JetStreamApiException | RuntimeException e) {
                // A NATS cluster that has just started may still be electing its JetStream leader: try again.
                if (attempt == JetStreamRetries.ATTEMPTS) {
                    log.accept("Cluster: no JetStream key-value store on NATS (" + e.getMessage() + "): each relay"
                            + " leases addresses on its own, and VMs on different relays may be given the same"
                            + " address");
                    return;
                }
                if (!JetStreamRetries.pause()) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void openOnce(Connection connection, int replicas)
            throws IOException, JetStreamApiException, InterruptedException {
        KeyValueManagement management = connection.keyValueManagement();
        KeyValueConfiguration config = KeyValueConfiguration.builder().name(BUCKET).maxHistoryPerKey(1)
                .ttl(leaseTime.multipliedBy(ENTRY_TTL_FACTOR)).storageType(StorageType.File)
                .replicas(replicas).build();
        try {
            management.create(config);
        } catch (JetStreamApiException exists) {
            // Another relay made it first (or it differs in replicas): use it as it is.
        }
        KeyValue kv = connection.keyValue(BUCKET);
        kv.watchAll(new KeyValueWatcher() {
            @Override
            public void watch(KeyValueEntry entry) {
                seen(entry.getKey(), entry.getOperation() == KeyValueOperation.PUT ? entry.getValueAsString() : null,
                        entry.getCreated() == null ? clock.getAsLong() : entry.getCreated().toInstant().toEpochMilli());
            }

            @Override
            public void endOfData() {
            }
        });
        bucket = kv;
    }

    /** An entry of the bucket as the watcher saw it: {@code value} null for a delete or purge. */
    void seen(String key, String value, long writtenMillis) {
        if (value == null) {
            copy.remove(key);
        } else {
            copy.put(key, new Held(value, writtenMillis));
        }
    }

    /** The live value of {@code key} in the copy, or null: absent, or older than the bucket keeps entries. */
    private String live(String key) {
        Held held = copy.get(key);
        if (held == null) {
            return null;
        }
        if (clock.getAsLong() - held.writtenMillis() >= entryTtlMillis) {
            copy.remove(key, held); // the bucket has dropped it by now
            return null;
        }
        return held.value();
    }

    /** The leases of one network. */
    SharedLeases forNetwork(String network) {
        return new NetworkLeases(network + ".");
    }

    void close() {
        writer.shutdownNow();
    }

    static String key(String prefix, int address) {
        return prefix + String.format(Locale.ROOT, "%08x", address);
    }

    static String macHex(long mac) {
        return String.format(Locale.ROOT, "%012x", mac);
    }

    private final class NetworkLeases implements SharedLeases {
        private final String prefix;

        NetworkLeases(String prefix) {
            this.prefix = prefix;
        }

        @Override
        public int addressOf(long mac) {
            String owner = macHex(mac) + " ";
            for (Map.Entry<String, Held> entry : copy.entrySet()) {
                if (entry.getKey().startsWith(prefix) && entry.getValue().value().startsWith(owner)
                        && live(entry.getKey()) != null) {
                    return Integer.parseUnsignedInt(entry.getKey().substring(prefix.length()), 16);
                }
            }
            return 0;
        }

        @Override
        public boolean heldByOther(int address, long mac) {
            String value = live(key(prefix, address));
            return value != null && !value.startsWith(macHex(mac) + " ");
        }

        @Override
        public void held(int address, long mac) {
            String key = key(prefix, address);
            String value = macHex(mac) + " " + relayId;
            String before = live(key);
            if (before != null && !before.startsWith(macHex(mac) + " ")) {
                return; // another MAC's: the DHCP server NAKs at the next request
            }
            copy.put(key, new Held(value, clock.getAsLong()));
            writer.execute(() -> write(key, value, mac));
        }

        @Override
        public void freed(int address, long mac) {
            String key = key(prefix, address);
            String value = macHex(mac) + " " + relayId;
            Held held = copy.get(key);
            if (held != null && held.value().equals(value) && copy.remove(key, held)) {
                writer.execute(() -> delete(key, value));
            }
        }
    }

    /** Claims {@code key} for this relay's MAC: created if absent, taken over if the MAC moved here. */
    private void write(String key, String value, long mac) {
        KeyValue kv = bucket;
        if (kv == null) {
            return;
        }
        byte[] bytes = value.getBytes(StandardCharsets.US_ASCII);
        try {
            KeyValueEntry current = kv.get(key);
            if (current == null) {
                kv.create(key, bytes);
            } else if (current.getValueAsString().startsWith(macHex(mac) + " ")) {
                kv.update(key, bytes, current.getRevision());
            } else {
                counters.increment(Counter.CLUSTER_LEASE_CONFLICTS);
                seen(key, current.getValueAsString(), current.getCreated().toInstant().toEpochMilli());
            }
        } catch (JetStreamApiException lostRace) {
            counters.increment(Counter.CLUSTER_LEASE_CONFLICTS);
            refresh(kv, key);
        } catch (IOException | RuntimeException e) {
            counters.increment(Counter.DROP_CLUSTER_LEASE_WRITE);
        }
    }

    private void delete(String key, String value) {
        KeyValue kv = bucket;
        if (kv == null) {
            return;
        }
        try {
            KeyValueEntry current = kv.get(key);
            if (current != null && current.getValueAsString().equals(value)) {
                kv.delete(key, current.getRevision());
            }
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            counters.increment(Counter.DROP_CLUSTER_LEASE_WRITE);
        }
    }

    private void refresh(KeyValue kv, String key) {
        try {
            KeyValueEntry current = kv.get(key);
            if (current != null) {
                seen(key, current.getValueAsString(), current.getCreated().toInstant().toEpochMilli());
            }
        } catch (IOException | JetStreamApiException | RuntimeException e) {
            counters.increment(Counter.DROP_CLUSTER_LEASE_WRITE);
        }
    }

    /** A value of the copy and when it was written (milliseconds of the wall clock). */
    private record Held(String value, long writtenMillis) {
    }
}
