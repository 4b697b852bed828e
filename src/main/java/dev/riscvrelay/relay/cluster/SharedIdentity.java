package dev.riscvrelay.relay.cluster;

import dev.riscvrelay.relay.tls.CertificateManager;
import dev.riscvrelay.relay.tls.RelayCertificate;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import io.nats.client.api.KeyValueWatcher;
import io.nats.client.api.StorageType;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;

/**
 * One self-signed certificate for every relay of a cluster, so a page pins one hash whichever relay it reaches:
 * the identity lives in a JetStream key-value bucket ({@value #BUCKET}, key {@value #KEY}, the private key and
 * certificate as base64 DER). The first relay to join writes its own; the others adopt it. A relay that renews
 * writes its renewal with compare-and-set on the revision it last saw, so of two relays renewing at once one wins
 * and the other adopts the winner's; every relay watches the key and adopts what appears. The private key is as
 * safe as the bucket: keep NATS private, or give it TLS and credentials.
 */
final class SharedIdentity {

    static final String BUCKET = "riscv-relay-identity";
    static final String KEY = "self-signed";

    private final CertificateManager certificates;
    private final Consumer<String> log;
    private volatile KeyValue bucket;
    private volatile long revision;

    SharedIdentity(CertificateManager certificates, Consumer<String> log) {
        this.certificates = certificates;
        this.log = log;
    }

    /**
     * Opens the bucket, adopts the cluster's identity or offers ours, and watches for renewals. Blocking: tried
     * {@link JetStreamRetries#ATTEMPTS} times while JetStream does not answer yet.
     */
    void join(Connection connection, int replicas) {
        if (!certificates.selfSignedRenewing()) {
            return;
        }
        for (int attempt = 1; bucket == null; attempt++) {
            try {
                joinOnce(connection, replicas);
                certificates.onChange(this::renewed);
                log.accept("Cluster: certificate shared with the cluster (hash "
                        + certificates.current().sha256Hex() + ")");
            } catch (IOException | JetStreamApiException | GeneralSecurityException | RuntimeException e) {
                if (attempt == JetStreamRetries.ATTEMPTS) {
                    log.accept("Cluster: certificate not shared (" + e.getMessage() + "): this relay keeps its own"
                            + " hash");
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

    private void joinOnce(Connection connection, int replicas)
            throws IOException, JetStreamApiException, GeneralSecurityException, InterruptedException {
        try {
            connection.keyValueManagement().create(KeyValueConfiguration.builder().name(BUCKET)
                    .maxHistoryPerKey(1).storageType(StorageType.File).replicas(replicas).build());
        } catch (JetStreamApiException exists) {
            // made by another relay
        }
        KeyValue kv = connection.keyValue(BUCKET);
        KeyValueEntry entry = kv.get(KEY);
        if (entry == null || !certificates.adopt(decode(entry.getValue())) && !isCurrent(entry)) {
            offer(kv, entry);
        } else {
            revision = entry.getRevision();
        }
        kv.watch(KEY, new KeyValueWatcher() {
            @Override
            public void watch(KeyValueEntry update) {
                if (update.getOperation() == KeyValueOperation.PUT) {
                    revision = Math.max(revision, update.getRevision());
                    adoptQuietly(update);
                }
            }

            @Override
            public void endOfData() {
            }
        });
        bucket = kv;
    }

    private boolean isCurrent(KeyValueEntry entry) throws GeneralSecurityException {
        return decode(entry.getValue()).sha256Hex().equals(certificates.current().sha256Hex());
    }

    /** Writes this relay's identity: created when the key is absent, else replacing the revision seen. */
    private void offer(KeyValue kv, KeyValueEntry seen) throws IOException, JetStreamApiException {
        byte[] value = encode(certificates.current());
        try {
            revision = seen == null ? kv.create(KEY, value) : kv.update(KEY, value, seen.getRevision());
        } catch (JetStreamApiException lost) {
            KeyValueEntry winner = kv.get(KEY);
            if (winner != null) {
                revision = winner.getRevision();
                adoptQuietly(winner);
            }
        }
    }

    /** A renewal here (or an adoption, which is already the bucket's): the cluster gets it. */
    private void renewed(RelayCertificate next) {
        KeyValue kv = bucket;
        if (kv == null) {
            return;
        }
        try {
            KeyValueEntry entry = kv.get(KEY);
            if (entry != null && decode(entry.getValue()).sha256Hex().equals(next.sha256Hex())) {
                return;
            }
            try {
                revision = kv.update(KEY, encode(next), entry == null ? revision : entry.getRevision());
            } catch (JetStreamApiException lost) {
                KeyValueEntry winner = kv.get(KEY);
                if (winner != null) {
                    adoptQuietly(winner);
                }
            }
        } catch (IOException | JetStreamApiException | GeneralSecurityException | RuntimeException e) {
            log.accept("Cluster: renewed certificate not shared: " + e.getMessage());
        }
    }

    private void adoptQuietly(KeyValueEntry entry) {
        try {
            certificates.adopt(decode(entry.getValue()));
        } catch (GeneralSecurityException | RuntimeException e) {
            log.accept("Cluster: the cluster's certificate is unusable here: " + e.getMessage());
        }
    }

    static byte[] encode(RelayCertificate identity) {
        try {
            Base64.Encoder base64 = Base64.getEncoder();
            return (base64.encodeToString(identity.privateKey().getEncoded()) + "\n"
                    + base64.encodeToString(identity.leaf().getEncoded())).getBytes(StandardCharsets.US_ASCII);
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    static RelayCertificate decode(byte[] value) throws GeneralSecurityException {
        String[] parts = new String(value, StandardCharsets.US_ASCII).split("\n");
        if (parts.length != 2) {
            throw new GeneralSecurityException("not a key and a certificate");
        }
        Base64.Decoder base64 = Base64.getDecoder();
        PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(base64.decode(parts[0])));
        X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(base64.decode(parts[1])));
        return new RelayCertificate(key, List.of(certificate), true);
    }
}
