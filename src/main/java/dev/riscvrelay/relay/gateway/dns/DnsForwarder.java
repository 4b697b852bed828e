package dev.riscvrelay.relay.gateway.dns;

import dev.riscvrelay.relay.gateway.GatewayOutput;
import dev.riscvrelay.relay.gateway.IpHandler;
import dev.riscvrelay.relay.gateway.Ipv6Handler;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;
import dev.riscvrelay.relay.wire.Ipv6Address;
import dev.riscvrelay.relay.wire.Ipv6Packet;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.wire.ParseResult;
import dev.riscvrelay.relay.wire.UdpPacket;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.PromiseCombiner;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The LAN's DNS server at the gateway's DNS addresses (IPv4 and IPv6): it forwards guests' UDP queries to the host's resolvers through
 * ordinary host UDP sockets on the gateway's event loop and relays the answers back from the DNS address, port 53.
 *
 * <p>Each forwarded query gets a fresh random id (so two guests' equal ids never collide, and a blind spoofer must
 * guess it); an answer is accepted only from the resolver the query went to, with that id and the same question
 * (RFC 5452 section 9.1). A resolver that stays silent for the timeout is replaced by the next one; when all were
 * tried the guest gets SERVFAIL. The pending table is bounded; when full, new queries are answered SERVFAIL.
 *
 * <p>Answers too large for the LAN MTU are sent as the header and question with TC set (RFC 1035 section 4.2.1),
 * like any answer that does not fit UDP, and the upstream's own TC answers pass through: the guest's stub resolver
 * then retries over TCP to the DNS address, which {@link DnsOverTcp} carries to the first resolver through the TCP
 * NAT, not through this forwarder.
 *
 * <p>Single-threaded: {@link #handle} and upstream reads run on the same event loop.
 */
public final class DnsForwarder implements IpHandler, Ipv6Handler, AutoCloseable {

    public static final int DNS_PORT = 53;
    /** RFC 1035 section 4.1.1. */
    static final int HEADER_LENGTH = 12;
    /** RFC 1035 section 3.1: names are at most 255 octets; plus QTYPE and QCLASS. */
    static final int MAX_QUESTION_LENGTH = 255 + 4;
    private static final int REPLY_TTL = 64;
    private static final int FLAG_QR = 0x8000;
    private static final int FLAG_TC = 0x0200;
    private static final int FLAG_RA = 0x0080;
    private static final int OPCODE_MASK = 0x7800;
    private static final int RCODE_SERVFAIL = 2;

    private final DnsConfig config;
    private final EventLoop eventLoop;
    private final Counters counters;
    private final NanoClock nanoClock;
    private final long timeoutNanos;
    private final List<InetSocketAddress> resolvers;
    private final UdpPacket udp = new UdpPacket();
    private final SplittableRandom random = new SplittableRandom(new SecureRandom().nextLong());

    // The pending table, one slot per query waiting for an answer; slotOfUpstreamId maps an id to slot + 1.
    private final int[] slotOfUpstreamId = new int[65_536];
    private final boolean[] busy;
    private final int[] freeSlots;
    private int freeCount;
    private final long[] clientMac;
    /** The client's address as IPv6, an IPv4 client's as IPv4-mapped (::ffff:a.b.c.d), which guests never send from. */
    private final long[] clientHigh;
    private final long[] clientLow;
    private final int[] clientPort;
    private final int[] clientId;
    private final int[] upstreamId;
    private final int[] resolverIndex;
    private final int[] attempts;
    private final long[] deadline;
    /** The query as sent upstream (id rewritten); retained until answered or given up, for retries. */
    private final ByteBuf[] query;
    private final byte[][] question;
    private final int[] questionLength;

    private Channel ipv4Channel;
    private Channel ipv6Channel;
    private ScheduledFuture<?> sweeper;
    private GatewayOutput output;
    private int nextIdentification;

    /**
     * @param eventLoop the gateway's (the switch's) event loop; upstream sockets are registered on it
     * @param counters where to count; the gateway's
     * @param nanoClock a monotonic clock in nanoseconds, like {@link System#nanoTime()}
     */
    public DnsForwarder(DnsConfig config, EventLoop eventLoop, Counters counters, NanoClock nanoClock) {
        this.config = Objects.requireNonNull(config, "config");
        this.eventLoop = Objects.requireNonNull(eventLoop, "eventLoop");
        this.counters = Objects.requireNonNull(counters, "counters");
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        this.timeoutNanos = config.timeout().toNanos();
        this.resolvers = config.resolvers();
        int capacity = config.maxPending();
        busy = new boolean[capacity];
        freeSlots = new int[capacity];
        for (int i = 0; i < capacity; i++) {
            freeSlots[i] = capacity - 1 - i;
        }
        freeCount = capacity;
        clientMac = new long[capacity];
        clientHigh = new long[capacity];
        clientLow = new long[capacity];
        clientPort = new int[capacity];
        clientId = new int[capacity];
        upstreamId = new int[capacity];
        resolverIndex = new int[capacity];
        attempts = new int[capacity];
        deadline = new long[capacity];
        query = new ByteBuf[capacity];
        question = new byte[capacity][MAX_QUESTION_LENGTH];
        questionLength = new int[capacity];
    }

    /**
     * Binds the upstream sockets (wildcard address, ephemeral port; epoll when the loop is an epoll loop) and starts
     * the timeout sweep. Do not wait on the returned future from the event loop itself.
     */
    public Future<Void> start() {
        PromiseCombiner combiner = new PromiseCombiner(eventLoop);
        boolean needIpv4 = resolvers.stream().anyMatch(r -> !(r.getAddress() instanceof Inet6Address));
        boolean needIpv6 = resolvers.stream().anyMatch(r -> r.getAddress() instanceof Inet6Address);
        var promise = eventLoop.<Void>newPromise();
        eventLoop.execute(() -> {
            if (needIpv4) {
                ChannelFuture bound = bootstrap().bind(new InetSocketAddress("0.0.0.0", 0));
                ipv4Channel = bound.channel();
                combiner.add(bound);
            }
            if (needIpv6) {
                ChannelFuture bound = bootstrap().bind(new InetSocketAddress("::", 0));
                ipv6Channel = bound.channel();
                combiner.add(bound);
            }
            long period = Math.max(TimeUnit.MILLISECONDS.toNanos(50), timeoutNanos / 10);
            sweeper = eventLoop.scheduleAtFixedRate(this::expireTimeouts, period, period, TimeUnit.NANOSECONDS);
            combiner.finish(promise);
        });
        return promise;
    }

    private Bootstrap bootstrap() {
        boolean epoll = eventLoop instanceof IoEventLoop io && io.isIoType(EpollIoHandler.class);
        return new Bootstrap().group(eventLoop)
                .channel(epoll ? EpollDatagramChannel.class : NioDatagramChannel.class)
                .handler(new SimpleChannelInboundHandler<DatagramPacket>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, DatagramPacket packet) {
                        onUpstreamAnswer(packet.content(), packet.sender());
                    }
                });
    }

    /** The local address of the IPv4 upstream socket (for tests and logs), or null before {@link #start}. */
    public InetSocketAddress ipv4LocalAddress() {
        return ipv4Channel == null ? null : (InetSocketAddress) ipv4Channel.localAddress();
    }

    /** Queries waiting for an answer. Call on the event loop. */
    public int pendingQueries() {
        return config.maxPending() - freeCount;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        NetworkConfig gateway = output.config();
        if (ip.destination() != gateway.dnsAddress() || ip.protocol() != Ipv4Packet.PROTOCOL_UDP) {
            return false;
        }
        this.output = output;
        if (udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                || udp.destinationPort() != DNS_PORT) {
            return false;
        }
        if (!udp.checksumValid(ip.source(), ip.destination())) {
            counters.increment(Counter.DROP_BAD_CHECKSUM);
            return true;
        }
        int source = ip.source();
        boolean badSource = source == 0 || source == Ipv4Address.BROADCAST || Ipv4Address.isMulticast(source);
        accept(ethernet.source(), 0, IPV4_MAPPED | (source & 0xFFFF_FFFFL), badSource, ip.buffer());
        return true;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv6Packet ip, GatewayOutput output) {
        NetworkConfig gateway = output.config();
        if (ip.destinationHigh() != gateway.ipv6Prefix() || ip.destinationLow() != gateway.dnsIpv6Low()
                || ip.nextHeader() != Ipv6Packet.NEXT_HEADER_UDP) {
            return false;
        }
        this.output = output;
        if (udp.wrap(ip.buffer(), ip.payloadOffset(), ip.payloadLength()) != ParseResult.OK
                || udp.destinationPort() != DNS_PORT) {
            return false;
        }
        long high = ip.sourceHigh();
        long low = ip.sourceLow();
        if (!udp.checksumValidOverIpv6(high, low, ip.destinationHigh(), ip.destinationLow())) {
            counters.increment(Counter.DROP_BAD_CHECKSUM);
            return true;
        }
        boolean badSource = Ipv6Address.isUnspecified(high, low) || Ipv6Address.isMulticast(high) || isIpv4(high, low);
        accept(ethernet.source(), high, low, badSource, ip.buffer());
        return true;
    }

    /** The high 96 bits of an IPv4-mapped address, ::ffff:0:0/96 (RFC 4291 section 2.5.5.2). */
    private static final long IPV4_MAPPED = 0xFFFF_0000_0000L;

    private static boolean isIpv4(long high, long low) {
        return high == 0 && (low >>> 32) == 0xFFFF;
    }

    /** Takes the query in {@link #udp} (checksum verified) from a client, or drops it as malformed. */
    private void accept(long mac, long high, long low, boolean badSource, ByteBuf buf) {
        int dns = udp.dataOffset();
        int length = udp.dataLength();
        int questionEnd = length < HEADER_LENGTH ? -1 : questionEnd(buf, dns, length);
        if (questionEnd < 0 || (buf.getUnsignedShort(dns + 2) & FLAG_QR) != 0
                || buf.getUnsignedShort(dns + 4) != 1 || udp.sourcePort() == 0 || badSource
                || MacAddress.isMulticast(mac)) {
            counters.increment(Counter.DROP_DNS_MALFORMED);
            return;
        }
        if (freeCount == 0) {
            counters.increment(Counter.DNS_REFUSED_PENDING_FULL);
            sendServfail(mac, high, low, udp.sourcePort(), buf, dns, questionEnd);
            return;
        }
        int slot = freeSlots[--freeCount];
        busy[slot] = true;
        clientMac[slot] = mac;
        clientHigh[slot] = high;
        clientLow[slot] = low;
        clientPort[slot] = udp.sourcePort();
        clientId[slot] = buf.getUnsignedShort(dns);
        int qLength = questionEnd - (dns + HEADER_LENGTH);
        buf.getBytes(dns + HEADER_LENGTH, question[slot], 0, qLength);
        questionLength[slot] = qLength;
        int id = unusedUpstreamId();
        upstreamId[slot] = id;
        slotOfUpstreamId[id] = slot + 1;
        ByteBuf copy = ByteBufAllocator.DEFAULT.directBuffer(length, length);
        copy.writeBytes(buf, dns, length);
        copy.setShort(0, id);
        query[slot] = copy;
        resolverIndex[slot] = 0;
        attempts[slot] = 0;
        sendUpstream(slot);
    }

    private int unusedUpstreamId() {
        while (true) {
            int id = random.nextInt(65_536);
            if (slotOfUpstreamId[id] == 0) {
                return id;
            }
        }
    }

    private void sendUpstream(int slot) {
        attempts[slot]++;
        deadline[slot] = nanoClock.nanoTime() + timeoutNanos;
        InetSocketAddress resolver = resolvers.get(resolverIndex[slot]);
        Channel channel = resolver.getAddress() instanceof Inet6Address ? ipv6Channel : ipv4Channel;
        counters.increment(Counter.DNS_QUERIES_FORWARDED);
        if (channel == null || !channel.isActive()) {
            // Not started or closed: the timeout moves the query on and finally answers SERVFAIL.
            return;
        }
        channel.writeAndFlush(new DatagramPacket(query[slot].retainedDuplicate(), resolver), channel.voidPromise());
    }

    /**
     * Moves queries whose resolver stayed silent past the timeout on to the next resolver, or answers SERVFAIL when
     * every resolver was tried. Runs periodically on the event loop; tests call it after moving the clock.
     */
    public void expireTimeouts() {
        long now = nanoClock.nanoTime();
        for (int slot = 0; slot < busy.length; slot++) {
            if (!busy[slot] || now - deadline[slot] < 0) {
                continue;
            }
            counters.increment(Counter.DNS_TIMEOUTS);
            if (attempts[slot] < resolvers.size()) {
                resolverIndex[slot] = (resolverIndex[slot] + 1) % resolvers.size();
                sendUpstream(slot);
            } else {
                counters.increment(Counter.DNS_FAILURES);
                ByteBuf sent = query[slot];
                sendServfail(clientMac[slot], clientHigh[slot], clientLow[slot], clientPort[slot], sent, 0,
                        HEADER_LENGTH + questionLength[slot], clientId[slot]);
                freeSlot(slot);
            }
        }
    }

    private void onUpstreamAnswer(ByteBuf answer, InetSocketAddress sender) {
        int length = answer.readableBytes();
        int at = answer.readerIndex();
        if (length < HEADER_LENGTH) {
            counters.increment(Counter.DNS_UNMATCHED_ANSWERS);
            return;
        }
        int slot = slotOfUpstreamId[answer.getUnsignedShort(at)] - 1;
        if (slot < 0 || !resolvers.get(resolverIndex[slot]).equals(sender)
                || (answer.getUnsignedShort(at + 2) & FLAG_QR) == 0 || answer.getUnsignedShort(at + 4) != 1
                || !sameQuestion(answer, at, length, slot)) {
            counters.increment(Counter.DNS_UNMATCHED_ANSWERS);
            return;
        }
        int questionEnd = at + HEADER_LENGTH + questionLength[slot];
        if (output != null) {
            int ipHeader = isIpv4(clientHigh[slot], clientLow[slot]) ? Ipv4Packet.MIN_HEADER_LENGTH
                    : Ipv6Packet.HEADER_LENGTH;
            if (ipHeader + UdpPacket.HEADER_LENGTH + length > output.config().mtu()) {
                counters.increment(Counter.DNS_TRUNCATED_FOR_MTU);
                sendHeaderAndQuestion(clientMac[slot], clientHigh[slot], clientLow[slot], clientPort[slot], answer,
                        at, questionEnd,
                        clientId[slot], answer.getUnsignedShort(at + 2) | FLAG_TC);
            } else {
                sendToClient(slot, answer, at, length);
                counters.increment(Counter.DNS_ANSWERS);
            }
        }
        freeSlot(slot);
    }

    /** RFC 5452 section 9.1: the answer's question must be the query's; names compare case-insensitively. */
    private boolean sameQuestion(ByteBuf answer, int at, int length, int slot) {
        int qLength = questionLength[slot];
        if (length < HEADER_LENGTH + qLength) {
            return false;
        }
        byte[] expected = question[slot];
        int from = at + HEADER_LENGTH;
        for (int i = 0; i < qLength; i++) {
            int a = answer.getByte(from + i);
            int b = expected[i];
            if (a != b && (toLower(a) != toLower(b))) {
                return false;
            }
        }
        return true;
    }

    private static int toLower(int c) {
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    }

    private void freeSlot(int slot) {
        slotOfUpstreamId[upstreamId[slot]] = 0;
        busy[slot] = false;
        query[slot].release();
        query[slot] = null;
        freeSlots[freeCount++] = slot;
    }

    /**
     * Where the (single) question of the message at {@code dns} ends, or -1 when its name is malformed (label over
     * 63 octets, name over 255, a compression pointer, or running past the message).
     */
    static int questionEnd(ByteBuf buf, int dns, int length) {
        int end = dns + length;
        int at = dns + HEADER_LENGTH;
        int nameLength = 0;
        while (true) {
            if (at >= end) {
                return -1;
            }
            int label = buf.getUnsignedByte(at);
            if (label == 0) {
                at++;
                break;
            }
            if (label > 63) {
                return -1;
            }
            nameLength += label + 1;
            if (nameLength > 254) {
                return -1;
            }
            at += label + 1;
        }
        return at + 4 <= end ? at + 4 : -1;
    }

    private void sendToClient(int slot, ByteBuf answer, int at, int length) {
        long high = clientHigh[slot];
        long low = clientLow[slot];
        ByteBuf frame = startFrame(clientMac[slot], high, low, length);
        int dnsAt = dnsOffset(frame, high, low);
        frame.setBytes(dnsAt, answer, at, length);
        frame.setShort(dnsAt, clientId[slot]);
        finishFrame(frame, high, low, clientPort[slot], length);
    }

    private void sendServfail(long mac, long high, long low, int port, ByteBuf message, int at, int questionEnd) {
        sendServfail(mac, high, low, port, message, at, questionEnd, message.getUnsignedShort(at));
    }

    private void sendServfail(long mac, long high, long low, int port, ByteBuf message, int at, int questionEnd,
            int id) {
        if (output == null) {
            return;
        }
        int flags = (message.getUnsignedShort(at + 2) & (OPCODE_MASK | 0x0100)) | FLAG_QR | FLAG_RA | RCODE_SERVFAIL;
        sendHeaderAndQuestion(mac, high, low, port, message, at, questionEnd, id, flags);
    }

    /** A reply of the header (given id and flags, one question, no records) and the question. */
    private void sendHeaderAndQuestion(long mac, long high, long low, int port, ByteBuf message, int at,
            int questionEnd, int id, int flags) {
        int length = questionEnd - at;
        ByteBuf frame = startFrame(mac, high, low, length);
        int dnsAt = dnsOffset(frame, high, low);
        frame.setBytes(dnsAt, message, at, length);
        frame.setShort(dnsAt, id);
        frame.setShort(dnsAt + 2, flags);
        frame.setShort(dnsAt + 4, 1);
        frame.setZero(dnsAt + 6, 6);
        finishFrame(frame, high, low, port, length);
    }

    private static int ipHeaderLength(long high, long low) {
        return isIpv4(high, low) ? Ipv4Packet.MIN_HEADER_LENGTH : Ipv6Packet.HEADER_LENGTH;
    }

    private static int dnsOffset(ByteBuf frame, long high, long low) {
        return frame.readerIndex() + EthernetFrame.HEADER_LENGTH + ipHeaderLength(high, low) + UdpPacket.HEADER_LENGTH;
    }

    private ByteBuf startFrame(long mac, long high, long low, int dnsLength) {
        return output.allocateFrame(mac, isIpv4(high, low) ? EthernetFrame.TYPE_IPV4 : EthernetFrame.TYPE_IPV6,
                EthernetFrame.HEADER_LENGTH + ipHeaderLength(high, low) + UdpPacket.HEADER_LENGTH + dnsLength);
    }

    private void finishFrame(ByteBuf frame, long high, long low, int port, int dnsLength) {
        NetworkConfig config = output.config();
        int ipAt = frame.readerIndex() + EthernetFrame.HEADER_LENGTH;
        int udpAt = ipAt + ipHeaderLength(high, low);
        int udpLength = UdpPacket.HEADER_LENGTH + dnsLength;
        UdpPacket.writeHeader(frame, udpAt, DNS_PORT, port, udpLength);
        if (isIpv4(high, low)) {
            int dnsAddress = config.dnsAddress();
            int ip = (int) low;
            Ipv4Packet.writeHeader(frame, ipAt, Ipv4Packet.MIN_HEADER_LENGTH + udpLength, nextIdentification, false,
                    REPLY_TTL, Ipv4Packet.PROTOCOL_UDP, dnsAddress, ip);
            nextIdentification = (nextIdentification + 1) & 0xFFFF;
            UdpPacket.fillChecksum(frame, udpAt, udpLength, dnsAddress, ip);
        } else {
            long prefix = config.ipv6Prefix();
            long dnsLow = config.dnsIpv6Low();
            Ipv6Packet.writeHeader(frame, ipAt, udpLength, Ipv6Packet.NEXT_HEADER_UDP, REPLY_TTL, prefix, dnsLow, high,
                    low);
            UdpPacket.fillChecksumOverIpv6(frame, udpAt, udpLength, prefix, dnsLow, high, low);
        }
        output.emit(frame);
    }

    /** Closes the upstream sockets and forgets pending queries. Runs on the event loop. */
    @Override
    public void close() {
        Runnable closing = () -> {
            if (sweeper != null) {
                sweeper.cancel(false);
            }
            if (ipv4Channel != null) {
                ipv4Channel.close();
            }
            if (ipv6Channel != null) {
                ipv6Channel.close();
            }
            for (int slot = 0; slot < busy.length; slot++) {
                if (busy[slot]) {
                    freeSlot(slot);
                }
            }
        };
        if (eventLoop.inEventLoop()) {
            closing.run();
        } else {
            eventLoop.submit(closing).syncUninterruptibly();
        }
    }
}
