package dev.riscvrelay.relay.gateway.dns;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the gateway's DNS forwarder sends guests' queries, and its limits.
 *
 * @param resolvers the host's resolvers, tried in order (the next one after a timeout); loopback ones such as
 *     systemd-resolved's 127.0.0.53 work, since the forwarder uses ordinary host sockets
 * @param timeout how long one resolver gets to answer before the next is tried
 * @param maxPending the most queries waiting for an answer at once; more are answered SERVFAIL and counted
 *
 * <p>Answers bigger than the LAN's MTU ({@link dev.riscvrelay.relay.lan.NetworkConfig#mtu()}) go to the guest
 * truncated (TC set).
 */
public record DnsConfig(List<InetSocketAddress> resolvers, Duration timeout, int maxPending) {

    public static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final int DEFAULT_MAX_PENDING = 1024;
    public static final int MAX_PENDING_LIMIT = 16_384;
    public static final int MAX_RESOLVERS = 8;

    public DnsConfig {
        resolvers = List.copyOf(resolvers);
        if (resolvers.isEmpty() || resolvers.size() > MAX_RESOLVERS) {
            throw new IllegalArgumentException("need 1.." + MAX_RESOLVERS + " DNS resolvers: " + resolvers);
        }
        for (InetSocketAddress resolver : resolvers) {
            if (resolver.isUnresolved() || resolver.getPort() == 0) {
                throw new IllegalArgumentException("DNS resolver must be an IP address and port: " + resolver);
            }
        }
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("DNS timeout must be positive: " + timeout);
        }
        if (maxPending < 1 || maxPending > MAX_PENDING_LIMIT) {
            throw new IllegalArgumentException("max pending DNS queries must be 1.." + MAX_PENDING_LIMIT + ": "
                    + maxPending);
        }
    }

    /** The given resolvers (port 53) with default limits. */
    public static DnsConfig of(List<InetSocketAddress> resolvers) {
        return new DnsConfig(resolvers, DEFAULT_TIMEOUT, DEFAULT_MAX_PENDING);
    }

    /** The host's resolvers from /etc/resolv.conf, with default limits. */
    public static DnsConfig fromHost() {
        try {
            return of(parseResolvConf(Files.readString(RESOLV_CONF)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOLV_CONF, e);
        }
    }

    public DnsConfig withTimeout(Duration value) {
        return new DnsConfig(resolvers, value, maxPending);
    }

    public DnsConfig withMaxPending(int value) {
        return new DnsConfig(resolvers, timeout, value);
    }

    /**
     * The {@code nameserver} lines of a resolv.conf(5) text, in order, at port 53 (at most {@link #MAX_RESOLVERS}).
     * IPv6 zone ids ({@code fe80::1%eth0}) are kept. Other lines and comments are ignored.
     *
     * @throws IllegalArgumentException when a nameserver line holds no IP address, or there is none
     */
    public static List<InetSocketAddress> parseResolvConf(String text) {
        List<InetSocketAddress> resolvers = new ArrayList<>();
        for (String line : text.split("\n")) {
            String[] words = line.trim().split("\\s+");
            if (words.length < 2 || !words[0].equals("nameserver") || resolvers.size() == MAX_RESOLVERS) {
                continue;
            }
            resolvers.add(new InetSocketAddress(literalAddress(words[1]), 53));
        }
        if (resolvers.isEmpty()) {
            throw new IllegalArgumentException("no nameserver line in resolv.conf");
        }
        return resolvers;
    }

    /** Parses an IP literal without ever asking DNS (a name here would be a configuration error). */
    static InetAddress literalAddress(String text) {
        boolean literal = text.matches("[0-9.]+") || (text.contains(":") && text.matches("[0-9a-fA-F:.]+(%.+)?"));
        if (!literal) {
            throw new IllegalArgumentException("nameserver is not an IP address: " + text);
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("nameserver is not an IP address: " + text, e);
        }
    }
}
