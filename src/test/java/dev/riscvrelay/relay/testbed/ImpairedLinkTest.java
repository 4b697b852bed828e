package dev.riscvrelay.relay.testbed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.riscvrelay.relay.testbed.ImpairedLink.Fate;
import dev.riscvrelay.relay.testbed.ImpairedLink.Impairment;
import dev.riscvrelay.relay.testbed.ImpairedLink.Lane;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The link's rules on a clock the test drives ({@link Lane}), then the whole proxy on loopback: clean forwarding
 * in order, oversize drops, one upstream peer per client, and a profile's delay on a real round trip.
 */
class ImpairedLinkTest {

    private static final long MS = 1_000_000L;
    private static final long US = 1_000L;

    @Test
    void lossRatioMatchesTheProfileForAFixedSeed() {
        for (LinkProfile profile : List.of(LinkProfile.INTERNET, LinkProfile.LOSSY)) {
            Lane lane = new Lane(profile.impairment(), 1472, 42);
            long now = 0;
            int lost = 0;
            int n = 100_000;
            for (int i = 0; i < n; i++) {
                now += 200 * US; // 1000 bytes every 200 µs: 40 Mbit/s, under both caps, so no queue drops
                if (lane.admit(now, 1000) == Fate.LOST) {
                    lost++;
                }
            }
            assertThat((double) lost / n).as(profile.name()).isCloseTo(profile.impairment().loss(), within(0.002));
            assertThat(lane.counters().queueFull()).isZero();
            assertThat(lane.counters().lost()).isEqualTo(lost);
        }
    }

    @Test
    void theSameSeedLosesTheSameDatagrams() {
        Lane a = new Lane(LinkProfile.LOSSY.impairment(), 1472, 7);
        Lane b = new Lane(LinkProfile.LOSSY.impairment(), 1472, 7);
        for (int i = 0; i < 10_000; i++) {
            assertThat(a.admit(i * MS, 500)).isEqualTo(b.admit(i * MS, 500));
        }
    }

    @Test
    void orderIsKeptUnderJitter() {
        Impairment jittery = new Impairment(Duration.ofMillis(10), Duration.ofMillis(5), 0, 0, 0);
        Lane lane = new Lane(jittery, 1472, 1);
        long previous = Long.MIN_VALUE;
        long now = 0;
        Set<Long> delays = new HashSet<>();
        for (int i = 0; i < 10_000; i++) {
            now += 100 * US; // much closer together than the jitter, so unordered arrival would be common
            assertThat(lane.admit(now, 100)).isEqualTo(Fate.ADMITTED);
            long due = lane.due();
            assertThat(due).isGreaterThanOrEqualTo(previous);
            assertThat(due - now).isBetween(5 * MS, 15 * MS);
            delays.add((due - now) / MS);
            previous = due;
        }
        assertThat(delays).as("jitter spreads the delay").hasSizeGreaterThan(3);
    }

    @Test
    void delayIsAddedToEveryDatagram() {
        Lane lane = new Lane(LinkProfile.LOSSY.impairment(), 1472, 3);
        long now = 1_000 * MS;
        Fate fate;
        do {
            now += 10 * MS;
            fate = lane.admit(now, 1250);
        } while (fate != Fate.ADMITTED);
        // 1250 bytes at 50 Mbit/s take 200 µs to send, then 30 ms on the wire.
        assertThat(lane.due() - now).isEqualTo(30 * MS + 200 * US);

        Lane clean = new Lane(LinkProfile.CLEAN.impairment(), 1472, 3);
        assertThat(clean.admit(now, 1472)).isEqualTo(Fate.ADMITTED);
        assertThat(clean.due()).isEqualTo(now);
    }

    @Test
    void datagramsLargerThanTheLinkCarriesAreDroppedAndCounted() {
        Lane lane = new Lane(LinkProfile.CLEAN.impairment(), 1472, 3);
        assertThat(lane.admit(0, 1472)).isEqualTo(Fate.ADMITTED);
        assertThat(lane.admit(0, 1473)).isEqualTo(Fate.OVERSIZE);
        assertThat(lane.admit(0, 1500)).isEqualTo(Fate.OVERSIZE);
        assertThat(lane.counters().oversize()).isEqualTo(2);
    }

    @Test
    void rateCapPacesAndItsFullQueueDropsTheTail() {
        Impairment capped = new Impairment(Duration.ZERO, Duration.ZERO, 0, 100_000_000L, 256 * 1024);
        Lane lane = new Lane(capped, 1472, 5);
        long now = 0;
        long admittedBytes = 0;
        long lastDue = 0;
        long worstWait = 0;
        int dropped = 0;
        // 1 s of 1000-byte datagrams offered at 1 Gbit/s, ten times the cap.
        for (int i = 0; i < 125_000; i++) {
            now += 8 * US;
            if (lane.admit(now, 1000) == Fate.ADMITTED) {
                admittedBytes += 1000;
                lastDue = lane.due();
                worstWait = Math.max(worstWait, lastDue - now);
            } else {
                dropped++;
            }
        }
        double bitsPerSecond = admittedBytes * 8 / (lastDue / 1e9);
        assertThat(bitsPerSecond).isCloseTo(100e6, within(2e6));
        assertThat(dropped).isEqualTo((int) lane.counters().queueFull()).isGreaterThan(100_000);
        // A full 256 KiB buffer at 100 Mbit/s is about 21 ms of waiting, and never more.
        assertThat(worstWait).isBetween(20 * MS, 22 * MS);
    }

    @Test
    void cleanLinkForwardsInOrderDropsOversizeAndGivesEachClientItsOwnPeer() throws Exception {
        try (Echo echo = new Echo();
             ImpairedLink link = ImpairedLink.start(loopback(0), echo.address(), LinkProfile.CLEAN, 1);
             DatagramSocket a = client();
             DatagramSocket b = client()) {
            for (int i = 0; i < 200; i++) {
                send(a, link, ("a" + i).getBytes(StandardCharsets.US_ASCII));
            }
            List<String> got = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                got.add(receive(a));
            }
            assertThat(got).containsExactlyElementsOf(java.util.stream.IntStream.range(0, 200)
                    .mapToObj(i -> "a" + i).toList());

            send(a, link, new byte[1473]);
            send(b, link, "b".getBytes(StandardCharsets.US_ASCII));
            send(a, link, new byte[1472]);
            assertThat(receive(b)).isEqualTo("b");
            assertThat(receive(a)).hasSize(1472); // the 1473-byte one never came back
            assertThat(link.upCounters().oversize()).isEqualTo(1);
            // The link counts a datagram once its send returned, which may be just after the client got it.
            assertThat(settled(() -> link.upCounters().forwarded(), 202)).isEqualTo(202);
            assertThat(settled(() -> link.downCounters().forwarded(), 202)).isEqualTo(202);
            assertThat(echo.peers()).hasSize(2).doesNotContain(a.getLocalSocketAddress(), b.getLocalSocketAddress());
            assertThat(link.flows()).isEqualTo(2);
            assertThat(link.readyLine()).matches(
                    "ImpairedLink listening on 127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:\\d+ profile clean");
        }
    }

    @Test
    void internetProfileRoundTripTakesItsTwentyMilliseconds() throws Exception {
        // No loss here, so every probe comes back: the profile's delay, jitter and rate, without its 1% loss.
        Impairment internet = LinkProfile.INTERNET.impairment();
        Impairment noLoss = new Impairment(internet.delay(), internet.jitter(), 0, internet.bitsPerSecond(),
                internet.queueBytes());
        try (Echo echo = new Echo();
             ImpairedLink link = ImpairedLink.start(loopback(0), echo.address(), "internet-without-loss", noLoss, 1,
                     1472, 4, Duration.ofSeconds(10));
             DatagramSocket a = client()) {
            long[] rtts = new long[15];
            for (int i = 0; i < rtts.length; i++) {
                long start = System.nanoTime();
                send(a, link, ("probe" + i).getBytes(StandardCharsets.US_ASCII));
                assertThat(receive(a)).isEqualTo("probe" + i);
                rtts[i] = System.nanoTime() - start;
            }
            Arrays.sort(rtts);
            long median = rtts[rtts.length / 2];
            assertThat(median).isBetween(16 * MS, 30 * MS); // 2 × (10 ± 2) ms, plus scheduling
            assertThat(rtts[0]).isGreaterThanOrEqualTo(16 * MS);
        }
    }

    private static InetSocketAddress loopback(int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    private static DatagramSocket client() throws Exception {
        DatagramSocket socket = new DatagramSocket(loopback(0));
        socket.setSoTimeout(2000);
        return socket;
    }

    private static void send(DatagramSocket socket, ImpairedLink link, byte[] data) throws Exception {
        socket.send(new DatagramPacket(data, data.length, link.listenAddress()));
    }

    private static String receive(DatagramSocket socket) throws Exception {
        byte[] buffer = new byte[2048];
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.receive(packet);
        return new String(buffer, 0, packet.getLength(), StandardCharsets.ISO_8859_1);
    }

    /** A UDP echo server on loopback that remembers who sent to it. */
    private static final class Echo implements AutoCloseable {
        private final DatagramSocket socket = new DatagramSocket(loopback(0));
        private final Set<java.net.SocketAddress> peers = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final Thread thread = new Thread(this::run, "echo");

        Echo() throws Exception {
            socket.setSoTimeout(100);
            thread.setDaemon(true);
            thread.start();
        }

        InetSocketAddress address() {
            return (InetSocketAddress) socket.getLocalSocketAddress();
        }

        Set<java.net.SocketAddress> peers() {
            return peers;
        }

        private void run() {
            byte[] buffer = new byte[65_536];
            while (!socket.isClosed()) {
                DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
                try {
                    socket.receive(packet);
                    peers.add(packet.getSocketAddress());
                    socket.send(packet);
                } catch (SocketTimeoutException e) {
                    // look at isClosed again
                } catch (Exception e) {
                    return;
                }
            }
        }

        @Override
        public void close() throws InterruptedException {
            socket.close();
            thread.join(1000);
        }
    }

    /** {@code counter} once it reached {@code expected} or 5 s passed, whichever is first. */
    private static long settled(java.util.function.LongSupplier counter, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        while (counter.getAsLong() < expected && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        return counter.getAsLong();
    }
}
