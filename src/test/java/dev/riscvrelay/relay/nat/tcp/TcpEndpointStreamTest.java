package dev.riscvrelay.relay.nat.tcp;

import static dev.riscvrelay.relay.nat.tcp.EndpointHarness.ISS;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_ACK;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_FIN;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_PSH;
import static dev.riscvrelay.relay.wire.TcpPacket.FLAG_RST;
import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.nat.tcp.EndpointHarness.Syn;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The endpoint against a model of a byte stream: a simple VM-side TCP (go-back-N retransmission, cumulative ACKs,
 * a receive buffer its application drains now and then, one-byte probes of a closed window) talks to the endpoint
 * across a link that loses, duplicates and reorders segments, while a host sends and stalls at random. Whatever the
 * windows, segment sizes and impairments a seed draws, every byte sent each way arrives once and in order, both
 * FINs get through, the endpoint never acknowledges what it has not passed to the host, and every buffer is
 * released. (The window is not checked to the byte: as RFC 9293 words it, SND.UNA + SND.WND may pass the edge the
 * VM offered when a retransmission from the VM carries a newer ACK but an older sequence number than the last
 * window update; the VM trims.)
 */
class TcpEndpointStreamTest {

    /** Seeds per build; {@code -Dtcp.stream.runs=N} soaks with more. */
    private static final int RUNS = Integer.getInteger("tcp.stream.runs", 40);
    /** Ten minutes of virtual time: far beyond what any run needs. */
    private static final long MAX_MILLIS = 600_000;
    /** The VM's own retransmission and window probe timeout. */
    private static final int VM_RTO_MILLIS = 300;

    @Test
    void everyByteArrivesOnceAndInOrderBothWaysOverALossyDuplicatingReorderingLink() {
        Long only = Long.getLong("tcp.stream.seed"); // -Dtcp.stream.seed=N replays one run, traced
        long sackRetransmits = 0;
        for (int run = 0; run < (only == null ? RUNS : 1); run++) {
            long seed = only == null ? 0x7C9_0000L + run : only;
            try {
                sackRetransmits += new Simulation(new SplittableRandom(seed), only != null).run();
            } catch (AssertionError e) {
                throw new AssertionError("seed " + Long.toHexString(seed) + ": " + e.getMessage(), e);
            }
        }
        if (only == null) {
            assertThat(sackRetransmits).as("the VMs' SACK blocks steered some of the resends").isPositive();
        }
    }

    /** A segment on the link, with the time it arrives; {@code toVm} says which way. */
    /** A segment on the link; {@code sack}: the VM's SACK blocks (left, right pairs) on a pure ACK, or null. */
    private record InFlight(long at, long order, boolean toVm, SeenSegment segment, int flags, int seq, int ack,
            int window, byte[] data, int[] sack) {
    }

    private static final class Simulation {
        private final SplittableRandom random;
        private final EndpointHarness h;
        private final Syn syn;
        private final PriorityQueue<InFlight> link = new PriorityQueue<>((a, b) -> a.at != b.at
                ? Long.compare(a.at, b.at) : Long.compare(a.order, b.order));
        private long order;
        private final double loss;
        private final double duplication;
        private final int baseDelay;
        private final int jitter;
        private final int ourScale;

        private final byte[] vmStream;
        private final byte[] hostStream;
        private final int vmMss;
        private final int vmScale;
        private final int vmCapacity;
        private int vmUnread;
        /** Whether the VM's application takes data as it comes (a steady window) or now and then. */
        private final boolean vmReadsPromptly;
        private int vmSndUna;
        private int vmSndNxt;
        private boolean vmFinSent;
        private long vmTimerStart;
        /** The right edge the endpoint offered, in VM stream offsets. */
        private int peerEdge;
        private int vmRcvNxt;
        /** The last segment that arrived out of order, which the VM SACKs (and then drops). */
        private int vmSackedLeft;
        private int vmSackedRight;
        private boolean vmFinReceived;
        private final ByteArrayOutputStream vmReceived = new ByteArrayOutputStream();
        private int hostSent;
        private boolean hostStalled;

        private final boolean trace;

        Simulation(SplittableRandom random, boolean trace) {
            this.random = random;
            this.trace = trace;
            loss = random.nextInt(4) == 0 ? 0 : random.nextDouble(0.15);
            duplication = random.nextInt(3) == 0 ? 0 : random.nextDouble(0.05);
            baseDelay = random.nextInt(1, 20);
            jitter = random.nextInt(0, 30);
            vmStream = TcpEndpointTest.bytes(random.nextInt(0, 24_000), random.nextInt());
            hostStream = TcpEndpointTest.bytes(random.nextInt(0, 24_000), random.nextInt());
            vmMss = random.nextInt(64, 1461);
            vmScale = random.nextInt(-1, 9);
            // What the window field can say: 16 bits, scaled.
            vmCapacity = random.nextInt(1000, Math.min(400_000, 0xFFFF << Math.max(0, vmScale)) + 1);
            vmReadsPromptly = random.nextBoolean();
            int receiveWindow = random.nextInt(4096, (1 << 20) + 1);
            // Karn's rule keeps a backed-off RTO until a new measurement: the ceiling bounds how long runs take.
            TcpConfig config = new TcpConfig(512, 8192, Duration.ofSeconds(20), Duration.ofHours(1),
                    Duration.ofSeconds(2), random.nextInt(4096, (1 << 20) + 1), receiveWindow,
                    Duration.ofMillis(200), Duration.ofMillis(random.nextInt(1000, 5001)), 10,
                    random.nextInt(0, 65));
            ourScale = vmScale >= 0 ? config.receiveWindowScale() : 0;
            syn = new Syn(random.nextInt(), Math.min(vmCapacity, 65535), vmMss, vmScale, random.nextBoolean());
            h = new EndpointHarness(config, syn);
        }

        /** Runs to the end and checks both streams; returns the resends the VM's SACK blocks steered. */
        long run() {
            try (h) {
                handshake();
                int steps = 0;
                while (h.nowMillis() < MAX_MILLIS && !done()) {
                    steps++;
                    h.advance(Math.max(1, untilNextEvent()));
                    arrive();
                    vmTimers();
                    vmApplicationReads();
                    vmSend();
                    host();
                    depart();
                }
                assertThat(done()).as(this::describe).isTrue();
                if (Boolean.getBoolean("tcp.stream.stats")) {
                    System.out.println("STATS " + h.nowMillis() + " ms " + steps + " steps " + h.counters.get(Counter.NAT_TCP_SEGMENTS_OUT) + " out " + order + " links " + describe());
                }
                assertThat(h.hostReceived()).isEqualTo(vmStream);
                assertThat(vmReceived.toByteArray()).isEqualTo(hostStream);
                assertThat(h.closedWithReset).isFalse();
                assertThat(h.counters.get(Counter.NAT_TCP_BYTES_TO_HOST)).isEqualTo(vmStream.length);
                assertThat(h.counters.get(Counter.NAT_TCP_BYTES_TO_VM)).isEqualTo(hostStream.length);
                return h.counters.get(Counter.NAT_TCP_SACK_RETRANSMITS);
            }
        }

        /** Milliseconds to the next arrival, timer, or move of the host or of the VM's application. */
        private long untilNextEvent() {
            long now = h.nowMillis();
            long next = 1000;
            if (!link.isEmpty()) {
                next = Math.min(next, link.peek().at - now);
            }
            if (h.millisToDeadline() >= 0) {
                next = Math.min(next, h.millisToDeadline());
            }
            if (vmOutstanding() || vmSndNxt < vmStream.length) {
                next = Math.min(next, vmTimerStart + VM_RTO_MILLIS - now);
            }
            if (hostCanMove()) {
                next = Math.min(next, hostNextAt - now);
            }
            if (vmUnread > 0) {
                next = Math.min(next, vmReadAt - now);
            }
            return next;
        }

        private boolean done() {
            return h.closed && vmFinReceived && h.hostReceivedLength() == vmStream.length;
        }

        private String describe() {
            return "loss " + loss + " dup " + duplication + " delay " + baseDelay + "+" + jitter + " mss " + vmMss
                    + " scale " + vmScale + " capacity " + vmCapacity + (vmReadsPromptly ? " prompt" : " slow")
                    + " streams " + vmStream.length + "/"
                    + hostStream.length + ": state " + h.endpoint.state() + ", host got " + h.hostReceivedLength()
                    + ", VM got " + vmReceived.size() + (vmFinReceived ? "+FIN" : "") + ", host sent " + hostSent
                    + ", VM una/nxt " + vmSndUna + "/" + vmSndNxt + " peer edge " + peerEdge;
        }

        /** The handshake itself over a clean link: the impairments start with the data. */
        private void handshake() {
            h.hostConnects();
            SeenSegment synAck = h.next();
            assertThat(synAck.ack).isEqualTo(syn.isn() + 1);
            int window = vmWindowField();
            h.vm(FLAG_ACK, syn.isn() + 1, ISS + 1, window);
            peerEdge = synAck.window; // unscaled in a SYN-ACK; the next segment says more
            vmTimerStart = h.nowMillis();
        }

        // ---- The link ----

        private void depart() {
            for (SeenSegment segment : h.sent()) {
                if (trace) {
                    System.out.println(h.nowMillis() + " sent    " + segment + " | " + h.endpoint.state()
                            + " next timer in " + h.millisToDeadline());
                }
                checkInvariants(segment);
                send(new InFlight(0, 0, true, segment, 0, 0, 0, 0, null, null));
            }
        }

        private void send(InFlight segment) {
            if (random.nextDouble() < loss) {
                return;
            }
            int copies = random.nextDouble() < duplication ? 2 : 1;
            for (int i = 0; i < copies; i++) {
                long at = h.nowMillis() + baseDelay + (jitter == 0 ? 0 : random.nextInt(jitter + 1));
                link.add(new InFlight(at, order++, segment.toVm, segment.segment, segment.flags, segment.seq,
                        segment.ack, segment.window, segment.data, segment.sack));
            }
        }

        private void arrive() {
            long now = h.nowMillis();
            h.inOneTurn(() -> {
                while (!link.isEmpty() && link.peek().at <= now) {
                    InFlight next = link.poll();
                    if (trace) {
                        System.out.println(now + (next.toVm ? " to VM   " + next.segment : " from VM "
                                + new String(new char[] {(next.flags & FLAG_FIN) != 0 ? 'F' : '.'}) + " seq="
                                + (next.seq - syn.isn() - 1) + " ack=" + (next.ack - ISS - 1) + " win="
                                + next.window + " len=" + next.data.length) + " | " + h.endpoint.state());
                    }
                    if (next.toVm) {
                        vmReceives(next.segment);
                    } else {
                        if (next.sack != null) {
                            h.vmSack(next.seq, next.ack, next.window, next.sack);
                        } else {
                            h.vm(next.flags, next.seq, next.ack, next.window, next.data);
                        }
                    }
                }
            });
        }

        /** Plain checks, not AssertJ: they run for every segment. */
        private void checkInvariants(SeenSegment segment) {
            check(!segment.has(FLAG_RST), "no reset", segment);
            int acknowledged = segment.ack - (syn.isn() + 1);
            check(acknowledged <= h.hostReceivedLength() + (h.outputShut ? 1 : 0),
                    "acknowledges only what the host got", segment);
        }

        private static void check(boolean condition, String what, SeenSegment segment) {
            if (!condition) {
                throw new AssertionError("expected " + what + ": " + segment);
            }
        }

        // ---- The VM ----

        private int vmWindowField() {
            return (vmCapacity - vmUnread) >>> Math.max(0, vmScale);
        }

        private void vmReceives(SeenSegment segment) {
            check(!segment.has(FLAG_RST), "no reset", segment);
            if (segment.has(FLAG_ACK)) {
                int acknowledged = segment.ack - (syn.isn() + 1);
                if (acknowledged > vmSndUna) {
                    vmSndUna = acknowledged;
                    vmTimerStart = h.nowMillis();
                }
                vmSndNxt = Math.max(vmSndNxt, vmSndUna);
                peerEdge = Math.max(peerEdge, acknowledged + (segment.window << ourScale));
            }
            int offset = segment.seq - (ISS + 1);
            int length = segment.data.length;
            if (offset > vmRcvNxt && length > 0) {
                // Out of order: SACKed (RFC 2018), then dropped all the same. A VM may renege on what it SACKed; the
                // relay must then resend it after its timeout.
                vmSackedLeft = offset;
                vmSackedRight = offset + length;
            }
            if (offset == vmRcvNxt && length > 0) {
                int taken = Math.min(length, vmCapacity - vmUnread);
                vmReceived.write(segment.data, 0, taken);
                vmRcvNxt += taken;
                vmUnread += taken;
            }
            if (segment.has(FLAG_FIN) && offset + length == vmRcvNxt && !vmFinReceived) {
                vmFinReceived = true;
                vmRcvNxt++;
            }
            if (length > 0 || segment.has(FLAG_FIN) || offset < vmRcvNxt) {
                vmAck(); // data, FIN or an old sequence number (a window probe): the VM answers
            }
        }

        private void vmAck() {
            if (syn.sack() && vmSackedRight > vmRcvNxt) {
                int base = ISS + 1;
                send(new InFlight(0, 0, false, null, FLAG_ACK, syn.isn() + 1 + vmSndNxt, base + vmRcvNxt,
                        vmWindowField(), new byte[0], new int[] {base + vmSackedLeft, base + vmSackedRight}));
                return;
            }
            vmSegment(FLAG_ACK, vmSndNxt, new byte[0]);
        }

        private void vmSegment(int flags, int offset, byte[] data) {
            int window = vmWindowField();
            send(new InFlight(0, 0, false, null, flags, syn.isn() + 1 + offset, ISS + 1 + vmRcvNxt, window, data,
                    null));
        }

        private boolean vmOutstanding() {
            return vmSndUna < vmStream.length + (vmFinSent ? 1 : 0);
        }

        /** Go-back-N: after a timeout without progress, everything unacknowledged goes again. */
        private void vmTimers() {
            if (vmOutstanding() && vmSndNxt > vmSndUna && h.nowMillis() - vmTimerStart >= VM_RTO_MILLIS) {
                vmSndNxt = vmSndUna;
                vmTimerStart = h.nowMillis();
            }
        }

        private void vmApplicationReads() {
            if (vmUnread > 0 && (vmReadsPromptly || h.nowMillis() >= vmReadAt)) {
                boolean wasSmall = vmCapacity - vmUnread < vmCapacity / 2;
                vmUnread = 0;
                vmReadAt = h.nowMillis() + random.nextInt(1, 100);
                if (wasSmall) {
                    vmAck(); // window update
                }
            }
        }

        private void vmSend() {
            while (vmSndNxt < vmStream.length) {
                int length = Math.min(vmMss, vmStream.length - vmSndNxt);
                int allowed = peerEdge - vmSndNxt;
                if (allowed <= 0) {
                    // A closed window: probe it with one byte once nothing else is outstanding for a while.
                    if (vmSndNxt != vmSndUna || h.nowMillis() - vmTimerStart < VM_RTO_MILLIS) {
                        return;
                    }
                    vmTimerStart = h.nowMillis();
                    length = 1;
                } else {
                    length = Math.min(length, allowed);
                }
                if (vmSndNxt == vmSndUna) {
                    vmTimerStart = h.nowMillis();
                }
                boolean last = vmSndNxt + length == vmStream.length;
                byte[] data = Arrays.copyOfRange(vmStream, vmSndNxt, vmSndNxt + length);
                vmSegment(FLAG_ACK | (last ? FLAG_PSH | FLAG_FIN : 0), vmSndNxt, data);
                vmSndNxt += length + (last ? 1 : 0);
                vmFinSent |= last;
            }
            if (vmStream.length == 0 && vmSndNxt == 0) {
                vmSegment(FLAG_ACK | FLAG_FIN, 0, new byte[0]);
                vmSndNxt = 1;
                vmFinSent = true;
                vmTimerStart = h.nowMillis();
            }
        }

        // ---- The host ----

        private boolean hostCanMove() {
            return hostStalled || (h.reading && !h.closed && (hostSent < hostStream.length || !hostEofSent));
        }

        /** Now and then the host stalls or drains, sends a chunk, or ends its stream. */
        private void host() {
            if (!hostCanMove() || h.nowMillis() < hostNextAt) {
                return;
            }
            hostNextAt = h.nowMillis() + random.nextInt(1, 8);
            if (hostStalled) {
                if (random.nextInt(10) == 0) {
                    hostStalled = false;
                    h.drainHost();
                }
            } else if (random.nextInt(100) == 0) {
                hostStalled = true;
                h.stallHost();
            }
            if (!h.reading || h.closed) {
                return;
            }
            if (hostSent < hostStream.length) {
                int length = Math.min(random.nextInt(1, 4000), hostStream.length - hostSent);
                h.hostSends(Arrays.copyOfRange(hostStream, hostSent, hostSent + length));
                hostSent += length;
            } else if (!hostEofSent) {
                hostEofSent = true;
                h.hostEof();
            }
        }

        private long hostNextAt;
        private long vmReadAt;
        private boolean hostEofSent;
    }
}
