package dev.riscvrelay.relay.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.ParseResult;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Any sequence of IPv4 and IPv6 fragments a VM can send, in any order, sizes and timing, against a plain model of the
 * rules {@link FragmentReassembly} documents: a packet comes out exactly when the model says its pieces cover it, its
 * every payload byte is where the sender put it, each drop is counted by its reason, and nothing is held once the LAN
 * closes.
 *
 * <p>Every piece carries its packet's bytes (a function of the packet's key and the byte's position), so a piece put in
 * the wrong place, or a packet let out with a hole, shows as a wrong byte. The keys are few (two sources, four
 * identifications, and for IPv4 two protocols: 16 and 8), so the sixteen slots never run out and the model needs no
 * eviction (Ipv4ReassemblyTest covers it).
 *
 * <p>Offsets and lengths come in 8-byte steps or in 1,024-byte blocks (so that pieces often fit together) or as any
 * value, the last piece's end included; the clock moves by nothing, a millisecond, a second or more than the timeout,
 * and now and then the once-a-second sweep runs.
 */
class FragmentReassemblyFuzzTest {

    private static final long TIMEOUT = FragmentReassembly.TIMEOUT_NANOS;
    private static final long[] STEPS = {0, TimeUnit.MILLISECONDS.toNanos(1), TimeUnit.SECONDS.toNanos(1),
        TIMEOUT + 1};
    private static final int[] SOURCES = {0x0A00_020F, 0x0A00_0210};
    private static final int DESTINATION = 0xCB00_710A;
    private static final int[] PROTOCOLS = {Ipv4Packet.PROTOCOL_UDP, Ipv4Packet.PROTOCOL_ICMP};
    private static final int[] UPPERS = {Ipv6Packet.NEXT_HEADER_UDP, Ipv6Packet.NEXT_HEADER_TCP,
        Ipv6Packet.NEXT_HEADER_ICMPV6, 59};
    private static final int V4_MAX_PAYLOAD = Ipv4Reassembly.MAX_DATAGRAM - Ipv4Packet.MIN_HEADER_LENGTH;
    private static final int V6_MAX_PAYLOAD = Ipv6Reassembly.MAX_PAYLOAD;

    @FuzzTest(maxDuration = "60s")
    void fragments(FuzzedDataProvider data) {
        UnpooledByteBufAllocator allocator = new UnpooledByteBufAllocator(true);
        Counters counters = new Counters();
        Ipv4Reassembly v4 = new Ipv4Reassembly(allocator, counters);
        Ipv6Reassembly v6 = new Ipv6Reassembly(allocator, counters);
        Model model = new Model();
        EthernetFrame ethernet = new EthernetFrame();
        Ipv4Packet ip4 = new Ipv4Packet();
        Ipv6Packet ip6 = new Ipv6Packet();
        List<ByteBuf> wholes = new ArrayList<>();
        long now = 1_000_000_000L;
        int offers = 0;
        try {
            while (data.remainingBytes() > 0) {
                now += STEPS[data.consumeInt(0, STEPS.length - 1)];
                if (data.consumeInt(0, 7) == 0) {
                    v4.expire(now);
                    v6.expire(now);
                    model.expire(now);
                }
                boolean ipv6 = data.consumeBoolean();
                int source = SOURCES[data.consumeInt(0, 1)];
                int identification = data.consumeInt(0, 3);
                int protocol = ipv6 ? 0 : PROTOCOLS[data.consumeInt(0, 1)];
                int upper = ipv6 ? UPPERS[data.consumeInt(0, UPPERS.length - 1)] : protocol;
                int maxPayload = ipv6 ? V6_MAX_PAYLOAD : V4_MAX_PAYLOAD;
                int start = switch (data.consumeInt(0, 2)) {
                    case 0 -> data.consumeInt(0, 63) * 1024;
                    case 1 -> data.consumeInt(0, 8191) * 8;
                    default -> data.consumeInt(0, 0xFFFF) & ~7;
                };
                int length = switch (data.consumeInt(0, 3)) {
                    case 0 -> 1024;
                    case 1 -> data.consumeInt(0, 256) * 8;
                    case 2 -> data.consumeInt(0, 2048);
                    default -> data.consumeInt(0, 0xFFFF);
                };
                // What fits one packet's length field: IPv4 counts its header in it, IPv6 its fragment header.
                length = Math.min(length, ipv6 ? 0xFFFF - Ipv6Packet.FRAGMENT_HEADER_LENGTH : V4_MAX_PAYLOAD);
                boolean more = data.consumeBoolean();
                Key key = new Key(ipv6, source, identification, protocol);

                ByteBuf fragment = fragment(allocator, key, upper, start, length, more);
                ByteBuf whole;
                try {
                    assertThat(ethernet.wrap(fragment)).isEqualTo(ParseResult.OK);
                    if (ipv6) {
                        assertThat(ip6.wrap(fragment, ethernet.payloadOffset(), ethernet.payloadLength()))
                                .isEqualTo(ParseResult.OK);
                        assertThat(ip6.startsWithFragmentHeader()).isTrue();
                        whole = v6.offer(ethernet, ip6, now);
                    } else {
                        assertThat(ip4.wrap(fragment, ethernet.payloadOffset(), ethernet.payloadLength()))
                                .isEqualTo(ParseResult.OK);
                        whole = v4.offer(ethernet, ip4, now);
                    }
                    offers++;
                } finally {
                    fragment.release();
                }
                assertThat(fragment.refCnt()).as("the reassembly keeps no piece it was given").isZero();
                int expectedTotal = model.offer(key, upper, start, length, more, maxPayload, now);
                if (expectedTotal < 0) {
                    assertThat(whole).as("piece %s %d+%d more=%s: not yet whole", key, start, length, more).isNull();
                } else {
                    assertThat(whole).as("piece %s %d+%d: the packet is whole", key, start, length).isNotNull();
                    wholes.add(whole);
                    checkWhole(whole, key, model.completedUpper, expectedTotal);
                }
                assertThat(counters.get(Counter.IP_FRAGMENTS_IN)).isEqualTo(offers);
                assertThat(counters.get(Counter.IP_DATAGRAMS_REASSEMBLED)).isEqualTo(model.reassembled);
                assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_INVALID)).isEqualTo(model.invalid);
                assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_TIMEOUT)).isEqualTo(model.timeouts);
                assertThat(counters.get(Counter.DROP_IP_REASSEMBLY_EVICTED)).isZero();
                assertThat(v4.inProgress()).isEqualTo(model.inProgress(false));
                assertThat(v6.inProgress()).isEqualTo(model.inProgress(true));
            }
        } finally {
            v4.clear();
            v6.clear();
            for (ByteBuf whole : wholes) {
                assertThat(whole.refCnt()).as("a whole packet is the caller's alone").isEqualTo(1);
                whole.release();
            }
        }
        assertThat(v4.inProgress() + v6.inProgress()).isZero();
        assertThat(allocator.metric().usedDirectMemory()).as("every buffer released").isZero();
    }

    /** A packet's identity: the reassembly's key. IPv6 has no protocol in it (0 here). */
    private record Key(boolean ipv6, int source, int identification, int protocol) {
    }

    /** Per key, the bytes of its packet as the sender wrote them (made once: the fuzzer runs the target often). */
    private static final Map<Key, byte[]> PAYLOADS = new ConcurrentHashMap<>();

    /** The bytes of {@code key}'s packet, longer than any piece reaches; never 0, and different for every key. */
    private static byte[] payload(Key key) {
        return PAYLOADS.computeIfAbsent(key, k -> {
            byte[] bytes = new byte[2 * 0x10000]; // a piece may start near the end and run past it
            Random random = new Random((long) k.source() << 32 ^ k.identification() << 9 ^ k.protocol() << 1
                    ^ (k.ipv6() ? 1 : 0));
            for (int i = 0; i < bytes.length; i++) {
                bytes[i] = (byte) (1 + random.nextInt(255));
            }
            return bytes;
        });
    }

    /** One fragment as a VM sends it: Ethernet to the gateway, the family's header, the packet's bytes at start. */
    private static ByteBuf fragment(UnpooledByteBufAllocator allocator, Key key, int upper, int start, int length,
            boolean more) {
        int headers = EthernetFrame.HEADER_LENGTH
                + (key.ipv6() ? Ipv6Packet.HEADER_LENGTH + Ipv6Packet.FRAGMENT_HEADER_LENGTH
                : Ipv4Packet.MIN_HEADER_LENGTH);
        ByteBuf frame = allocator.directBuffer(headers + length);
        frame.writerIndex(headers + length);
        int at = EthernetFrame.writeHeader(frame, 0, 0x5254_0012_3456L, 0x5255_0A00_020FL,
                key.ipv6() ? EthernetFrame.TYPE_IPV6 : EthernetFrame.TYPE_IPV4);
        if (key.ipv6()) {
            at += Ipv6Packet.writeHeader(frame, at, Ipv6Packet.FRAGMENT_HEADER_LENGTH + length,
                    Ipv6Packet.NEXT_HEADER_FRAGMENT, 64, 0xFD00_0010_0000_0002L, key.source(),
                    0x2001_0DB8_0001_0000L, 0x10);
            at += Ipv6Packet.writeFragmentHeader(frame, at, upper, start, more, key.identification());
        } else {
            at += Ipv4Packet.writeFragmentHeader(frame, at, Ipv4Packet.MIN_HEADER_LENGTH + length,
                    key.identification(), start, more, 64, key.protocol(), key.source(), DESTINATION);
        }
        frame.setBytes(at, payload(key), start, length);
        return frame;
    }

    /** A whole packet: the family's plain header for the key, the first piece's protocol, every byte in place. */
    private static void checkWhole(ByteBuf whole, Key key, int upper, int total) {
        EthernetFrame ethernet = new EthernetFrame();
        assertThat(ethernet.wrap(whole)).isEqualTo(ParseResult.OK);
        int payloadAt;
        if (key.ipv6()) {
            Ipv6Packet ip = new Ipv6Packet();
            assertThat(ip.wrap(whole, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(ip.nextHeader()).isEqualTo(upper);
            assertThat(ip.payloadLength()).isEqualTo(total);
            assertThat(ip.sourceLow()).isEqualTo(key.source());
            payloadAt = ip.payloadOffset();
        } else {
            Ipv4Packet ip = new Ipv4Packet();
            assertThat(ip.wrap(whole, ethernet.payloadOffset(), ethernet.payloadLength())).isEqualTo(ParseResult.OK);
            assertThat(ip.isFragment()).isFalse();
            assertThat(ip.protocol()).isEqualTo(key.protocol());
            assertThat(ip.identification()).isEqualTo(key.identification());
            assertThat(ip.source()).isEqualTo(key.source());
            assertThat(ip.destination()).isEqualTo(DESTINATION);
            assertThat(ip.payloadLength()).isEqualTo(total);
            payloadAt = ip.payloadOffset();
        }
        assertThat(whole.writerIndex()).as("nothing after the packet").isEqualTo(payloadAt + total);
        byte[] received = ByteBufUtil.getBytes(whole, payloadAt, total);
        int wrong = Arrays.mismatch(received, 0, total, payload(key), 0, total);
        if (wrong >= 0) {
            throw new AssertionError("byte " + wrong + " of " + total + " of " + key + " is not the sender's");
        }
    }

    /** The rules as {@link FragmentReassembly} and {@link Ipv6Reassembly} state them, on plain lists. */
    private static final class Model {

        private final Map<Key, Datagram> datagrams = new HashMap<>();
        long reassembled;
        long invalid;
        long timeouts;
        int completedUpper;

        private static final class Datagram {
            final long started;
            final List<int[]> pieces = new ArrayList<>();
            int total = -1;
            int upper = -1;
            int firstLength;

            Datagram(long started) {
                this.started = started;
            }

            int highest() {
                return pieces.stream().mapToInt(piece -> piece[1]).max().orElse(0);
            }

            int received() {
                return pieces.stream().mapToInt(piece -> piece[1] - piece[0]).sum();
            }
        }

        /** Returns the packet's payload length when this piece made it whole (and usable), else -1. */
        int offer(Key key, int upper, int start, int length, boolean more, int maxPayload, long now) {
            Datagram datagram = datagrams.get(key);
            if (datagram != null && now - datagram.started > TIMEOUT) {
                timeouts++;
                datagram = null;
            }
            if (datagram == null) {
                datagram = new Datagram(now);
                datagrams.put(key, datagram);
            }
            int end = start + length;
            boolean valid = length > 0 && end <= maxPayload && (!more || length % 8 == 0)
                    && (more || datagram.total < 0 || end == datagram.total)
                    && (!more || datagram.total < 0 || end <= datagram.total)
                    && (more || end >= datagram.highest());
            if (!valid) {
                return spoil(key);
            }
            for (int[] piece : datagram.pieces) {
                if (start < piece[1] && piece[0] < end) {
                    return start == piece[0] && end == piece[1] ? -1 : spoil(key);
                }
            }
            if (datagram.pieces.size() == FragmentReassembly.MAX_FRAGMENTS) {
                return spoil(key);
            }
            datagram.pieces.add(new int[] {start, end});
            if (start == 0) {
                datagram.upper = upper;
                datagram.firstLength = length;
            }
            if (!more) {
                datagram.total = end;
            }
            if (datagram.total < 0 || datagram.received() != datagram.total) {
                return -1;
            }
            datagrams.remove(key);
            reassembled++;
            if (key.ipv6() && datagram.firstLength < leastFirstPiece(datagram.upper)) {
                invalid++; // RFC 7112: the first piece must hold the whole upper-layer header
                return -1;
            }
            completedUpper = datagram.upper;
            return datagram.total;
        }

        void expire(long now) {
            int before = datagrams.size();
            datagrams.values().removeIf(datagram -> now - datagram.started > TIMEOUT);
            timeouts += before - datagrams.size();
        }

        int inProgress(boolean ipv6) {
            return (int) datagrams.keySet().stream().filter(key -> key.ipv6() == ipv6).count();
        }

        private int spoil(Key key) {
            datagrams.remove(key);
            invalid++;
            return -1;
        }

        private static int leastFirstPiece(int upper) {
            return switch (upper) {
                case Ipv6Packet.NEXT_HEADER_TCP -> 20;
                case Ipv6Packet.NEXT_HEADER_UDP -> 8;
                case Ipv6Packet.NEXT_HEADER_ICMPV6 -> 4;
                default -> Integer.MAX_VALUE;
            };
        }
    }
}
