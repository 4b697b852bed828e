package dev.riscvrelay.relay.ops.doctor;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** A host as a test describes it: every fact a field, a healthy host until the test says otherwise. */
final class FakeHost implements HostFacts {

    final Map<String, String> sysctls = new HashMap<>(Map.of(
            "net.ipv4.ping_group_range", "0\t2147483647",
            "net.core.rmem_max", "4194304",
            "net.core.wmem_max", "4194304"));
    Set<Long> groups = Set.of(1000L);
    long openFiles = 1 << 20;
    boolean gso = true;
    boolean gro = true;
    boolean portFree = true;
    boolean relayAnswers;
    Optional<Route> route = Optional.of(new Route("eth0", 1500));
    Instant now = Instant.parse("2026-06-01T00:00:00Z");

    @Override
    public Optional<String> sysctl(String name) {
        return Optional.ofNullable(sysctls.get(name));
    }

    @Override
    public Set<Long> groups() {
        return groups;
    }

    @Override
    public long openFileLimit() {
        return openFiles;
    }

    @Override
    public boolean udpGso() {
        return gso;
    }

    @Override
    public boolean udpGro() {
        return gro;
    }

    @Override
    public boolean portFree(InetAddress bind, int port) {
        return portFree;
    }

    @Override
    public boolean relayAnswers(InetSocketAddress admin) {
        return relayAnswers;
    }

    @Override
    public Optional<Route> defaultRoute() {
        return route;
    }

    @Override
    public Instant now() {
        return now;
    }
}
