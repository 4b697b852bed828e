package dev.riscvrelay.relay.tls;

import java.io.IOException;
import java.io.Reader;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

/**
 * The relay's TLS identity: a private key and its certificate chain (leaf first).
 *
 * <p>Browsers accept a self-signed certificate through {@code serverCertificateHashes} only if it is ECDSA and valid
 * for at most 14 days (W3C WebTransport, "custom certificate requirements"), so {@link #selfSigned} caps the validity
 * there. The hash they match is SHA-256 over the DER leaf certificate.
 */
public record RelayCertificate(PrivateKey privateKey, List<X509Certificate> chain, boolean selfSigned) {

    /** The longest validity browsers accept for {@code serverCertificateHashes}. */
    public static final Duration MAX_HASH_PINNED_VALIDITY = Duration.ofDays(14);

    /** notBefore is back-dated so a client whose clock runs a little behind still accepts the certificate. */
    private static final Duration CLOCK_SKEW_ALLOWANCE = Duration.ofHours(1);

    public RelayCertificate {
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("a certificate chain needs at least one certificate");
        }
    }

    public X509Certificate leaf() {
        return chain.getFirst();
    }

    /** SHA-256 of the DER leaf certificate, lowercase hex without separators (what the seed's client parses). */
    public String sha256Hex() {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(leaf().getEncoded());
            return HexFormat.of().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 unavailable", e);
        }
    }

    /**
     * A fresh self-signed ECDSA P-256 certificate. Its validity, counted from {@code now}, must be at most
     * {@link #MAX_HASH_PINNED_VALIDITY}, since browsers refuse longer ones for hash pinning.
     */
    public static RelayCertificate selfSigned(List<String> dnsNames, Instant now, Duration validity) {
        if (validity.isNegative() || validity.isZero() || validity.compareTo(MAX_HASH_PINNED_VALIDITY) > 0) {
            throw new IllegalArgumentException("validity must be more than 0 and at most 14 days: " + validity);
        }
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
            KeyPair keys = generator.generateKeyPair();
            X500Name subject = new X500Name("CN=riscv-relay");
            // The validity window handed to browsers counts from notBefore, so the back-dating comes out of it
            // (a quarter at most, so that a short validity, e.g. for testing renewal, still lies mostly ahead).
            Duration backdating = CLOCK_SKEW_ALLOWANCE.compareTo(validity.dividedBy(4)) < 0
                    ? CLOCK_SKEW_ALLOWANCE : validity.dividedBy(4);
            Instant notBefore = now.minus(backdating);
            Instant notAfter = now.plus(validity).minus(backdating);
            BigInteger serial = new BigInteger(64, new SecureRandom());
            JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    subject, serial, Date.from(notBefore), Date.from(notAfter), subject, keys.getPublic());
            List<GeneralName> names = new ArrayList<>();
            for (String name : dnsNames) {
                names.add(looksLikeIp(name)
                        ? new GeneralName(GeneralName.iPAddress, name)
                        : new GeneralName(GeneralName.dNSName, name));
            }
            builder.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(names.toArray(GeneralName[]::new)));
            builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            builder.addExtension(Extension.extendedKeyUsage, false,
                    new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
            ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate());
            X509CertificateHolder holder = builder.build(signer);
            X509Certificate certificate = new JcaX509CertificateConverter().getCertificate(holder);
            return new RelayCertificate(keys.getPrivate(), List.of(certificate), true);
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("cannot create a self-signed certificate: " + e.getMessage(), e);
        }
    }

    /** The default self-signed identity: localhost names, the longest validity browsers accept. */
    public static RelayCertificate selfSignedForLocalhost() {
        return selfSigned(List.of("localhost", "127.0.0.1", "::1"), Instant.now(), MAX_HASH_PINNED_VALIDITY);
    }

    /**
     * Loads a CA-issued certificate chain and its private key from PEM files.
     *
     * @throws InvalidCertificateException with a one-line reason when a file is unreadable, holds no certificate
     *     or key, or the key does not belong to the certificate
     */
    public static RelayCertificate fromPem(Path certificatePem, Path keyPem) throws InvalidCertificateException {
        List<X509Certificate> chain = readCertificates(certificatePem);
        PrivateKey key = readPrivateKey(keyPem);
        if (!keyMatches(key, chain.getFirst().getPublicKey())) {
            throw new InvalidCertificateException(
                    "the private key in " + keyPem + " does not belong to the certificate in " + certificatePem);
        }
        return new RelayCertificate(key, chain, false);
    }

    private static List<X509Certificate> readCertificates(Path file) throws InvalidCertificateException {
        List<X509Certificate> chain = new ArrayList<>();
        try (Reader reader = Files.newBufferedReader(file); PEMParser parser = new PEMParser(reader)) {
            JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
            Object item;
            while ((item = parser.readObject()) != null) {
                if (item instanceof X509CertificateHolder holder) {
                    chain.add(converter.getCertificate(holder));
                }
            }
        } catch (IOException e) {
            throw new InvalidCertificateException("cannot read certificate " + file + ": " + describe(e));
        } catch (CertificateException e) {
            throw new InvalidCertificateException("invalid certificate in " + file + ": " + e.getMessage());
        }
        if (chain.isEmpty()) {
            throw new InvalidCertificateException("no PEM certificate found in " + file);
        }
        return chain;
    }

    private static PrivateKey readPrivateKey(Path file) throws InvalidCertificateException {
        try (Reader reader = Files.newBufferedReader(file); PEMParser parser = new PEMParser(reader)) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            Object item;
            while ((item = parser.readObject()) != null) {
                if (item instanceof PEMKeyPair pair) {
                    return converter.getPrivateKey(pair.getPrivateKeyInfo());
                }
                if (item instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
            }
        } catch (IOException e) {
            throw new InvalidCertificateException("cannot read private key " + file + ": " + describe(e));
        }
        throw new InvalidCertificateException("no unencrypted PEM private key found in " + file);
    }

    /** Signs a probe with the key and verifies it with the certificate's public key. */
    private static boolean keyMatches(PrivateKey key, PublicKey publicKey) {
        String algorithm = switch (publicKey.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519" -> "Ed25519";
            default -> null;
        };
        if (algorithm == null || !key.getAlgorithm().equals(publicKey.getAlgorithm())) {
            return false;
        }
        try {
            byte[] probe = "riscv-relay key check".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    private static boolean looksLikeIp(String name) {
        return name.matches("[0-9.]+") || name.contains(":");
    }

    private static String describe(IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /** A certificate or key that cannot be used; its message is one line meant for the operator. */
    public static final class InvalidCertificateException extends Exception {
        public InvalidCertificateException(String message) {
            super(message);
        }
    }
}
