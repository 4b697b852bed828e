package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.PingTimes;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The ping floor as the field part runs it: its gateway process in one namespace, its pump and TAP in another,
 * joined by a 1500-MTU veth; Linux's ping through the TAP gets every echo answered by the gateway, and nothing
 * else is answered.
 */
class PingFloorIT {

    private static final int PINGS = 50;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void linuxPingsTheFloorsGatewayThroughItsTapAndUdp() {
        assertThat(Namespaces.isRoot()).as("the ping floor needs root (network namespaces, a TAP)").isTrue();
        try (Namespaces ns = Namespaces.create()) {
            String relay = ns.add("floorrelay");
            String host = ns.add("floorhost");
            ns.veth(relay, "eth0", host, "up0", 1500);
            ns.exec(relay, "ip", "address", "add", "198.51.100.1/24", "dev", "eth0").orThrow();
            ns.exec(host, "ip", "address", "add", "198.51.100.2/24", "dev", "up0").orThrow();
            RelayProcesses.startPingFloor(ns, "ping floor gateway", relay, List.of("gateway", "198.51.100.1:4440"));
            RelayProcesses.startPingFloor(ns, "ping floor pump", host, List.of("pump", "tap0", "198.51.100.1:4440"));
            ns.exec(host, "ip", "address", "add", "10.0.2.99/24", "dev", "tap0").orThrow();
            assertThat(ns.exec(host, "cat", "/sys/class/net/tap0/mtu").stdout().trim())
                    .isEqualTo(Integer.toString(PingFloor.TAP_MTU));

            String gateway = ns.exec(host, Duration.ofSeconds(30), "ping", "-n", "-c", Integer.toString(PINGS), "-i",
                    "0.01", "-W", "2", "10.0.2.2").stdout();
            PingTimes times = PingTimes.parse(gateway, PINGS);
            assertThat(times.answered()).as(gateway).isEqualTo(PINGS);
            assertThat(times.percentile(50)).isPositive();

            String other = ns.exec(host, Duration.ofSeconds(15), "ping", "-n", "-c", "2", "-W", "1", "10.0.2.16")
                    .stdout();
            assertThat(PingTimes.parse(other, 2).answered()).as(other).isZero();
        }
    }
}
