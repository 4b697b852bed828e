package dev.riscvrelay.relay.tls;

import dev.riscvrelay.relay.tls.RelayCertificate.InvalidCertificateException;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

/**
 * Holds the relay's current TLS identity and replaces it before it runs out, without a restart (the QUIC server
 * reads it per handshake through {@link CurrentCertificateKeyManager}).
 *
 * <ul>
 *   <li>Self-signed: renewed when less than a third of its validity is left, so pages that fetch the hash always
 *       get one with days to go. With a state directory the key and certificate are kept there as PEM and reused
 *       at the next start while not due for renewal, so the hash survives restarts.
 *   <li>CA-issued ({@code --cert-pem}/{@code --key-pem}): the files are read again when they change (a certbot
 *       renewal); a half-written or mismatched pair is reported and the old identity kept.
 * </ul>
 * {@link #refresh()} is called periodically by one control thread; {@link #current()} is safe from any thread.
 */
public final class CertificateManager {

    /** Names in the state directory. */
    public static final String CERTIFICATE_FILE = "certificate.pem";
    public static final String KEY_FILE = "private-key.pem";
    private static final List<String> LOCAL_NAMES = List.of("localhost", "127.0.0.1", "::1");
    private static final Duration PEM_CHECK_INTERVAL = Duration.ofMinutes(1);
    private static final Logger LOG = Logger.getLogger(CertificateManager.class.getName());

    private final InstantSource clock;
    private final Duration validity;
    private final Path stateDirectory;
    private final Path certificatePem;
    private final Path keyPem;
    private final List<Consumer<RelayCertificate>> listeners = new CopyOnWriteArrayList<>();
    private volatile RelayCertificate current;
    private FileTime[] pemVersion;
    private final boolean reusedFromState;

    private CertificateManager(InstantSource clock, Duration validity, Path stateDirectory, Path certificatePem,
            Path keyPem, RelayCertificate initial, boolean reusedFromState) {
        this.clock = clock;
        this.validity = validity;
        this.stateDirectory = stateDirectory;
        this.certificatePem = certificatePem;
        this.keyPem = keyPem;
        this.current = initial;
        this.reusedFromState = reusedFromState;
    }

    /**
     * A self-signed identity of {@code validity} (at most 14 days), reused from {@code stateDirectory} (may be null:
     * kept in memory only) when one there is still good, else made and saved there.
     *
     * @throws InvalidCertificateException when the state directory cannot be created or written
     */
    public static CertificateManager selfSigned(Path stateDirectory, Duration validity, InstantSource clock)
            throws InvalidCertificateException {
        if (stateDirectory != null) {
            RelayCertificate saved = loadSaved(stateDirectory, clock.instant());
            if (saved != null) {
                return new CertificateManager(clock, validity, stateDirectory, null, null, saved, true);
            }
        }
        RelayCertificate fresh = RelayCertificate.selfSigned(LOCAL_NAMES, clock.instant(), validity);
        if (stateDirectory != null) {
            save(stateDirectory, fresh);
        }
        return new CertificateManager(clock, validity, stateDirectory, null, null, fresh, false);
    }

    /** A CA-issued identity from PEM files, read again whenever they change. */
    public static CertificateManager fromPem(Path certificatePem, Path keyPem, InstantSource clock)
            throws InvalidCertificateException {
        FileTime[] version = pemVersion(certificatePem, keyPem);
        CertificateManager manager = new CertificateManager(clock, null, null, certificatePem, keyPem,
                RelayCertificate.fromPem(certificatePem, keyPem), false);
        manager.pemVersion = version;
        return manager;
    }

    /** An identity that never changes (a library user or a test that brings its own). */
    public static CertificateManager fixed(RelayCertificate certificate) {
        return new CertificateManager(InstantSource.system(), null, null, null, null, certificate, false);
    }

    /** The identity new connections get. */
    public RelayCertificate current() {
        return current;
    }

    /** Whether the identity at start came from the state directory (the hash of the last run). */
    public boolean reusedFromState() {
        return reusedFromState;
    }

    /** Called with the new identity after each renewal or reload, on the thread that called {@link #refresh()}. */
    public void onChange(Consumer<RelayCertificate> listener) {
        listeners.add(listener);
    }

    /** How often {@link #refresh()} should run: often enough to renew well before expiry. */
    public Duration checkInterval() {
        if (validity == null) {
            return PEM_CHECK_INTERVAL;
        }
        Duration tenth = validity.dividedBy(10);
        if (tenth.compareTo(Duration.ofSeconds(1)) < 0) {
            return Duration.ofSeconds(1);
        }
        return tenth.compareTo(Duration.ofMinutes(1)) > 0 ? Duration.ofMinutes(1) : tenth;
    }

    /**
     * Renews a self-signed identity that is due, or reloads PEM files that changed. Returns whether the identity
     * changed. Never throws: a failure is logged and the old identity stays.
     */
    public synchronized boolean refresh() {
        try {
            RelayCertificate next = validity != null ? renewedIfDue()
                    : certificatePem != null ? reloadedIfChanged() : null;
            if (next == null) {
                return false;
            }
            current = next;
            for (Consumer<RelayCertificate> listener : listeners) {
                listener.accept(next);
            }
            return true;
        } catch (InvalidCertificateException | RuntimeException e) {
            LOG.log(Level.WARNING, "certificate not renewed, the current one stays: " + e.getMessage());
            return false;
        }
    }

    private RelayCertificate renewedIfDue() throws InvalidCertificateException {
        if (!dueForRenewal(current.leaf(), clock.instant())) {
            return null;
        }
        RelayCertificate fresh = RelayCertificate.selfSigned(LOCAL_NAMES, clock.instant(), validity);
        if (stateDirectory != null) {
            save(stateDirectory, fresh);
        }
        return fresh;
    }

    private RelayCertificate reloadedIfChanged() throws InvalidCertificateException {
        FileTime[] version = pemVersion(certificatePem, keyPem);
        if (java.util.Arrays.equals(version, pemVersion)) {
            return null;
        }
        RelayCertificate reloaded = RelayCertificate.fromPem(certificatePem, keyPem);
        pemVersion = version; // only once the pair loads, so a half-written renewal is retried
        return reloaded;
    }

    /** Whether this manager makes and renews its own self-signed identity (not CA-issued files, not fixed). */
    public boolean selfSignedRenewing() {
        return validity != null;
    }

    /**
     * Takes {@code shared} as the identity (the self-signed one the relays of a cluster share), kept in the state
     * directory like a renewal, and tells the listeners. Ignored when it is the current one already, or when it is
     * not a self-signed identity this manager could have made (not pinnable, not yet valid, or due for renewal).
     *
     * @return whether the identity changed
     */
    public synchronized boolean adopt(RelayCertificate shared) {
        if (!selfSignedRenewing() || shared.sha256Hex().equals(current.sha256Hex())) {
            return false;
        }
        X509Certificate leaf = shared.leaf();
        Instant now = clock.instant();
        Duration window = Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
        if (window.compareTo(RelayCertificate.MAX_HASH_PINNED_VALIDITY) > 0 || now.isBefore(
                leaf.getNotBefore().toInstant().minus(Duration.ofHours(1))) || dueForRenewal(leaf, now)) {
            return false;
        }
        RelayCertificate adopted = new RelayCertificate(shared.privateKey(), shared.chain(), true);
        if (stateDirectory != null) {
            try {
                save(stateDirectory, adopted);
            } catch (InvalidCertificateException e) {
                LOG.log(Level.WARNING, "shared certificate not saved: " + e.getMessage());
            }
        }
        current = adopted;
        for (Consumer<RelayCertificate> listener : listeners) {
            listener.accept(adopted);
        }
        return true;
    }

    /** Due once less than a third of the validity window is left (or it already ran out). */
    public static boolean dueForRenewal(X509Certificate leaf, Instant now) {
        Instant notBefore = leaf.getNotBefore().toInstant();
        Instant notAfter = leaf.getNotAfter().toInstant();
        Duration window = Duration.between(notBefore, notAfter);
        return Duration.between(now, notAfter).compareTo(window.dividedBy(3)) < 0;
    }

    /** The saved identity if it is a usable self-signed ECDSA one not yet due for renewal, else null. */
    private static RelayCertificate loadSaved(Path directory, Instant now) {
        Path certificate = directory.resolve(CERTIFICATE_FILE);
        Path key = directory.resolve(KEY_FILE);
        if (!Files.isRegularFile(certificate) || !Files.isRegularFile(key)) {
            return null;
        }
        try {
            RelayCertificate loaded = RelayCertificate.fromPem(certificate, key);
            X509Certificate leaf = loaded.leaf();
            Duration window = Duration.between(leaf.getNotBefore().toInstant(), leaf.getNotAfter().toInstant());
            boolean hashPinnable = leaf.getPublicKey().getAlgorithm().equals("EC")
                    && window.compareTo(RelayCertificate.MAX_HASH_PINNED_VALIDITY) <= 0;
            if (!hashPinnable || now.isBefore(leaf.getNotBefore().toInstant()) || dueForRenewal(leaf, now)) {
                return null;
            }
            return new RelayCertificate(loaded.privateKey(), loaded.chain(), true);
        } catch (InvalidCertificateException e) {
            LOG.log(Level.WARNING, "ignoring the saved certificate in " + directory + ": " + e.getMessage());
            return null;
        }
    }

    /** Writes key and certificate next to each other, each replaced atomically; the key readable by us only. */
    private static void save(Path directory, RelayCertificate certificate) throws InvalidCertificateException {
        try {
            if (!Files.isDirectory(directory)) {
                Files.createDirectories(directory,
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            // PKCS#8 ("PRIVATE KEY"): it names the curve, which the JDK's EC key encoding needs to read it back.
            writeAtomically(directory.resolve(KEY_FILE), new JcaPKCS8Generator(certificate.privateKey(), null));
            writeAtomically(directory.resolve(CERTIFICATE_FILE), certificate.leaf());
        } catch (IOException e) {
            throw new InvalidCertificateException("cannot save the certificate in " + directory + ": "
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
        }
    }

    private static void writeAtomically(Path target, Object pemObject) throws IOException {
        Path temporary = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.US_ASCII);
                 JcaPEMWriter pem = new JcaPEMWriter(writer)) {
                if (pemObject instanceof JcaPKCS8Generator generator) {
                    pem.writeObject(generator);
                } else {
                    pem.writeObject(pemObject);
                }
            }
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static FileTime[] pemVersion(Path certificatePem, Path keyPem) {
        try {
            return new FileTime[] {Files.getLastModifiedTime(certificatePem), Files.getLastModifiedTime(keyPem)};
        } catch (IOException e) {
            return null; // missing for a moment (being replaced): try again at the next check
        }
    }
}
