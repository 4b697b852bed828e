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
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * new network is asked for; and one client address may create only so many networks a minute. Owned by the event
 * loop: no locks.
 */
final class Networks implements SessionGate, WispGate, AutoCloseable {

    private final RelayConfig config;
    private final AccessConfig access;
    private final IoEventLoop loop;
    private final Counters counters;
    private final Map<String, Network> byName = new LinkedHashMap<>();
    private final Map<InetAddress, int[]> sessionsByAddress = new HashMap<>();
    /** Per client address: when its current minute of network creations began (nanoTime), and how many it made. */
    private final Map<InetAddress, long[]> creationsByAddress = new HashMap<>();
    private final NanoClock clock;
    private final HostBudget budget;
    private final ScheduledFuture<?> sweep;
    private FrameTap tap;
    private final Trunks trunks;

    /** Builds the default network; on the loop. */
    Networks(RelayConfig config, IoEventLoop loop, Counters counters) {
        this(config, loop, counters, NanoClock.SYSTEM, Trunks.NONE);
    }

    /** @param clock the time of network idleness and creation rates (tests drive it) */
    Networks(RelayConfig config, IoEventLoop loop, Counters counters, NanoClock clock) {
        this(config, loop, counters, clock, Trunks.NONE);
    }

    /** @param trunks connect each network to the same network on the cluster's other relays (or to none) */
    Networks(RelayConfig config, IoEventLoop loop, Counters counters, NanoClock clock, Trunks trunks) {
        this.trunks = trunks;
        this.config = config;
        this.access = config.access();
        this.loop = loop;
        this.counters = counters;
        this.clock = clock;
        this.budget = new HostBudget(config.hostBudget());
        create(NetworkPath.DEFAULT_NETWORK);
        this.sweep = loop.scheduleAtFixedRate(() -> sweep(clock.nanoTime()), 1, 1, TimeUnit.SECONDS);
    }

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
        Runnable release = () -> {
            session.left();
            member.depart(clock.nanoTime());
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
        return new WispGate.Admitted(network.nat().policy(), () -> share.accountOfClient(peer), () -> {
            session.left();
            network.memberLeft(clock.nanoTime());
        });
    }

    /** A session that passed the gate: it counts for its address until {@link #left}. */
    private record Joined(Network network, InetAddress peer, int[] held, Map<InetAddress, int[]> byAddress) {
        void left() {
            if (--held[0] == 0) {
                byAddress.remove(peer);
            }
        }
    }

    /** Checks a session against the network's token and the limits, creating the network if need be. */
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
        int[] held = sessionsByAddress.get(peer);
        if (held != null && held[0] >= access.limits().sessionsPerAddress()) {
            return refuse(429, Counter.SESSIONS_REFUSED_PER_ADDRESS);
        }
        Network network = byName.get(target.network());
        if (network == null) {
            long now = clock.nanoTime();
            if (!mayCreate(peer, now)) {
                return refuse(429, Counter.SESSIONS_REFUSED_NETWORK_RATE);
            }
            if (byName.size() >= access.maxNetworks() && !reclaimLongestEmpty()) {
                return refuse(503, Counter.SESSIONS_REFUSED_NO_NETWORK);
            }
            try {
                network = create(target.network());
            } catch (RuntimeException e) {
                return refuse(503, Counter.SESSIONS_REFUSED_NO_NETWORK);
            }
            countCreation(peer, now);
        }
        if (held == null) {
            held = new int[1];
            sessionsByAddress.put(peer, held);
        }
        held[0]++;
        network.memberJoined();
        return new Joined(network, peer, held, sessionsByAddress);
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

    /** Frees the network (not the default one) that has stood empty the longest; false when none is empty. */
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

    private void reclaim(Network network) {
        byName.remove(network.name());
        network.close();
        counters.increment(Counter.NETWORKS_RECLAIMED);
    }

    /** Once a second: frees networks empty for their idle time, forgets creation counts of past minutes. */
    void sweep(long now) {
        long idle = access.claims().networkIdle().toNanos();
        byName.values().stream().filter(n -> isReclaimable(n) && now - n.emptySince() >= idle).toList()
                .forEach(this::reclaim);
        creationsByAddress.values().removeIf(minute -> now - minute[0] >= MINUTE_NANOS);
    }

    private Admission refuse(int status, Counter reason) {
        return new Admission.Refused(status, reason);
    }

    private Network create(String name) {
        Network network = Network.create(name, config, loop, counters, clock, budget);
        network.useTrunk(trunks.open(name, network.lan(), loop));
        network.dhcp().share(trunks.leases(name));
        if (tap != null) {
            network.lan().setTap(tap);
        }
        byName.put(name, network);
        counters.increment(Counter.NETWORKS_CREATED);
        return network;
    }

    Network defaultNetwork() {
        return byName.get(NetworkPath.DEFAULT_NETWORK);
    }

    /** The network called {@code name}, or null when it has not been created. */
    Network network(String name) {
        return byName.get(name);
    }

    /** The host sockets and buffer memory the networks' NATs hold. */
    HostBudget budget() {
        return budget;
    }

    int count() {
        return byName.size();
    }

    void forEach(Consumer<Network> action) {
        byName.values().forEach(action);
    }

    /** Captures the frames of every network, present and future; null stops. */
    void setTap(FrameTap newTap) {
        tap = newTap;
        byName.values().forEach(n -> n.lan().setTap(newTap));
    }

    @Override
    public void close() {
        sweep.cancel(false);
        byName.values().forEach(Network::close);
        byName.clear();
    }
}
