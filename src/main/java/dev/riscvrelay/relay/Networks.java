package dev.riscvrelay.relay;

import dev.riscvrelay.relay.access.AccessConfig;
import dev.riscvrelay.relay.access.AccessTokens;
import dev.riscvrelay.relay.access.Admission;
import dev.riscvrelay.relay.access.ClaimLimits;
import dev.riscvrelay.relay.access.IngressGuard;
import dev.riscvrelay.relay.access.NetworkPath;
import dev.riscvrelay.relay.access.SessionGate;
import dev.riscvrelay.relay.cluster.Trunks;
import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.nat.HostBudget;
import dev.riscvrelay.relay.switching.FrameTap;
import dev.riscvrelay.relay.transport.wisp.WispGate;
import io.netty.channel.IoEventLoop;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The relay's networks and the gate in front of them: the request path names a network ({@code /net/<name>}, or the
 * default one for any other path), created on its first admitted session up to {@link AccessConfig#maxNetworks()};
 * the token must open it; and one source address may hold only so many sessions. Every admitted session gets an
 * {@link IngressGuard} over its network's DHCP leases, and becomes a {@link Member} of its network.
 *
 * <p>Nothing a client takes is kept for ever: a network other than the default one is freed once it has stood empty
 * for {@link ClaimLimits#networkIdle()}, or at once, the longest-empty first, when every network slot is taken and a
 * new network is asked for; and one client address may create only so many networks a minute.
 *
 * <p>Each network belongs to one event loop, chosen by its name ({@link #loopOf}): the default network to the first,
 * the others spread over all of them (in a cluster, all on the first, where the NATS link runs). A session is
 * admitted on its network's loop, which creates the network there; what the networks share (the per-address and
 * per-minute counts, the registry itself) is guarded by this object's lock, taken once per admission and departure,
 * never per frame.
 */
final class Networks implements SessionGate, WispGate, AutoCloseable {

    private final RelayConfig config;
    private final AccessConfig access;
    /** The loops networks are placed on; the first runs the default network and the sweep. */
    private final List<IoEventLoop> loops;
    private final Counters counters;
    // Guarded by this: the registry and the counts every loop's admissions share.
    private final Map<String, Network> byName = new LinkedHashMap<>();
    /** Networks being created on their loops now: they count against the limit before they are in the registry. */
    private int creating;
    private final Map<InetAddress, int[]> sessionsByAddress = new HashMap<>();
    /** Per client address: when its current minute of network creations began (nanoTime), and how many it made. */
    private final Map<InetAddress, long[]> creationsByAddress = new HashMap<>();
    private final NanoClock clock;
    private final HostBudget budget;
    private final ScheduledFuture<?> sweep;
    private volatile FrameTap tap;
    private final Trunks trunks;

    /** Builds the default network; on the loop. */
    Networks(RelayConfig config, IoEventLoop loop, Counters counters) {
        this(config, List.of(loop), counters, NanoClock.SYSTEM, Trunks.NONE);
    }

    /** @param clock the time of network idleness and creation rates (tests drive it) */
    Networks(RelayConfig config, IoEventLoop loop, Counters counters, NanoClock clock) {
        this(config, List.of(loop), counters, clock, Trunks.NONE);
    }

    /**
     * Builds the default network; on the first loop.
     *
     * @param loops the loops the networks are spread over
     * @param trunks connect each network to the same network on the cluster's other relays (or to none)
     */
    Networks(RelayConfig config, List<IoEventLoop> loops, Counters counters, NanoClock clock, Trunks trunks) {
        this.trunks = trunks;
        this.config = config;
        this.access = config.access();
        this.loops = List.copyOf(loops);
        this.counters = counters;
        this.clock = clock;
        this.budget = new HostBudget(config.hostBudget());
        IoEventLoop first = this.loops.getFirst();
        Network defaultNetwork = create(NetworkPath.DEFAULT_NETWORK, first);
        synchronized (this) {
            byName.put(NetworkPath.DEFAULT_NETWORK, defaultNetwork);
        }
        this.sweep = first.scheduleAtFixedRate(() -> sweep(clock.nanoTime()), 1, 1, TimeUnit.SECONDS);
    }

    /**
     * The loop that owns the network called {@code name}: the first for the default network, in a cluster, or with
     * one loop; else one of all the loops, by the name's hash, so every relay and every restart places it alike.
     */
    IoEventLoop loopOf(String name) {
        if (loops.size() == 1 || name == null || name.equals(NetworkPath.DEFAULT_NETWORK) || trunks != Trunks.NONE) {
            return loops.getFirst();
        }
        int hash = name.hashCode();
        return loops.get(Math.floorMod(hash ^ (hash >>> 16), loops.size()));
    }

    /** The index, among the loops, of the one that owns the network called {@code name}. */
    int loopIndexOf(String name) {
        return loops.indexOf(loopOf(name));
    }

    @Override
    public IoEventLoop loopFor(String pathAndQuery) {
        return loopOf(networkNamed(pathAndQuery));
    }

    /**
     * The network a request target names, valid or not: the first segment after {@code /net/} ({@code /net/lab},
     * {@code /net/lab/wisp/}, {@code /net/lab/vm/80/}), else the default network. The path is decoded as
     * {@link NetworkPath#parse} decodes it, so a valid name is placed where its admission looks for it.
     */
    static String networkNamed(String pathAndQuery) {
        String path;
        try {
            path = new QueryStringDecoder(pathAndQuery == null ? "/" : pathAndQuery, StandardCharsets.UTF_8, true, 8)
                    .path();
        } catch (IllegalArgumentException badEscape) {
            return NetworkPath.DEFAULT_NETWORK; // names no network: refused wherever it is asked
        }
        if (!path.startsWith(NetworkPath.PREFIX)) {
            return NetworkPath.DEFAULT_NETWORK;
        }
        int end = path.indexOf('/', NetworkPath.PREFIX.length());
        return path.substring(NetworkPath.PREFIX.length(), end < 0 ? path.length() : end);
    }

    /** On the loop of the network the request names ({@link #loopFor}). */
    @Override
    public Admission admit(String pathAndQuery, InetAddress peer) {
        Object joined = join(NetworkPath.parse(pathAndQuery), peer);
        if (joined instanceof Admission.Refused refused) {
            return refused;
        }
        Joined session = (Joined) joined;
        Network network = session.network();
        Member member = new Member(network, peer, access.limits().macsPerSession());
        IngressGuard guard = new IngressGuard(access.limits(), network.leases(), counters, System::nanoTime, member,
                member);
        member.guardedBy(guard);
        // On the network's loop, as the session leaves it.
        Runnable release = () -> {
            long now = clock.nanoTime();
            member.depart(now);
            left(session, now);
        };
        return new Admission.Admitted(network.lan(), guard, release, member);
    }

    /**
     * A WISP connection is a session of its network as far as tokens and limits go (and it keeps the network from
     * being freed), but holds no MACs: its streams draw from the network's share of the host budget as its client
     * address, and go through the network's egress policy.
     */
    @Override
    public WispGate.Decision admitWisp(String networkName, String token, InetAddress peer) {
        Object joined = join(new NetworkPath(networkName, token), peer);
        if (joined instanceof Admission.Refused refused) {
            return new WispGate.Refused(refused.status(), refused.reason());
        }
        Joined session = (Joined) joined;
        Network network = session.network();
        HostBudget.Share share = network.budget();
        return new WispGate.Admitted(network.nat().policy(), () -> share.accountOfClient(peer),
                () -> left(session, clock.nanoTime()));
    }

    /** A session that passed the gate: it counts for its address until {@link #left}. */
    private record Joined(Network network, InetAddress peer, int[] held) {
    }

    /** A session ended at {@code now}: its address and its network count one fewer. */
    private synchronized void left(Joined session, long now) {
        if (--session.held()[0] == 0) {
            sessionsByAddress.remove(session.peer());
        }
        session.network().memberLeft(now);
    }

    /**
     * Checks a session against the network's token and the limits, creating the network if need be; on the
     * network's loop. The shared counts are read and written under the lock; a new network is built outside it (its
     * sockets and timers take a moment), with its place held meanwhile.
     */
    private Object join(NetworkPath target, InetAddress peer) {
        if (target.network() == null) {
            return refuse(404, Counter.SESSIONS_REFUSED_NO_NETWORK);
        }
        int tokenCheck = access.tokens().check(target.network(), target.token());
        if (tokenCheck == AccessTokens.MISSING) {
            return refuse(401, Counter.SESSIONS_REFUSED_NO_TOKEN);
        }
        if (tokenCheck != AccessTokens.ADMITTED) {
            return refuse(403, Counter.SESSIONS_REFUSED_BAD_TOKEN);
        }
        String name = target.network();
        IoEventLoop owner = loopOf(name);
        if (!owner.inEventLoop()) {
            // A transport that asked on another loop would build or use the network off its owner's thread.
            throw new IllegalStateException("network " + name + " admits on its own loop, not on "
                    + Thread.currentThread().getName());
        }
        long now = clock.nanoTime();
        synchronized (this) {
            int[] held = sessionsByAddress.get(peer);
            if (held != null && held[0] >= access.limits().sessionsPerAddress()) {
                return refuse(429, Counter.SESSIONS_REFUSED_PER_ADDRESS);
            }
            Network network = byName.get(name);
            if (network != null) {
                return joined(network, peer);
            }
            if (!mayCreate(peer, now)) {
                return refuse(429, Counter.SESSIONS_REFUSED_NETWORK_RATE);
            }
            if (byName.size() + creating >= access.maxNetworks() && !reclaimLongestEmpty()) {
                return refuse(503, Counter.SESSIONS_REFUSED_NO_NETWORK);
            }
            creating++;
        }
        // Only this loop creates this name (it owns it), so no other admission builds it meanwhile.
        Network network;
        try {
            network = create(name, owner);
        } catch (RuntimeException e) {
            network = null;
        }
        synchronized (this) {
            creating--;
            if (network == null) {
                return refuse(503, Counter.SESSIONS_REFUSED_NO_NETWORK);
            }
            byName.put(name, network);
            countCreation(peer, now);
            int[] held = sessionsByAddress.get(peer);
            if (held != null && held[0] >= access.limits().sessionsPerAddress()) {
                // Other sessions of this address came in meanwhile: the network stays, empty, for the sweep.
                return refuse(429, Counter.SESSIONS_REFUSED_PER_ADDRESS);
            }
            return joined(network, peer);
        }
    }

    /** Counts a session of {@code peer} into {@code network}; under the lock. */
    private Joined joined(Network network, InetAddress peer) {
        int[] held = sessionsByAddress.computeIfAbsent(peer, p -> new int[1]);
        held[0]++;
        network.memberJoined();
        return new Joined(network, peer, held);
    }

    private boolean mayCreate(InetAddress peer, long now) {
        long[] minute = creationsByAddress.get(peer);
        return minute == null || now - minute[0] >= MINUTE_NANOS
                || minute[1] < access.claims().networkCreationsPerMinute();
    }

    private void countCreation(InetAddress peer, long now) {
        long[] minute = creationsByAddress.get(peer);
        if (minute == null) {
            creationsByAddress.put(peer, new long[] {now, 1});
        } else if (now - minute[0] >= MINUTE_NANOS) {
            minute[0] = now;
            minute[1] = 1;
        } else {
            minute[1]++;
        }
    }

    private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** Frees the network (not the default one) that has stood empty the longest; false when none is empty. Locked. */
    private boolean reclaimLongestEmpty() {
        Network oldest = null;
        for (Network network : byName.values()) {
            if (isReclaimable(network) && (oldest == null || network.emptySince() - oldest.emptySince() < 0)) {
                oldest = network;
            }
        }
        if (oldest == null) {
            return false;
        }
        reclaim(oldest);
        return true;
    }

    private boolean isReclaimable(Network network) {
        return network.members() == 0 && !network.name().equals(NetworkPath.DEFAULT_NETWORK);
    }

    /** Takes the network out of the registry (under the lock) and closes it on its loop: at once when that is this one. */
    private void reclaim(Network network) {
        byName.remove(network.name());
        onLoopOf(network, network::close);
        counters.increment(Counter.NETWORKS_RECLAIMED);
    }

    private static void onLoopOf(Network network, Runnable task) {
        if (network.loop().inEventLoop()) {
            task.run();
        } else {
            network.loop().execute(task);
        }
    }

    /** Once a second: frees networks empty for their idle time, forgets creation counts of past minutes. */
    synchronized void sweep(long now) {
        long idle = access.claims().networkIdle().toNanos();
        byName.values().stream().filter(n -> isReclaimable(n) && now - n.emptySince() >= idle).toList()
                .forEach(this::reclaim);
        creationsByAddress.values().removeIf(minute -> now - minute[0] >= MINUTE_NANOS);
    }

    private Admission refuse(int status, Counter reason) {
        return new Admission.Refused(status, reason);
    }

    /** Builds a network; on {@code loop}, its owner. */
    private Network create(String name, IoEventLoop loop) {
        Network network = Network.create(name, config, loop, counters, clock, budget);
        network.useTrunk(trunks.open(name, network.lan(), loop));
        network.dhcp().share(trunks.leases(name));
        FrameTap current = tap;
        if (current != null) {
            network.lan().setTap(current);
        }
        counters.increment(Counter.NETWORKS_CREATED);
        return network;
    }

    synchronized Network defaultNetwork() {
        return byName.get(NetworkPath.DEFAULT_NETWORK);
    }

    /** The network called {@code name}, or null when it has not been created. Use it on its loop only. */
    synchronized Network network(String name) {
        return byName.get(name);
    }

    /** The host sockets and buffer memory the networks' NATs hold. */
    HostBudget budget() {
        return budget;
    }

    synchronized int count() {
        return byName.size();
    }

    /** The networks now, in creation order; each is to be used on its own loop only. */
    synchronized List<Network> list() {
        return List.copyOf(byName.values());
    }

    /**
     * Runs {@code action} for each network, on the caller's thread: off a network's loop, it may read only what the
     * network publishes for other threads ({@link Network#sizes}, {@link Network#loop}).
     */
    void forEach(Consumer<Network> action) {
        list().forEach(action);
    }

    /**
     * Captures the frames of every network, present and future; null stops. From any thread: each network takes
     * the tap on its own loop, and this waits for them.
     */
    void setTap(FrameTap newTap) {
        tap = newTap;
        for (Network network : list()) {
            awaitOnLoopOf(network, () -> network.lan().setTap(newTap));
        }
    }

    /** Runs {@code task} on the network's loop and waits (a bounded time) for it; at once when on that loop. */
    private static void awaitOnLoopOf(Network network, Runnable task) {
        if (network.loop().inEventLoop()) {
            task.run();
        } else if (!network.loop().isShuttingDown()) {
            network.loop().submit(task).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** Closes every network on its own loop and waits for each; from any thread. */
    @Override
    public void close() {
        sweep.cancel(false);
        List<Network> all;
        synchronized (this) {
            all = List.copyOf(byName.values());
            byName.clear();
        }
        all.forEach(network -> awaitOnLoopOf(network, network::close));
    }
}
