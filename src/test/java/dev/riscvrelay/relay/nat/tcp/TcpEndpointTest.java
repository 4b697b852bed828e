package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.EndpointHarness.ISS;
import static dev.riscvrelay.relay.nat.tcp.EndpointHarness.LAN_MSS;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_ACK;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_FIN;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_PSH;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_RST;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_SYN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.nat.tcp.EndpointHarness.Syn;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The RFC 9293 endpoint the NAT plays toward a VM, on virtual time: handshake, data both ways, loss and
 * retransmission with backoff, fast retransmit and NewReno, reordering into the reassembly queue with SACK, zero
 * windows and probes, resets both ways, FIN both ways and TIME_WAIT, and flow control toward the host socket.
 */
class TcpEndpointTest {

    private static final Syn SYN = Syn.typical();
    /** The VM's next sequence number after its SYN. */
    private static final int VM_DATA = SYN.isn() + 1;
    /** Our first data byte. */
    private static final int DATA = ISS + 1;
    /** A window field from the VM: 511 << 7 bytes. */
    private static final int VM_WINDOW = 511;
    /** The window field we offer: 1 MiB at our scale 5. */
    private static final int OUR_WINDOW = (1 << 20) >>> 5;

    // ---- Handshake ----

    @Test
    void synAckWaitsForTheHostAndCarriesTheClampedMssOurScaleAndSack() {
        try (EndpointHarness h = new EndpointHarness(EndpointHarness.config(),
                new Syn(SYN.isn(), 65535, 65495, 7, true))) {
            h.vm(FLAG_SYN, SYN.isn(), 0, 65535); // the VM retransmits its SYN: still waiting for the host
            h.assertNothingSent();
            assertThat(h.millisToDeadline()).isEqualTo(-1);

            h.hostConnects();
            SeenSegment synAck = h.next();
            assertThat(synAck.flags).isEqualTo(FLAG_SYN | FLAG_ACK);
            assertThat(synAck.seq).isEqualTo(ISS);
            assertThat(synAck.ack).isEqualTo(SYN.isn() + 1);
            assertThat(synAck.mss).isEqualTo(LAN_MSS);
            assertThat(synAck.windowScale).isEqualTo(5);
            assertThat(synAck.sackPermitted).isTrue();
            assertThat(synAck.window).isEqualTo(65535); // a SYN's window is never scaled
            assertThat(h.millisToDeadline()).isEqualTo(1000); // RFC 6298's initial RTO
            assertThat(h.counters.get(Counter.NAT_TCP_CONNECTIONS_OPENED)).isEqualTo(1);
        }
    }

    @Test
    void synWithoutScaleOrSackGetsNeither() {
        try (EndpointHarness h = new EndpointHarness(EndpointHarness.config(), new Syn(SYN.isn(), 8192, 0, -1,
                false))) {
            h.hostConnects();
            SeenSegment synAck = h.next();
            assertThat(synAck.windowScale).isEqualTo(-1);
            assertThat(synAck.sackPermitted).isFalse();
            h.vm(FLAG_ACK, VM_DATA, DATA, 8192);
            h.hostSends(new byte[1000]);
            assertThat(h.next().data).hasSize(536); // RFC 9293's default MSS when the SYN names none
        }
    }

    @Test
    void lostSynAckIsResentWithBackoffUntilTheConnectionGivesUp() {
        TcpConfig config = EndpointHarness.config().withTimeouts(Duration.ofSeconds(20), Duration.ofHours(1), 3);
        try (EndpointHarness h = new EndpointHarness(config, SYN)) {
            h.hostConnects();
            h.next();
            h.vm(FLAG_SYN, SYN.isn(), 0, 65535); // the VM's SYN again: our SYN-ACK was lost
            assertThat(h.next().flags).isEqualTo(FLAG_SYN | FLAG_ACK);
            List<Long> resent = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                h.advance(h.millisToDeadline());
                assertThat(h.next().flags).isEqualTo(FLAG_SYN | FLAG_ACK);
                resent.add(h.nowMillis());
            }
            assertThat(resent).containsExactly(1000L, 3000L, 7000L);
            h.advance(h.millisToDeadline());
            SeenSegment reset = h.next();
            assertThat(reset.flags).isEqualTo(FLAG_RST | FLAG_ACK);
            assertThat(reset.seq).isEqualTo(ISS + 1);
            assertThat(h.closed && h.closedWithReset).isTrue();
            assertThat(h.counters.get(Counter.NAT_TCP_ABORTED)).isEqualTo(1);
            assertThat(h.counters.get(Counter.NAT_TCP_TIMEOUTS)).isEqualTo(3);
        }
    }

    @Test
    void unacceptableAckInSynReceivedIsAnsweredWithReset() {
        try (EndpointHarness h = new EndpointHarness(EndpointHarness.config(), SYN)) {
            h.hostConnects();
            h.next();
            h.vm(FLAG_ACK, VM_DATA, ISS + 77, 65535);
            SeenSegment reset = h.next();
            assertThat(reset.flags).isEqualTo(FLAG_RST);
            assertThat(reset.seq).isEqualTo(ISS + 77);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.SYN_RECEIVED);
            assertThat(h.reading).isFalse();
            h.vm(FLAG_ACK, VM_DATA, DATA, 65535);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.ESTABLISHED);
            assertThat(h.reading).as("the host is read once the VM is connected").isTrue();
            assertThat(h.millisToDeadline()).isEqualTo(-1);
        }
    }

    // ---- Data ----

    @Test
    void dataFromTheVmReachesTheHostInOrderWithOneAckPerTurn() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.inOneTurn(() -> {
                h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, text("hello "));
                h.vm(FLAG_ACK | FLAG_PSH, VM_DATA + 6, DATA, VM_WINDOW, text("world"));
            });
            SeenSegment ack = h.next();
            assertThat(ack.flags).isEqualTo(FLAG_ACK);
            assertThat(ack.ack).isEqualTo(VM_DATA + 11);
            assertThat(ack.window).isEqualTo(OUR_WINDOW);
            h.assertNothingSent();
            assertThat(new String(h.hostReceived(), StandardCharsets.US_ASCII)).isEqualTo("hello world");
            assertThat(h.counters.get(Counter.NAT_TCP_BYTES_TO_HOST)).isEqualTo(11);

            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, text("hello ")); // old data: our ACK again
            assertThat(h.next().ack).isEqualTo(VM_DATA + 11);
            assertThat(h.hostReceived()).hasSize(11);
        }
    }

    @Test
    void aKeepAliveOrWindowProbeFromTheVmIsAcknowledgedAPlainAckIsNot() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW); // an ordinary ACK: nothing to answer
            h.assertNothingSent();
            h.vm(FLAG_ACK, VM_DATA - 1, DATA, VM_WINDOW); // Linux's keep-alive and zero-window probe
            SeenSegment ack = h.next();
            assertThat(ack.flags).isEqualTo(FLAG_ACK);
            assertThat(ack.seq).isEqualTo(DATA);
            assertThat(ack.ack).isEqualTo(VM_DATA);
            h.assertNothingSent();
            assertThat(h.endpoint.state()).isEqualTo(TcpState.ESTABLISHED);
        }
    }

    @Test
    void dataFromTheHostGoesOutInMssSegmentsWithPshOnTheLast() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000))) {
            h.hostSends(bytes(2500, 1));
            List<SeenSegment> sent = h.sent();
            assertThat(sent).extracting(s -> s.data.length).containsExactly(1000, 1000, 500);
            assertThat(sent).extracting(s -> s.seq).containsExactly(DATA, DATA + 1000, DATA + 2000);
            assertThat(sent).extracting(s -> s.has(FLAG_PSH)).containsExactly(false, false, true);
            assertThat(concat(sent)).isEqualTo(bytes(2500, 1));
            assertThat(h.millisToDeadline()).isEqualTo(200); // the RTO, measured on the handshake, at its floor
            h.vm(FLAG_ACK, VM_DATA, DATA + 2500, VM_WINDOW);
            assertThat(h.millisToDeadline()).isEqualTo(-1);
            assertThat(h.counters.get(Counter.NAT_TCP_BYTES_TO_VM)).isEqualTo(2500);
        }
    }

    // ---- Loss and retransmission ----

    @Test
    void lostSegmentIsResentAfterTheRtoWhichDoublesUpToItsCeilingUntilTheConnectionGivesUp() {
        TcpConfig config = EndpointHarness.config().withTimeouts(Duration.ofSeconds(20), Duration.ofHours(1), 10);
        try (EndpointHarness h = EndpointHarness.established(config, SYN)) {
            h.hostSends(text("please ack me"));
            SeenSegment first = h.next();
            long sentAt = h.nowMillis();
            List<Long> waits = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                h.advance(h.millisToDeadline());
                SeenSegment again = h.next();
                assertThat(again.seq).isEqualTo(first.seq);
                assertThat(again.data).isEqualTo(first.data);
                waits.add(h.nowMillis() - sentAt);
                sentAt = h.nowMillis();
            }
            assertThat(waits).containsExactly(200L, 400L, 800L, 1600L, 3200L, 6400L, 12800L, 25600L, 51200L, 60000L);
            assertThat(h.counters.get(Counter.NAT_TCP_TIMEOUTS)).isEqualTo(10);
            assertThat(h.counters.get(Counter.NAT_TCP_RETRANSMITS)).isEqualTo(10);
            assertThat(h.counters.get(Counter.NAT_TCP_BYTES_TO_VM)).as("first transmissions only").isEqualTo(13);
            h.advance(h.millisToDeadline());
            SeenSegment reset = h.next();
            assertThat(reset.flags).isEqualTo(FLAG_RST | FLAG_ACK);
            assertThat(reset.seq).isEqualTo(DATA + 13);
            assertThat(h.closedWithReset).isTrue();
            assertThat(h.counters.get(Counter.NAT_TCP_ABORTED)).isEqualTo(1);
        }
    }

    @Test
    void anAckAfterTimeoutsEndsTheBackoffCount() {
        TcpConfig config = EndpointHarness.config().withTimeouts(Duration.ofSeconds(20), Duration.ofHours(1), 2);
        try (EndpointHarness h = EndpointHarness.established(config, SYN)) {
            for (int round = 0; round < 3; round++) {
                h.hostSends(text("x"));
                h.next();
                h.advance(h.millisToDeadline());
                h.advance(h.millisToDeadline());
                assertThat(h.sent()).hasSize(2);
                h.vm(FLAG_ACK, VM_DATA, DATA + round + 1, VM_WINDOW);
                assertThat(h.millisToDeadline()).isEqualTo(-1);
            }
            assertThat(h.closed).as("two timeouts per round never reach the limit of two in a row").isFalse();
        }
    }

    // ---- Timestamps (RFC 7323) ----

    @Test
    void timestampsTheVmOffersAreEchoedOnEverySegmentAndTakeTheirRoomFromTheData() {
        try (EndpointHarness h = new EndpointHarness(EndpointHarness.config(), SYN.withTimestamps(7000))) {
            h.hostConnects();
            SeenSegment synAck = h.next();
            assertThat(synAck.timestamps).isTrue();
            assertThat(synAck.tsEcho).isEqualTo(7000);
            h.vmStamped(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, 7001, synAck.tsValue, new byte[0]);
            h.vmStamped(FLAG_ACK | FLAG_PSH, VM_DATA, DATA, VM_WINDOW, 7002, synAck.tsValue, text("GET /"));
            SeenSegment ack = h.next();
            assertThat(ack.ack).isEqualTo(VM_DATA + 5);
            assertThat(ack.tsEcho).isEqualTo(7002);
            h.advance(5);
            h.hostSends(bytes(3000, 1));
            List<SeenSegment> sent = h.sent();
            assertThat(sent).extracting(segment -> segment.data.length).containsExactly(1448, 1448, 104);
            assertThat(sent).allSatisfy(segment -> {
                assertThat(segment.timestamps).isTrue();
                assertThat(segment.tsEcho).as("TS.Recent: the newest in-order TSval").isEqualTo(7002);
                assertThat(segment.tsValue - synAck.tsValue).as("our clock, in milliseconds").isEqualTo(5);
            });
        }
    }

    @Test
    void withoutTimestampsInTheSynNoSegmentCarriesThem() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.hostSends(bytes(3000, 1));
            assertThat(h.sent()).extracting(segment -> segment.data.length).containsExactly(1460, 1460, 80);
            assertThat(h.sent()).noneMatch(segment -> segment.timestamps);
        }
    }

    @Test
    void aTimestampEchoEndsTheBackoffThatOnlyRetransmissionsWouldOtherwiseKeep() {
        // A VM that lost a burst: every segment after the timeout is a retransmission, which Karn's rule never
        // times, so without timestamps the doubled timeout stays; the echo measures the round trip anyway.
        assertThat(timeoutAfterBackoffAndAnAckedRetransmission(SYN.withTimestamps(7000))).isEqualTo(200);
        assertThat(timeoutAfterBackoffAndAnAckedRetransmission(SYN)).isEqualTo(1600);
    }

    /** Three timeouts on a two-segment flight, then the VM ACKs the retransmitted first segment: the next RTO. */
    private static long timeoutAfterBackoffAndAnAckedRetransmission(Syn syn) {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), syn)) {
            h.hostSends(bytes(2000, 3));
            List<SeenSegment> flight = h.sent();
            assertThat(flight).hasSize(2);
            SeenSegment resent = null;
            for (int i = 0; i < 3; i++) {
                h.advance(h.millisToDeadline());
                resent = h.next();
                h.assertNothingSent();
            }
            assertThat(resent.seq).isEqualTo(DATA);
            int acked = DATA + resent.data.length;
            if (syn.timestamps()) {
                h.vmStamped(FLAG_ACK, VM_DATA, acked, VM_WINDOW, syn.tsValue() + 1, resent.tsValue, new byte[0]);
            } else {
                h.vm(FLAG_ACK, VM_DATA, acked, VM_WINDOW);
            }
            assertThat(h.next().seq).as("the second segment, resent as the window reopens").isEqualTo(acked);
            return h.millisToDeadline();
        }
    }

    @Test
    void sackBlocksOnADataSegmentNeverMakeItLargerThanTheVmsMss() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(),
                SYN.withTimestamps(7000))) {
            // The VM's data after a gap: its SACK blocks ride on every segment we send until the gap fills.
            h.vmStamped(FLAG_ACK, VM_DATA + 100, DATA, VM_WINDOW, 7001, 0, text("later"));
            h.vmStamped(FLAG_ACK, VM_DATA + 200, DATA, VM_WINDOW, 7001, 0, text("even later"));
            assertThat(h.sent().getLast().sackBlocks).isEqualTo(2);
            h.hostSends(bytes(1448 + 100, 4));
            List<SeenSegment> sent = h.sent();
            assertThat(sent).hasSize(2);
            assertThat(sent.getFirst().data).hasSize(1448);
            assertThat(sent.getFirst().headerLength + sent.getFirst().data.length)
                    .as("a full segment: header with timestamps, and no room for SACK").isEqualTo(20 + 1460);
            assertThat(sent.get(1).sackBlocks).as("a short segment still has room for them").isEqualTo(2);
        }
    }

    @Test
    void threeDuplicateAcksFastRetransmitAndPartialAcksResendTheNextHole() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000))) {
            h.hostSends(bytes(5000, 2));
            assertThat(h.sent()).hasSize(5);
            // Segments 1 and 3 lost: the VM acknowledges nothing new, three times.
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW);
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW);
            h.assertNothingSent();
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW);
            SeenSegment fast = h.next();
            assertThat(fast.seq).isEqualTo(DATA);
            assertThat(fast.data).isEqualTo(Arrays.copyOfRange(bytes(5000, 2), 0, 1000));
            assertThat(h.counters.get(Counter.NAT_TCP_FAST_RETRANSMITS)).isEqualTo(1);
            // The resent segment fills the first hole: a partial ACK, and the next hole goes at once (RFC 6582).
            h.vm(FLAG_ACK, VM_DATA, DATA + 2000, VM_WINDOW);
            SeenSegment next = h.next();
            assertThat(next.seq).isEqualTo(DATA + 2000);
            assertThat(next.data).isEqualTo(Arrays.copyOfRange(bytes(5000, 2), 2000, 3000));
            h.vm(FLAG_ACK, VM_DATA, DATA + 5000, VM_WINDOW);
            h.assertNothingSent();
            assertThat(h.millisToDeadline()).isEqualTo(-1);
            assertThat(h.counters.get(Counter.NAT_TCP_RETRANSMITS)).isEqualTo(2);
            assertThat(h.counters.get(Counter.NAT_TCP_TIMEOUTS)).isZero();
        }
    }

    @Test
    void inFastRecoveryTheVmsSackBlocksResendEveryLostSegmentWithinOneRoundTrip() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000))) {
            byte[] data = bytes(10_000, 3);
            h.hostSends(data);
            assertThat(h.sent()).hasSize(10);
            // Segments 1, 3 and 5 are lost; the others arrive and are SACKed, latest block first (RFC 2018).
            h.vm(FLAG_ACK, VM_DATA, DATA + 1000, VM_WINDOW);
            h.vmSack(VM_DATA, DATA + 1000, VM_WINDOW, DATA + 2000, DATA + 3000);
            h.vmSack(VM_DATA, DATA + 1000, VM_WINDOW, DATA + 4000, DATA + 5000, DATA + 2000, DATA + 3000);
            h.assertNothingSent();
            h.vmSack(VM_DATA, DATA + 1000, VM_WINDOW, DATA + 6000, DATA + 7000, DATA + 4000, DATA + 5000,
                    DATA + 2000, DATA + 3000);
            assertThat(h.next().seq).as("the third duplicate: fast retransmit").isEqualTo(DATA + 1000);
            // Each further duplicate makes room for the next hole, before any partial ACK comes back.
            h.vmSack(VM_DATA, DATA + 1000, VM_WINDOW, DATA + 6000, DATA + 8000, DATA + 4000, DATA + 5000,
                    DATA + 2000, DATA + 3000);
            SeenSegment second = h.next();
            assertThat(second.seq).isEqualTo(DATA + 3000);
            assertThat(second.data).isEqualTo(Arrays.copyOfRange(data, 3000, 4000));
            h.vmSack(VM_DATA, DATA + 1000, VM_WINDOW, DATA + 6000, DATA + 9000, DATA + 4000, DATA + 5000,
                    DATA + 2000, DATA + 3000);
            assertThat(h.next().seq).isEqualTo(DATA + 5000);
            h.vmSack(VM_DATA, DATA + 1000, VM_WINDOW, DATA + 6000, DATA + 10_000, DATA + 4000, DATA + 5000,
                    DATA + 2000, DATA + 3000);
            h.assertNothingSent(); // no hole left to resend, and no new data
            // The three resent segments arrive: partial ACKs resend nothing twice, the last ends the recovery.
            h.vmSack(VM_DATA, DATA + 3000, VM_WINDOW, DATA + 4000, DATA + 5000, DATA + 6000, DATA + 10_000);
            h.assertNothingSent();
            h.vmSack(VM_DATA, DATA + 5000, VM_WINDOW, DATA + 6000, DATA + 10_000);
            h.assertNothingSent();
            h.vm(FLAG_ACK, VM_DATA, DATA + 10_000, VM_WINDOW);
            h.assertNothingSent();
            assertThat(h.millisToDeadline()).isEqualTo(-1);
            assertThat(h.counters.get(Counter.NAT_TCP_RETRANSMITS)).isEqualTo(3);
            assertThat(h.counters.get(Counter.NAT_TCP_SACK_RETRANSMITS)).isEqualTo(2);
            assertThat(h.counters.get(Counter.NAT_TCP_TIMEOUTS)).isZero();
        }
    }

    @Test
    void aBurstOfLossesIsResentAsFarAsTheReducedWindowAllowsNotOneHoleAnAck() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000))) {
            h.hostSends(bytes(10_000, 6));
            assertThat(h.sent()).hasSize(10);
            h.vm(FLAG_ACK, VM_DATA, DATA + 10_000, VM_WINDOW); // slow start: the window doubles to 20 segments
            int base = DATA + 10_000;
            h.hostSends(bytes(20_000, 7));
            assertThat(h.sent()).as("all twenty segments left").hasSize(20);
            // The first ten are lost; the VM SACKs the others as they come, its ACKs merged three segments at a time.
            h.vmSack(VM_DATA, base, VM_WINDOW, base + 10_000, base + 13_000);
            // Recovery: the window is CUBIC's 0.7 of the flight, 14 segments, against a pipe of 7 (20 out, 3 SACKed,
            // 10 lost): seven holes go at once, each resend counting in the pipe.
            assertThat(h.sent()).extracting(seen -> seen.seq).containsExactly(base, base + 1000, base + 2000,
                    base + 3000, base + 4000, base + 5000, base + 6000);
            h.vmSack(VM_DATA, base, VM_WINDOW, base + 10_000, base + 16_000);
            assertThat(h.sent()).extracting(seen -> seen.seq)
                    .as("three more SACKed: three more holes").containsExactly(base + 7000, base + 8000, base + 9000);
            h.vmSack(VM_DATA, base, VM_WINDOW, base + 10_000, base + 20_000);
            h.assertNothingSent(); // every hole resent once
            h.vm(FLAG_ACK, VM_DATA, base + 20_000, VM_WINDOW);
            h.assertNothingSent();
            assertThat(h.counters.get(Counter.NAT_TCP_TIMEOUTS)).isZero();
            assertThat(h.counters.get(Counter.NAT_TCP_RETRANSMITS)).isEqualTo(10);
        }
    }

    @Test
    void sackBlocksShowingTheFirstSegmentLostStartRecoveryWhenTheWindowKeepsChanging() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000))) {
            h.hostSends(bytes(6000, 5));
            assertThat(h.sent()).hasSize(6);
            // The first segment is lost; the VM's window grows with every ACK, so none is a duplicate (RFC 5681).
            h.vmSack(VM_DATA, DATA, VM_WINDOW + 1, DATA + 1000, DATA + 2000);
            h.vmSack(VM_DATA, DATA, VM_WINDOW + 2, DATA + 1000, DATA + 3000);
            h.assertNothingSent();
            h.vmSack(VM_DATA, DATA, VM_WINDOW + 3, DATA + 1000, DATA + 4000);
            SeenSegment resent = h.next();
            assertThat(resent.seq).as("three segments SACKed above it: lost").isEqualTo(DATA);
            assertThat(h.counters.get(Counter.NAT_TCP_FAST_RETRANSMITS)).isEqualTo(1);
            h.vm(FLAG_ACK, VM_DATA, DATA + 6000, VM_WINDOW);
            h.assertNothingSent();
            assertThat(h.counters.get(Counter.NAT_TCP_TIMEOUTS)).isZero();
        }
    }

    @Test
    void sackBlocksOutsideTheDataInFlightAreIgnored() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000))) {
            h.hostSends(bytes(6000, 4));
            assertThat(h.sent()).hasSize(6);
            // Blocks beyond what was sent, inverted, or below SND.UNA (a D-SACK) show no hole.
            for (int i = 0; i < 3; i++) {
                h.vmSack(VM_DATA, DATA, VM_WINDOW, DATA + 7000, DATA + 9000, DATA + 5000, DATA + 4000,
                        DATA - 1000, DATA);
            }
            assertThat(h.next().seq).as("fast retransmit").isEqualTo(DATA);
            for (int i = 0; i < 3; i++) {
                h.vmSack(VM_DATA, DATA, VM_WINDOW, DATA + 7000, DATA + 9000);
            }
            h.assertNothingSent();
            assertThat(h.counters.get(Counter.NAT_TCP_SACK_RETRANSMITS)).isZero();
        }
    }

    // ---- Reordering, reassembly, SACK ----

    @Test
    void segmentsAfterAGapAreHeldAndSackedLatestFirstThenDeliveredWhenItFills() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_ACK, VM_DATA + 10, DATA, VM_WINDOW, text("KLMNO"));
            SeenSegment first = h.next();
            assertThat(first.ack).isEqualTo(VM_DATA);
            assertThat(blocks(first)).containsExactly(range(10, 15));
            h.vm(FLAG_ACK, VM_DATA + 20, DATA, VM_WINDOW, text("UVWXY"));
            assertThat(blocks(h.next())).containsExactly(range(20, 25), range(10, 15));
            h.vm(FLAG_ACK, VM_DATA + 10, DATA, VM_WINDOW, text("KLMNO")); // already held: a D-SACK first
            assertThat(blocks(h.next())).containsExactly(range(10, 15), range(20, 25), range(10, 15));
            h.vm(FLAG_ACK, VM_DATA + 15, DATA, VM_WINDOW, text("PQRST"));
            assertThat(blocks(h.next())).containsExactly(range(10, 25));
            assertThat(h.hostReceived()).isEmpty();

            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, text("ABCDEFGHIJ"));
            SeenSegment ack = h.next();
            assertThat(ack.ack).isEqualTo(VM_DATA + 25);
            assertThat(ack.sackBlocks).isZero();
            assertThat(new String(h.hostReceived(), StandardCharsets.US_ASCII))
                    .isEqualTo("ABCDEFGHIJKLMNOPQRSTUVWXY");
            assertThat(h.counters.get(Counter.NAT_TCP_OUT_OF_ORDER_HELD)).isEqualTo(3);
        }
    }

    @Test
    void dataThatArrivesTwiceIsReportedOnceAsADuplicateSackBlock() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, text("ABCDEFGHIJ"));
            h.sent();
            h.vm(FLAG_ACK, VM_DATA + 20, DATA, VM_WINDOW, text("UVWXY"));
            assertThat(blocks(h.next())).containsExactly(range(20, 25));
            // The VM resends what we have (its first copy was late, not lost): RFC 2883's D-SACK, then the held range.
            h.vm(FLAG_ACK, VM_DATA + 5, DATA, VM_WINDOW, text("FGHIJ"));
            SeenSegment duplicate = h.next();
            assertThat(duplicate.ack).isEqualTo(VM_DATA + 10);
            assertThat(blocks(duplicate)).containsExactly(range(5, 10), range(20, 25));
            // Only in the segment right after: the next ACK has the held range alone.
            h.vm(FLAG_ACK, VM_DATA + 30, DATA, VM_WINDOW, text("56789"));
            assertThat(blocks(h.next())).containsExactly(range(30, 35), range(20, 25));
            // A resend that is partly new: the old part is the D-SACK block, the new part is delivered.
            h.vm(FLAG_ACK, VM_DATA + 8, DATA, VM_WINDOW, text("IJKLMNOPQRST"));
            SeenSegment partly = h.next();
            assertThat(partly.ack).isEqualTo(VM_DATA + 25);
            assertThat(blocks(partly)).containsExactly(range(8, 10), range(30, 35));
            assertThat(new String(h.hostReceived(), StandardCharsets.US_ASCII))
                    .isEqualTo("ABCDEFGHIJKLMNOPQRSTUVWXY");
        }
    }

    @Test
    void aHeldFinIsReachedWhenTheGapFills() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_ACK | FLAG_FIN, VM_DATA + 3, DATA, VM_WINDOW, text("def"));
            assertThat(h.next().ack).isEqualTo(VM_DATA);
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, text("abc"));
            assertThat(h.next().ack).isEqualTo(VM_DATA + 7);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.CLOSE_WAIT);
            assertThat(h.outputShut).isTrue();
            assertThat(new String(h.hostReceived(), StandardCharsets.US_ASCII)).isEqualTo("abcdef");
        }
    }

    @Test
    void withoutSackPermittedAGapEarnsPlainDuplicateAcksAndAFullQueueDrops() {
        TcpConfig oneHeld = new TcpConfig(512, 8192, Duration.ofSeconds(20), Duration.ofHours(1),
                Duration.ofSeconds(2), 1 << 20, 1 << 20, Duration.ofMillis(200), Duration.ofSeconds(60), 10, 1);
        try (EndpointHarness h = EndpointHarness.established(oneHeld, new Syn(SYN.isn(), 65535, 1460, 7,
                false))) {
            h.vm(FLAG_ACK, VM_DATA + 10, DATA, VM_WINDOW, text("held"));
            h.vm(FLAG_ACK, VM_DATA + 20, DATA, VM_WINDOW, text("dropped"));
            assertThat(h.sent()).allSatisfy(s -> {
                assertThat(s.ack).isEqualTo(VM_DATA);
                assertThat(s.sackBlocks).isZero();
            });
            assertThat(h.counters.get(Counter.NAT_TCP_OUT_OF_ORDER_HELD)).isEqualTo(1);
            assertThat(h.counters.get(Counter.DROP_NAT_TCP_OUT_OF_ORDER)).isEqualTo(1);
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, text("0123456789"));
            assertThat(h.next().ack).isEqualTo(VM_DATA + 14);
        }
    }

    // ---- Zero window and probes ----

    @Test
    void aClosedWindowIsProbedWithBackoffAndDataFollowsWhenItOpens() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_ACK, VM_DATA, DATA, 0); // the VM's buffer is full
            h.hostSends(text("waiting"));
            h.assertNothingSent();
            List<Long> probes = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                h.advance(h.millisToDeadline());
                SeenSegment probe = h.next();
                assertThat(probe.seq).as("an old sequence number: the VM answers with its window")
                        .isEqualTo(DATA - 1);
                assertThat(probe.data).isEmpty();
                probes.add(h.nowMillis());
            }
            assertThat(probes).containsExactly(200L, 600L, 1400L); // the RTO, doubled after each probe
            h.vm(FLAG_ACK, VM_DATA, DATA, 1);
            SeenSegment data = h.next();
            assertThat(data.seq).isEqualTo(DATA);
            assertThat(new String(data.data, StandardCharsets.US_ASCII)).isEqualTo("waiting");
        }
    }

    @Test
    void aWindowClosedWithDataOutstandingIsProbedByTheRetransmissionNotAbandoned() {
        TcpConfig config = EndpointHarness.config().withTimeouts(Duration.ofSeconds(20), Duration.ofHours(1), 3);
        try (EndpointHarness h = EndpointHarness.established(config, SYN)) {
            h.hostSends(text("in flight"));
            h.next(); // lost on the way
            // A zero-window ACK that a reordering link delivered after the window update it preceded.
            h.vm(FLAG_ACK, VM_DATA, DATA, 0);
            for (int i = 0; i < 3; i++) {
                h.advance(h.millisToDeadline());
                SeenSegment again = h.next();
                assertThat(again.seq).isEqualTo(DATA);
                assertThat(new String(again.data, StandardCharsets.US_ASCII)).isEqualTo("in flight");
            }
            h.vm(FLAG_ACK, VM_DATA, DATA + 9, VM_WINDOW);
            assertThat(h.closed).isFalse();
            assertThat(h.millisToDeadline()).isEqualTo(-1);
        }
    }

    @Test
    void probesThatStayUnansweredEndTheConnection() {
        TcpConfig config = EndpointHarness.config().withTimeouts(Duration.ofSeconds(20), Duration.ofHours(1), 2);
        try (EndpointHarness h = EndpointHarness.established(config, SYN)) {
            h.vm(FLAG_ACK, VM_DATA, DATA, 0);
            h.hostSends(text("stuck"));
            h.advance(h.millisToDeadline());
            h.vm(FLAG_ACK, VM_DATA, DATA, 0); // an answer: the count starts again
            h.advance(h.millisToDeadline());
            h.advance(h.millisToDeadline());
            assertThat(h.sent()).hasSize(3);
            assertThat(h.closed).isFalse();
            h.advance(h.millisToDeadline());
            assertThat(h.next().flags).isEqualTo(FLAG_RST | FLAG_ACK);
            assertThat(h.counters.get(Counter.NAT_TCP_ABORTED)).isEqualTo(1);
        }
    }

    // ---- Resets ----

    @Test
    void onlyAnExactResetFromTheVmEndsTheConnectionAnInWindowOneEarnsAChallengeAck() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_RST, VM_DATA + 1000, 0, 0);
            SeenSegment challenge = h.next();
            assertThat(challenge.flags).isEqualTo(FLAG_ACK);
            assertThat(challenge.ack).isEqualTo(VM_DATA);
            h.vm(FLAG_RST, VM_DATA - 1000, 0, 0); // outside the window: ignored
            h.vm(FLAG_SYN, VM_DATA + 5, 0, 0); // a SYN: challenge ACK, the connection stays (RFC 5961)
            assertThat(h.next().ack).isEqualTo(VM_DATA);
            assertThat(h.closed).isFalse();

            h.vm(FLAG_RST, VM_DATA, 0, 0);
            h.assertNothingSent();
            assertThat(h.closed && h.closedWithReset).as("the host is reset").isTrue();
            assertThat(h.endpoint.state()).isEqualTo(TcpState.CLOSED);
            assertThat(h.counters.get(Counter.NAT_TCP_RESETS_FROM_VM)).isEqualTo(1);
        }
    }

    @Test
    void aBrokenHostResetsTheVm() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, text("abc"));
            h.next();
            h.hostBreaks();
            SeenSegment reset = h.next();
            assertThat(reset.flags).isEqualTo(FLAG_RST | FLAG_ACK);
            assertThat(reset.seq).isEqualTo(DATA);
            assertThat(reset.ack).isEqualTo(VM_DATA + 3);
            assertThat(h.closedWithReset).isTrue();
            assertThat(h.counters.get(Counter.NAT_TCP_RESETS_FROM_HOST)).isEqualTo(1);
            assertThat(h.counters.get(Counter.NAT_TCP_RESETS_TO_VM)).isEqualTo(1);
            assertThat(h.millisToDeadline()).isEqualTo(-1);
        }
    }

    @Test
    void aRefusedConnectIsResetAndAnUnreachableOneEndsQuietly() {
        try (EndpointHarness h = new EndpointHarness(EndpointHarness.config(), SYN)) {
            h.endpoint.onHostRefused();
            SeenSegment reset = h.next();
            assertThat(reset.flags).isEqualTo(FLAG_RST | FLAG_ACK);
            assertThat(reset.seq).isZero();
            assertThat(reset.ack).isEqualTo(VM_DATA);
            assertThat(h.closed && !h.closedWithReset).isTrue();
        }
        try (EndpointHarness h = new EndpointHarness(EndpointHarness.config(), SYN)) {
            h.endpoint.onHostUnreachable();
            h.assertNothingSent();
            assertThat(h.closed).isTrue();
        }
    }

    // ---- Closing ----

    @Test
    void vmClosesFirstTheHostAnswersThenClosesThroughLastAck() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.vm(FLAG_ACK | FLAG_FIN, VM_DATA, DATA, VM_WINDOW, text("bye"));
            SeenSegment finAck = h.next();
            assertThat(finAck.ack).isEqualTo(VM_DATA + 4);
            assertThat(h.outputShut).isTrue();
            assertThat(h.endpoint.state()).isEqualTo(TcpState.CLOSE_WAIT);

            h.hostSends(text("so long"));
            assertThat(new String(h.next().data, StandardCharsets.US_ASCII)).isEqualTo("so long");
            h.hostEof();
            SeenSegment fin = h.next();
            assertThat(fin.flags & FLAG_FIN).isNotZero();
            assertThat(fin.seq).isEqualTo(DATA + 7);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.LAST_ACK);
            h.advance(h.millisToDeadline()); // the FIN's ACK is lost: data and FIN go again
            assertThat(h.sent()).extracting(SeenSegment::sequenceLength).containsExactly(8);
            h.vm(FLAG_ACK, VM_DATA + 4, DATA + 8, VM_WINDOW);
            assertThat(h.closed && !h.closedWithReset).isTrue();
            assertThat(h.millisToDeadline()).isEqualTo(-1);
        }
    }

    @Test
    void hostClosesFirstAndTimeWaitReacknowledgesARetransmittedFinThenEnds() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.hostEof();
            SeenSegment fin = h.next();
            assertThat(fin.flags).isEqualTo(FLAG_ACK | FLAG_FIN);
            assertThat(fin.seq).isEqualTo(DATA);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.FIN_WAIT_1);
            h.vm(FLAG_ACK, VM_DATA, DATA + 1, VM_WINDOW);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.FIN_WAIT_2);
            assertThat(h.millisToDeadline()).isEqualTo(-1);

            h.vm(FLAG_ACK, VM_DATA, DATA + 1, VM_WINDOW, text("late data")); // the VM may still send
            h.vm(FLAG_ACK | FLAG_FIN, VM_DATA + 9, DATA + 1, VM_WINDOW);
            assertThat(h.sent()).extracting(s -> s.ack).containsExactly(VM_DATA + 9, VM_DATA + 10);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.TIME_WAIT);
            assertThat(h.outputShut).isTrue();
            assertThat(h.millisToDeadline()).isEqualTo(2000);

            h.advance(1500);
            h.vm(FLAG_ACK | FLAG_FIN, VM_DATA + 9, DATA + 1, VM_WINDOW); // our ACK was lost
            assertThat(h.next().ack).isEqualTo(VM_DATA + 10);
            assertThat(h.millisToDeadline()).as("TIME_WAIT starts again").isEqualTo(2000);
            h.hostBreaks(); // the host socket going away changes nothing now
            h.assertNothingSent();
            h.advance(2000);
            assertThat(h.closed && !h.closedWithReset).isTrue();
            h.assertNothingSent();
            assertThat(new String(h.hostReceived(), StandardCharsets.US_ASCII)).isEqualTo("late data");
        }
    }

    @Test
    void finsThatCrossGoThroughClosing() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.hostEof();
            h.next();
            h.vm(FLAG_ACK | FLAG_FIN, VM_DATA, DATA, VM_WINDOW); // sent before ours arrived
            assertThat(h.next().ack).isEqualTo(VM_DATA + 1);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.CLOSING);
            h.vm(FLAG_ACK, VM_DATA + 1, DATA + 1, VM_WINDOW);
            assertThat(h.endpoint.state()).isEqualTo(TcpState.TIME_WAIT);
            h.advance(2000);
            assertThat(h.closed).isTrue();
        }
    }

    @Test
    void aLostFinIsResent() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), SYN)) {
            h.hostEof();
            SeenSegment fin = h.next();
            h.advance(h.millisToDeadline());
            SeenSegment again = h.next();
            assertThat(again.flags).isEqualTo(fin.flags);
            assertThat(again.seq).isEqualTo(fin.seq);
        }
    }

    // ---- Flow control toward the host socket ----

    @Test
    void aFullSendBufferStopsReadingTheHostUntilTheVmAcknowledgesHalfOfIt() {
        TcpConfig smallBuffer = new TcpConfig(512, 8192, Duration.ofSeconds(20), Duration.ofHours(1),
                Duration.ofSeconds(2), 4096, 1 << 20, Duration.ofMillis(200), Duration.ofSeconds(60), 10, 64);
        try (EndpointHarness h = EndpointHarness.established(smallBuffer, withMss(1000))) {
            h.hostSends(bytes(4096, 3));
            assertThat(h.reading).isFalse();
            assertThat(h.sent()).hasSize(5);
            h.vm(FLAG_ACK, VM_DATA, DATA + 1000, VM_WINDOW);
            assertThat(h.reading).as("3096 bytes still unacknowledged").isFalse();
            h.vm(FLAG_ACK, VM_DATA, DATA + 3000, VM_WINDOW);
            assertThat(h.reading).isTrue();
        }
    }

    @Test
    void aFullRelayBudgetStopsReadingAtTheGuaranteedPartAndTheConnectionGivesItsShareBackWhenClosed() {
        HostBudget budget = new HostBudget(new HostBudget.Limits(10, HostBudget.GUARANTEED_BUFFER_BYTES, 1, 1));
        HostBudget.Share share = budget.share(mac -> null);
        HostBudget.Share.Account others = share.accountOf(0);
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000),
                share.accountOf(EndpointHarness.VM_MAC))) {
            others.charge(HostBudget.GUARANTEED_BUFFER_BYTES); // other connections hold the whole budget
            h.hostSends(bytes(60_000, 1));
            assertThat(h.reading).as("under its guaranteed part").isTrue();
            h.hostSends(bytes(6_000, 2));
            assertThat(h.reading).as("past its guaranteed part of a full budget").isFalse();
            assertThat(budget.bufferBytes()).isEqualTo(HostBudget.GUARANTEED_BUFFER_BYTES + 66_000);

            others.charge(-HostBudget.GUARANTEED_BUFFER_BYTES);
            int acked = h.sent().size() * 1000;
            h.vm(FLAG_ACK, VM_DATA, DATA + acked, VM_WINDOW);
            assertThat(h.reading).as("the budget has room again once the VM acknowledges").isTrue();
            assertThat(budget.bufferBytes()).isEqualTo(66_000 - acked);

            h.vm(FLAG_RST, VM_DATA, 0, 0);
            assertThat(budget.bufferBytes()).isZero();
        }
    }

    @Test
    void segmentsHeldAfterAGapCountInTheBudgetAndAFullBudgetStopsHoldingPastTheGuaranteedPart() {
        HostBudget budget = new HostBudget(new HostBudget.Limits(10, HostBudget.GUARANTEED_BUFFER_BYTES, 1, 1));
        HostBudget.Share share = budget.share(mac -> null);
        HostBudget.Share.Account others = share.accountOf(0);
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(1000),
                share.accountOf(EndpointHarness.VM_MAC))) {
            // The VM's first 1000 bytes are lost; what follows is held, and charged.
            for (int i = 1; i <= 60; i++) {
                h.vm(FLAG_ACK, VM_DATA + 1000 * i, DATA, VM_WINDOW, bytes(1000, i));
            }
            assertThat(h.counters.get(Counter.NAT_TCP_OUT_OF_ORDER_HELD)).isEqualTo(60);
            assertThat(budget.bufferBytes()).isEqualTo(60_000);
            others.charge(HostBudget.GUARANTEED_BUFFER_BYTES); // the budget is used up
            for (int i = 61; i <= 70; i++) {
                h.vm(FLAG_ACK, VM_DATA + 1000 * i, DATA, VM_WINDOW, bytes(1000, i));
            }
            // Held up to the guaranteed part (64 KiB: 66 segments), then dropped for the VM to resend.
            assertThat(h.counters.get(Counter.NAT_TCP_OUT_OF_ORDER_HELD)).isEqualTo(66);
            assertThat(h.counters.get(Counter.DROP_NAT_TCP_OUT_OF_ORDER)).isEqualTo(4);
            others.charge(-HostBudget.GUARANTEED_BUFFER_BYTES);
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, bytes(1000, 0)); // the gap fills: all delivered, charge gone
            assertThat(h.hostReceivedLength()).isEqualTo(67_000);
            assertThat(budget.bufferBytes()).isZero();
        }
    }

    @Test
    void theWindowShrinksByWhatTheHostHasNotTakenAndReopensWhenItDrains() {
        TcpConfig smallWindow = new TcpConfig(512, 8192, Duration.ofSeconds(20), Duration.ofHours(1),
                Duration.ofSeconds(2), 1 << 20, 8192, Duration.ofMillis(200), Duration.ofSeconds(60), 10, 64);
        try (EndpointHarness h = EndpointHarness.established(smallWindow, SYN)) {
            h.stallHost();
            h.vm(FLAG_ACK, VM_DATA, DATA, VM_WINDOW, bytes(3000, 4));
            assertThat(h.next().window).isEqualTo(8192 - 3000);
            h.vm(FLAG_ACK, VM_DATA + 3000, DATA, VM_WINDOW, bytes(6000, 5)); // beyond the window offered
            SeenSegment full = h.next();
            assertThat(full.ack).isEqualTo(VM_DATA + 8192);
            assertThat(full.window).isZero();
            assertThat(h.counters.get(Counter.DROP_NAT_TCP_OUT_OF_WINDOW)).isEqualTo(1);
            assertThat(h.hostReceived()).hasSize(8192);

            h.drainHost();
            SeenSegment update = h.next();
            assertThat(update.ack).isEqualTo(VM_DATA + 8192);
            assertThat(update.window).isEqualTo(8192);
        }
    }

    @Test
    void aLargeWindowLeavesInBurstsThatYieldTheLoop() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(), withMss(100))) {
            byte[] data = bytes(40_000, 6);
            h.hostSends(data);
            List<SeenSegment> all = new ArrayList<>();
            while (all.size() * 100 < data.length) {
                List<SeenSegment> round = h.sent();
                assertThat(round).isNotEmpty();
                all.addAll(round);
                SeenSegment last = round.get(round.size() - 1);
                h.vm(FLAG_ACK, VM_DATA, last.seq + last.data.length, VM_WINDOW);
            }
            assertThat(concat(all)).isEqualTo(data);
            assertThat(h.resumes).as("windows over 128 segments went out in more than one turn").isPositive();
        }
    }

    // ---- helpers ----

    private static Syn withMss(int mss) {
        return new Syn(SYN.isn(), SYN.window(), mss, SYN.windowScale(), SYN.sack());
    }

    private static byte[] text(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] bytes(int length, int seed) {
        byte[] data = new byte[length];
        new java.util.SplittableRandom(seed).nextBytes(data);
        return data;
    }

    private static byte[] concat(List<SeenSegment> segments) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        segments.forEach(s -> out.writeBytes(s.data));
        return out.toByteArray();
    }

    private static String range(int from, int to) {
        return (VM_DATA + from) + ".." + (VM_DATA + to);
    }

    private static List<String> blocks(SeenSegment segment) {
        List<String> blocks = new ArrayList<>();
        for (int i = 0; i < segment.sackBlocks; i++) {
            blocks.add(segment.sackLeft[i] + ".." + segment.sackRight[i]);
        }
        return blocks;
    }
}
