package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_ACK;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@link InflightBound} on both sides of a connection, against a VM whose path takes 100 KB a millisecond and
 * answers a millisecond later: neither the host's data nor the VM's is let pile up on the way beyond about twice
 * that path's 100 KB, where the congestion window and the window offered alone let a megabyte in flight; and the
 * path is kept busy.
 */
class TcpEndpointInflightTest {

    private static final int VM_DATA = EndpointHarness.Syn.typical().isn() + 1;
    private static final int DATA = EndpointHarness.ISS + 1;
    private static final int PER_MILLI = 100_000;
    private static final int MILLIS = 300;
    private static final int WARM_UP_MILLIS = 100;
    /** The VM's window: its SYN's 65535 scaled by 2^7, 8 MB. */
    private static final int VM_WINDOW_FIELD = 65535;

    @Test
    void theHostsDataInFlightStaysNearTwiceTheBandwidthDelayProduct() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(),
                EndpointHarness.Syn.typical())) {
            // Offsets from the first data byte: the sequence numbers wrap early here.
            int acked = 0;
            int sentEnd = 0;
            long hostBytes = 0;
            int largestInFlight = 0;
            long ackedAfterWarmUp = 0;
            for (int milli = 0; milli < MILLIS; milli++) {
                while (h.reading() && hostBytes < 64L * 1024 * 1024) {
                    h.hostSends(new byte[64 * 1024]);
                    hostBytes += 64 * 1024;
                }
                sentEnd = furthest(h.sent(), sentEnd);
                if (milli >= WARM_UP_MILLIS) {
                    largestInFlight = Math.max(largestInFlight, sentEnd - acked);
                }
                h.advance(1);
                // The VM's path delivers 100 KB a millisecond, oldest first; what arrived is acknowledged.
                int ack = acked + Math.min(PER_MILLI, sentEnd - acked);
                if (milli >= WARM_UP_MILLIS) {
                    ackedAfterWarmUp += ack - acked;
                }
                acked = ack;
                h.vm(FLAG_ACK, VM_DATA, DATA + acked, VM_WINDOW_FIELD);
            }
            assertThat(largestInFlight).as("bytes in flight after the warm-up")
                    .isBetween(TcpSender.BOUND_FLOOR_BYTES, 2 * 2 * PER_MILLI);
            assertThat(ackedAfterWarmUp).as("the path kept busy")
                    .isGreaterThan((long) (0.95 * PER_MILLI * (MILLIS - WARM_UP_MILLIS)));
        }
    }

    @Test
    void theWindowOfferedToTheVmStaysNearTheBandwidthDelayProduct() {
        try (EndpointHarness h = EndpointHarness.established(EndpointHarness.config(),
                EndpointHarness.Syn.typical())) {
            int scale = EndpointHarness.config().receiveWindowScale();
            // Offsets from the VM's first data byte: the sequence numbers wrap early here.
            int sequence = 0;
            int rightEdge = 65535; // the SYN-ACK's window is unscaled
            int largestWindow = 0;
            long sentAfterWarmUp = 0;
            byte[] segment = new byte[1000];
            for (int milli = 0; milli < MILLIS; milli++) {
                // The VM sends what the window it knows allows, as much as its path takes in a millisecond.
                int budget = Math.min(PER_MILLI, rightEdge - sequence);
                for (int sent = 0; sent + segment.length <= budget; sent += segment.length) {
                    h.vm(FLAG_ACK, VM_DATA + sequence, DATA, VM_WINDOW_FIELD, segment);
                    sequence += segment.length;
                    if (milli >= WARM_UP_MILLIS) {
                        sentAfterWarmUp += segment.length;
                    }
                }
                // Our ACKs reach the VM a millisecond later.
                for (SeenSegment ack : h.sent()) {
                    int offered = ack.window << scale;
                    rightEdge = Math.max(rightEdge, ack.ack - VM_DATA + offered);
                    if (milli >= WARM_UP_MILLIS) {
                        largestWindow = Math.max(largestWindow, offered);
                    }
                }
                h.advance(1);
            }
            assertThat(h.hostReceivedLength()).isEqualTo(sequence);
            assertThat(largestWindow).as("the window offered after the warm-up")
                    .isBetween(TcpReceiver.BOUND_FLOOR_BYTES, 2 * 2 * PER_MILLI)
                    .isLessThan(EndpointHarness.config().receiveWindowBytes());
            assertThat(sentAfterWarmUp).as("the path kept busy")
                    .isGreaterThan((long) (0.95 * PER_MILLI * (MILLIS - WARM_UP_MILLIS)));
        }
    }

    private static int furthest(List<SeenSegment> sent, int end) {
        for (SeenSegment segment : sent) {
            end = Math.max(end, segment.seq - DATA + segment.data.length);
        }
        return end;
    }
}
