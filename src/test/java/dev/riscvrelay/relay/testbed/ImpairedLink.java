package dev.riscvrelay.relay.testbed;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import jdk.net.ExtendedSocketOptions;

/**
 * A user-space UDP link between clients and a server, for a kernel without qdiscs (no netem, no tbf): it forwards
 * both directions and impairs each on its own with a one-way delay and jitter (order kept: a datagram never leaves
 * before the one before it in its direction), random loss from a seeded RNG, and a rate cap whose bounded queue
 * drops the tail when full, as a router's buffer does.
 *
 * <p>Each client source address gets its own upstream socket toward {@code --to}, so the server sees one peer per
 * client. A datagram is forwarded as one datagram, never split or enlarged; one larger than {@code --max-datagram}
 * (default 1472: the UDP payload a 1500-MTU IPv4 link carries) is dropped and counted, and sockets set
 * IP_DONTFRAGMENT so the kernel does not fragment either.
 *
 * <pre>
 *   java -cp target/test-classes dev.riscvrelay.relay.testbed.ImpairedLink --listen ADDR:PORT --to ADDR:PORT
 *       --profile clean|internet|lossy|far [--seed N] [--duration-seconds N] [--max-datagram N] [--max-flows N]
 *       [--idle-seconds N] [--report-seconds N]
 * </pre>
 *
 * It prints {@code ImpairedLink listening on ADDR:PORT -> ADDR:PORT profile P} when ready, counter lines
 * ({@link Counters#line}) every {@code --report-seconds} and once more at exit, which comes after
 * {@code --duration-seconds} (default 3600) or on SIGTERM.
 *
 * <p>Threads: one receives (a selector over the listening socket and every upstream socket) and decides each
 * datagram's fate in its direction's {@link Lane}; one sends each admitted datagram when it is due. A 2-core machine
 * pushes a few hundred Mbit/s through it: enough for behaviour under impairment, not for speed records (use clean
 * veths for those).
 */
public final class ImpairedLink implements AutoCloseable {

    /** The UDP payload a 1500-MTU IPv4 link carries: 1500 − 20 (IPv4) − 8 (UDP). */
    public static final int DEFAULT_MAX_DATAGRAM = 1472;
    public static final int DEFAULT_MAX_FLOWS = 256;
    public static final Duration DEFAULT_IDLE = Duration.ofSeconds(120);
    /** Datagrams admitted but not yet sent, per direction (the delay line plus the rate queue). */
    public static final int MAX_IN_FLIGHT = 16_384;

    /** What one direction of the link does to the datagrams crossing it. {@code bitsPerSecond} 0 is no cap. */
    public record Impairment(Duration delay, Duration jitter, double loss, long bitsPerSecond, int queueBytes) {
        public static final Impairment NONE = new Impairment(Duration.ZERO, Duration.ZERO, 0, 0, 0);

        public Impairment {
            if (delay.isNegative() || jitter.isNegative() || jitter.compareTo(delay) > 0) {
                throw new IllegalArgumentException("delay and jitter must be ≥ 0, jitter ≤ delay: " + delay + " "
                        + jitter);
            }
            if (!(loss >= 0 && loss < 1) || bitsPerSecond < 0 || queueBytes < 0) {
                throw new IllegalArgumentException("loss in [0, 1), rate and queue ≥ 0");
            }
        }
    }

    /** The named links of the test bed and {@code relay bench}; each impairment applies to each direction. */
    public enum LinkProfile {
        /** No impairment at all. */
        CLEAN(Impairment.NONE),
        /** 20 ms RTT with ±2 ms jitter, 1% loss and 100 Mbit/s each way; a 256 KiB (~21 ms) router buffer. */
        INTERNET(new Impairment(Duration.ofMillis(10), Duration.ofMillis(2), 0.01, 100_000_000L, 256 * 1024)),
        /** 60 ms RTT, 3% loss and 50 Mbit/s each way; a 256 KiB (~42 ms) router buffer. */
        LOSSY(new Impairment(Duration.ofMillis(30), Duration.ZERO, 0.03, 50_000_000L, 256 * 1024)),
        /** A second's round trip (a congested mobile link, a satellite), no loss, no cap: slow handshakes. */
        FAR(new Impairment(Duration.ofMillis(500), Duration.ZERO, 0, 0, 0));

        private final Impairment impairment;

        LinkProfile(Impairment impairment) {
            this.impairment = impairment;
        }

        public Impairment impairment() {
            return impairment;
        }

        public String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static LinkProfile parse(String name) {
            for (LinkProfile p : values()) {
                if (p.cliName().equals(name)) {
                    return p;
                }
            }
            throw new IllegalArgumentException("unknown profile '" + name + "' (clean, internet, lossy)");
        }
    }

    /** Why a datagram did not cross. */
    public enum Fate {
        ADMITTED, OVERSIZE, LOST, QUEUE_FULL
    }

    /**
     * One direction's impairment as pure logic over a caller's clock: {@link #admit} decides a datagram's fate and,
     * when admitted, the nanosecond it is due at the far end. Owned by one thread (the receiver).
     *
     * <p>The rate cap models the bottleneck's serialisation: a datagram starts transmitting when the one before it
     * has finished ({@code txFree}); what waits for that is the queue, whose bytes are {@code (txFree − now) × rate};
     * a datagram that would push the queue past {@code queueBytes} is dropped (tail drop). After transmission it
     * travels {@code delay ± jitter}, but never arrives before the datagram before it.
     */
    public static final class Lane {
        private final Impairment impairment;
        /** Changeable while the link runs: a path that shrinks when a tunnel comes up. */
        private volatile int maxDatagram;
        private final SplittableRandom random;
        private final double nanosPerByte;
        private final long queueNanos;
        private long txFree = Long.MIN_VALUE;
        private long lastDue = Long.MIN_VALUE;
        private Fate lastFate;
        private long lastDueAt;
        final Counters counters = new Counters();

        public Lane(Impairment impairment, int maxDatagram, long seed) {
            this.impairment = impairment;
            this.maxDatagram = maxDatagram;
            this.random = new SplittableRandom(seed);
            this.nanosPerByte = impairment.bitsPerSecond() == 0 ? 0 : 8e9 / impairment.bitsPerSecond();
            this.queueNanos = (long) (impairment.queueBytes() * nanosPerByte);
        }

        /** The fate of a datagram of {@code length} bytes arriving at {@code now}; its due time is {@link #due()}. */
        public Fate admit(long now, int length) {
            lastFate = decide(now, length);
            switch (lastFate) {
                case OVERSIZE -> counters.oversize.incrementAndGet();
                case LOST -> counters.lost.incrementAndGet();
                case QUEUE_FULL -> counters.queueFull.incrementAndGet();
                case ADMITTED -> { }
            }
            return lastFate;
        }

        private Fate decide(long now, int length) {
            if (length > maxDatagram) {
                return Fate.OVERSIZE;
            }
            if (impairment.loss() > 0 && random.nextDouble() < impairment.loss()) {
                return Fate.LOST;
            }
            long sent = now;
            if (nanosPerByte > 0) {
                long start = Math.max(now, txFree);
                if (start - now > queueNanos) {
                    return Fate.QUEUE_FULL;
                }
                sent = start + (long) (length * nanosPerByte);
                txFree = sent;
            }
            long travel = impairment.delay().toNanos();
            long jitter = impairment.jitter().toNanos();
            if (jitter > 0) {
                travel += random.nextLong(-jitter, jitter + 1);
            }
            lastDueAt = Math.max(sent + travel, lastDue);
            lastDue = lastDueAt;
            return Fate.ADMITTED;
        }

        /** When the datagram of the last {@link #admit} that returned {@link Fate#ADMITTED} is due. */
        public long due() {
            if (lastFate != Fate.ADMITTED) {
                throw new IllegalStateException("the last datagram was not admitted: " + lastFate);
            }
            return lastDueAt;
        }

        public Counters counters() {
            return counters;
        }

        /** From now on, datagrams larger than {@code bytes} are dropped (and counted as oversize). */
        public void maxDatagram(int bytes) {
            maxDatagram = bytes;
        }
    }

    /** One direction's counters; written by the receiver and the sender thread, read by anyone. */
    public static final class Counters {
        final AtomicLong forwarded = new AtomicLong();
        final AtomicLong forwardedBytes = new AtomicLong();
        final AtomicLong lost = new AtomicLong();
        final AtomicLong oversize = new AtomicLong();
        final AtomicLong queueFull = new AtomicLong();
        final AtomicLong sendFailed = new AtomicLong();

        public long forwarded() {
            return forwarded.get();
        }

        public long forwardedBytes() {
            return forwardedBytes.get();
        }

        public long lost() {
            return lost.get();
        }

        public long oversize() {
            return oversize.get();
        }

        public long queueFull() {
            return queueFull.get();
        }

        public long sendFailed() {
            return sendFailed.get();
        }

        /** Every datagram that arrived in this direction, whatever its fate (in flight ones included). */
        public long offered() {
            return forwarded() + lost() + oversize() + queueFull() + sendFailed();
        }

        /**
         * {@code ImpairedLink counters up forwarded=N bytes=N lost=N oversize=N queue=N sendfail=N}: one line, the
         * same keys every time, for people and for tests that parse it.
         */
        public String line(String direction) {
            return "ImpairedLink counters " + direction + " forwarded=" + forwarded() + " bytes=" + forwardedBytes()
                    + " lost=" + lost() + " oversize=" + oversize() + " queue=" + queueFull() + " sendfail="
                    + sendFailed();
        }
    }

    /** A client's flow: its address and the upstream socket that carries its datagrams to the server. */
    private static final class Flow {
        final InetSocketAddress client;
        final DatagramChannel upstream;
        long lastActive;

        Flow(InetSocketAddress client, DatagramChannel upstream, long now) {
            this.client = client;
            this.upstream = upstream;
            this.lastActive = now;
        }
    }

    /** An admitted datagram waiting for its due time. */
    private record Pending(long due, ByteBuffer data, Flow flow) {
    }

    /** A direction's queue from the receiver to the sender; due times never decrease along it. */
    private static final class Line {
        final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
        final AtomicInteger size = new AtomicInteger();
    }

    private final InetSocketAddress to;
    private final String profileName;
    private final int maxFlows;
    private final long idleNanos;
    private final LongSupplier clock = System::nanoTime;
    private final DatagramChannel listen;
    private final Selector selector;
    private final Lane up;
    private final Lane down;
    private final Line upLine = new Line();
    private final Line downLine = new Line();
    private final Map<InetSocketAddress, Flow> flows = new HashMap<>();
    private final AtomicLong refusedFlows = new AtomicLong();
    private final AtomicInteger flowCount = new AtomicInteger();
    private final Thread receiver;
    private final Thread sender;
    private volatile boolean senderParked;
    private volatile long senderWakesAt;
    private volatile boolean running = true;

    private ImpairedLink(InetSocketAddress listenAt, InetSocketAddress to, String profileName, Impairment impairment,
            long seed, int maxDatagram, int maxFlows, Duration idle) throws IOException {
        this.to = to;
        this.profileName = profileName;
        this.maxFlows = maxFlows;
        this.idleNanos = idle.toNanos();
        this.up = new Lane(impairment, maxDatagram, seed);
        this.down = new Lane(impairment, maxDatagram, seed ^ 0x5DEECE66DL);
        this.selector = Selector.open();
        this.listen = DatagramChannel.open();
        try {
            configure(listen);
            listen.bind(listenAt);
            listen.register(selector, SelectionKey.OP_READ);
        } catch (IOException | RuntimeException e) {
            listen.close();
            selector.close();
            throw e;
        }
        this.receiver = new Thread(this::receiveLoop, "impaired-link-receive");
        this.sender = new Thread(this::sendLoop, "impaired-link-send");
    }

    /** Binds {@code listenAt} and starts forwarding to {@code to}. */
    public static ImpairedLink start(InetSocketAddress listenAt, InetSocketAddress to, LinkProfile profile, long seed,
            int maxDatagram, int maxFlows, Duration idle) throws IOException {
        return start(listenAt, to, profile.cliName(), profile.impairment(), seed, maxDatagram, maxFlows, idle);
    }

    /** As the other {@code start}, with an impairment of the caller's own, named {@code profileName}. */
    public static ImpairedLink start(InetSocketAddress listenAt, InetSocketAddress to, String profileName,
            Impairment impairment, long seed, int maxDatagram, int maxFlows, Duration idle) throws IOException {
        ImpairedLink link = new ImpairedLink(listenAt, to, profileName, impairment, seed, maxDatagram, maxFlows, idle);
        link.receiver.start();
        link.sender.start();
        return link;
    }

    /** {@link #start} with the defaults: 1472-byte datagrams, 256 flows, 120 s idle expiry. */
    public static ImpairedLink start(InetSocketAddress listenAt, InetSocketAddress to, LinkProfile profile, long seed)
            throws IOException {
        return start(listenAt, to, profile, seed, DEFAULT_MAX_DATAGRAM, DEFAULT_MAX_FLOWS, DEFAULT_IDLE);
    }

    private static void configure(DatagramChannel channel) throws IOException {
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        channel.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
        // Never let the kernel fragment what we forward: a datagram too big for the path fails (counted) instead.
        channel.setOption(ExtendedSocketOptions.IP_DONTFRAGMENT, true);
    }

    /** Where clients send to. */
    public InetSocketAddress listenAddress() {
        try {
            return (InetSocketAddress) listen.getLocalAddress();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Client → server. */
    /**
     * Shrinks (or widens) what the link carries while it runs, both ways, as when a VPN or another tunnel comes up
     * on the path; larger datagrams vanish silently from then on, as on a path whose ICMP errors are filtered.
     */
    public void maxDatagram(int bytes) {
        up.maxDatagram(bytes);
        down.maxDatagram(bytes);
    }

    public Counters upCounters() {
        return up.counters;
    }

    /** Server → client. */
    public Counters downCounters() {
        return down.counters;
    }

    public int flows() {
        return flowCount.get();
    }

    /** Datagrams from new clients dropped because {@code maxFlows} flows were open. */
    public long refusedFlows() {
        return refusedFlows.get();
    }

    public String readyLine() {
        return "ImpairedLink listening on " + hostPort(listenAddress()) + " -> " + hostPort(to) + " profile "
                + profileName;
    }

    /** The two counter lines and a flow line. */
    public List<String> counterLines() {
        return List.of(up.counters.line("up"), down.counters.line("down"),
                "ImpairedLink flows open=" + flows() + " refused=" + refusedFlows());
    }

    private void receiveLoop() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
        long nextExpiry = clock.getAsLong() + Math.min(idleNanos, TimeUnit.SECONDS.toNanos(1));
        try {
            while (running) {
                selector.select(100);
                for (SelectionKey key : selector.selectedKeys()) {
                    if (!key.isValid()) {
                        continue;
                    }
                    DatagramChannel channel = (DatagramChannel) key.channel();
                    Flow flow = (Flow) key.attachment();
                    // Drain what is there, a bounded batch per socket per turn so no socket starves the others.
                    for (int i = 0; i < 64 && running; i++) {
                        buffer.clear();
                        SocketAddress from;
                        try {
                            from = channel.receive(buffer);
                        } catch (IOException e) {
                            break; // e.g. ICMP port unreachable reported on a connected upstream socket
                        }
                        if (from == null) {
                            break;
                        }
                        buffer.flip();
                        long now = clock.getAsLong();
                        if (flow == null) {
                            fromClient((InetSocketAddress) from, buffer, now);
                        } else {
                            flow.lastActive = now;
                            admit(down, downLine, buffer, flow, now);
                        }
                    }
                }
                selector.selectedKeys().clear();
                long now = clock.getAsLong();
                if (now - nextExpiry >= 0) {
                    expireIdleFlows(now);
                    nextExpiry = now + Math.min(idleNanos, TimeUnit.SECONDS.toNanos(1));
                }
            }
        } catch (IOException | RuntimeException e) {
            if (running) {
                System.err.println("ImpairedLink receiver failed: " + e);
            }
        }
    }

    private void fromClient(InetSocketAddress client, ByteBuffer datagram, long now) throws IOException {
        Flow flow = flows.get(client);
        if (flow == null) {
            if (flows.size() >= maxFlows) {
                refusedFlows.incrementAndGet();
                return;
            }
            DatagramChannel upstream = DatagramChannel.open();
            try {
                configure(upstream);
                upstream.connect(to);
                flow = new Flow(client, upstream, now);
                upstream.register(selector, SelectionKey.OP_READ, flow);
            } catch (IOException e) {
                upstream.close();
                throw e;
            }
            flows.put(client, flow);
            flowCount.set(flows.size());
        }
        flow.lastActive = now;
        admit(up, upLine, datagram, flow, now);
    }

    private void admit(Lane lane, Line line, ByteBuffer datagram, Flow flow, long now) {
        if (lane.admit(now, datagram.remaining()) != Fate.ADMITTED) {
            return;
        }
        if (line.size.get() >= MAX_IN_FLIGHT) {
            lane.counters.queueFull.incrementAndGet(); // the sender cannot keep up: a full buffer all the same
            return;
        }
        ByteBuffer copy = ByteBuffer.allocate(datagram.remaining());
        copy.put(datagram).flip();
        long due = lane.due();
        line.size.incrementAndGet();
        line.queue.add(new Pending(due, copy, flow));
        if (senderParked && due - senderWakesAt < 0) {
            LockSupport.unpark(sender);
        }
    }

    private void expireIdleFlows(long now) {
        List<InetSocketAddress> idle = new ArrayList<>();
        for (Flow flow : flows.values()) {
            if (now - flow.lastActive > idleNanos) {
                idle.add(flow.client);
            }
        }
        for (InetSocketAddress client : idle) {
            Flow flow = flows.remove(client);
            try {
                flow.upstream.close(); // a datagram of it still in flight then fails its send, counted
            } catch (IOException ignored) {
                // closing a UDP socket does not fail in a way that matters here
            }
        }
        flowCount.set(flows.size());
    }

    private void sendLoop() {
        while (running) {
            long now = clock.getAsLong();
            long upDue = sendDue(upLine, up.counters, true, now);
            long downDue = sendDue(downLine, down.counters, false, now);
            if (upDue == SENT || downDue == SENT) {
                continue; // sent a batch; look again at once
            }
            long idleWake = now + TimeUnit.MILLISECONDS.toNanos(100);
            long wakeAt = idleWake;
            if (upDue != EMPTY && upDue - wakeAt < 0) {
                wakeAt = upDue;
            }
            if (downDue != EMPTY && downDue - wakeAt < 0) {
                wakeAt = downDue;
            }
            senderWakesAt = wakeAt;
            senderParked = true;
            // Re-check after publishing: a datagram queued before the receiver saw senderParked is not missed.
            if (!dueBefore(upLine, wakeAt) && !dueBefore(downLine, wakeAt)) {
                long wait = wakeAt - clock.getAsLong();
                if (wait > 0) {
                    LockSupport.parkNanos(this, wait);
                }
            }
            senderParked = false;
        }
    }

    private static boolean dueBefore(Line line, long time) {
        Pending head = line.queue.peek();
        return head != null && head.due() - time < 0;
    }

    private static final long SENT = Long.MIN_VALUE;
    private static final long EMPTY = Long.MAX_VALUE;

    /**
     * Sends up to a batch of due datagrams of one direction; returns {@link #SENT} if it sent any, else the head's
     * due time ({@link #EMPTY} when there is none).
     */
    private long sendDue(Line line, Counters counters, boolean upstream, long now) {
        boolean sent = false;
        for (int i = 0; i < 64; i++) {
            Pending head = line.queue.peek();
            if (head == null) {
                return sent ? SENT : EMPTY;
            }
            if (head.due() - now > 0) {
                return sent ? SENT : head.due();
            }
            line.queue.poll();
            line.size.decrementAndGet();
            int length = head.data().remaining();
            try {
                int written = upstream ? head.flow().upstream.write(head.data())
                        : listen.send(head.data(), head.flow().client);
                if (written == length) {
                    counters.forwarded.incrementAndGet();
                    counters.forwardedBytes.addAndGet(length);
                } else {
                    counters.sendFailed.incrementAndGet(); // the socket's send buffer was full
                }
            } catch (ClosedChannelException e) {
                counters.sendFailed.incrementAndGet();
            } catch (IOException e) {
                counters.sendFailed.incrementAndGet(); // EMSGSIZE on a smaller path, unreachable, ...
            }
            sent = true;
        }
        return SENT;
    }

    /** Stops both threads and closes every socket; datagrams still in flight are dropped. */
    @Override
    public void close() {
        running = false;
        selector.wakeup();
        LockSupport.unpark(sender);
        try {
            receiver.join(2000);
            sender.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Flow flow : flows.values()) {
            try {
                flow.upstream.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        try {
            listen.close();
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private static String hostPort(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    static InetSocketAddress parseAddress(String value) {
        int colon = value.lastIndexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected ADDR:PORT, got '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = Integer.parseInt(value.substring(colon + 1));
        if (port < 0 || port > 65_535) {
            throw new IllegalArgumentException("port out of range in '" + value + "'");
        }
        return new InetSocketAddress(host, port);
    }

    private static final String USAGE = """
            usage: ImpairedLink --listen ADDR:PORT --to ADDR:PORT --profile clean|internet|lossy|far [--seed N]
                   [--duration-seconds N (3600)] [--max-datagram BYTES (1472)] [--max-flows N (256)]
                   [--idle-seconds N (120)] [--report-seconds N (10, 0 = only at exit)]""";

    /** Runs the link as its own process; see the class comment. Exit 2 on usage errors, 1 on failures. */
    public static void main(String[] args) throws InterruptedException {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.println(USAGE);
                return;
            }
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage("unexpected argument '" + args[i] + "'");
            }
            options.put(args[i].substring(2), args[++i]);
        }
        InetSocketAddress listenAt = null;
        InetSocketAddress to = null;
        LinkProfile profile = null;
        long seed;
        long duration;
        long report;
        int maxDatagram;
        int maxFlows;
        long idle;
        try {
            for (String key : options.keySet()) {
                if (!List.of("listen", "to", "profile", "seed", "duration-seconds", "max-datagram", "max-flows",
                        "idle-seconds", "report-seconds").contains(key)) {
                    throw new IllegalArgumentException("unknown option --" + key);
                }
            }
            if (!options.containsKey("listen") || !options.containsKey("to") || !options.containsKey("profile")) {
                throw new IllegalArgumentException("--listen, --to and --profile are required");
            }
            listenAt = parseAddress(options.get("listen"));
            to = parseAddress(options.get("to"));
            profile = LinkProfile.parse(options.get("profile"));
            seed = Long.parseLong(options.getOrDefault("seed", "1"));
            duration = Long.parseLong(options.getOrDefault("duration-seconds", "3600"));
            report = Long.parseLong(options.getOrDefault("report-seconds", "10"));
            maxDatagram = Integer.parseInt(options.getOrDefault("max-datagram",
                    Integer.toString(DEFAULT_MAX_DATAGRAM)));
            maxFlows = Integer.parseInt(options.getOrDefault("max-flows", Integer.toString(DEFAULT_MAX_FLOWS)));
            idle = Long.parseLong(options.getOrDefault("idle-seconds", "120"));
            if (duration <= 0 || report < 0 || maxDatagram < 1 || maxDatagram > 65_507 || maxFlows < 1
                    || maxFlows > 65_536 || idle < 1) {
                throw new IllegalArgumentException("a number is out of range");
            }
        } catch (IllegalArgumentException e) {
            usage(e.getMessage());
            return;
        }
        ImpairedLink link;
        try {
            link = start(listenAt, to, profile, seed, maxDatagram, maxFlows, Duration.ofSeconds(idle));
        } catch (IOException | RuntimeException e) {
            System.err.println("ImpairedLink cannot start on " + options.get("listen") + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        PrintStream out = System.out;
        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopped.countDown();
            try {
                finished.await(3, TimeUnit.SECONDS); // the main thread prints the final counters
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
        }, "impaired-link-stop"));
        out.println(link.readyLine());
        out.flush();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(duration);
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            long wait = report == 0 ? left : Math.min(left, TimeUnit.SECONDS.toNanos(report));
            if (stopped.await(wait, TimeUnit.NANOSECONDS)) {
                break;
            }
            if (report > 0) {
                link.counterLines().forEach(out::println);
                out.flush();
            }
        }
        link.close();
        out.println("ImpairedLink stopped");
        link.counterLines().forEach(out::println);
        out.flush();
        finished.countDown();
    }

    private static void usage(String message) {
        System.err.println("ImpairedLink: " + message);
        System.err.println(USAGE);
        System.exit(2);
    }
}
