package dev.riscvrelay.relay.gateway.dhcp;

import io.netty.buffer.ByteBuf;
import java.util.Arrays;

/**
 * The lease pool: one slot per address, indexed by its distance from the first pool address, so the pool is
 * bounded by construction. A slot remembers the client that last held it even after the lease ended, so a client
 * that comes back gets its old address again unless it was given to someone else meanwhile (RFC 2131 section
 * 4.3.1: "the client's current address ... or the client's previous address").
 *
 * <p>A client is identified by its client identifier (option 61) when it sends one, else by its hardware address
 * (RFC 2131 section 4.2). Time is nanoseconds from an injected monotonic clock. Owned by the gateway's event loop:
 * no locks. Scans are linear in the pool size; DHCP messages are rare and the pool is small.
 *
 * <p>Each offered or leased slot may also have a {@link LeaseHolder}, the session that took it. A holder's leases
 * are counted against it; once its session ends they last only a grace time more, and when the pool is empty they
 * are the first taken for a new client, the longest departed first.
 */
final class DhcpLeases {

    enum State {
        /** Available; may still remember its last client. */
        FREE,
        /** Offered to a client and reserved for it until the offer times out. */
        OFFERED,
        /** Leased until it expires. */
        BOUND,
        /** A client reported the address in use by someone else (DHCPDECLINE); unavailable for a while. */
        DECLINED
    }

    private final int firstAddress;
    private final State[] state;
    private final boolean[] owned;
    private final long[] ownerMac;
    /** The owner's client identifier (option 61 data), or null when it identified itself by MAC. */
    private final byte[][] ownerClientId;
    private final long[] expiresAt;
    /** When the slot last became free, to hand out the longest-unused remembered address first. */
    private final long[] freedAt;
    private final LeaseHolder[] holder;
    private final long graceNanos;
    /** Departed holders' leases returned to the pool, after their grace time or taken for a new client. */
    private long reclaimed;
    private long generation;
    private SharedLeases shared = SharedLeases.NONE;
    private AddressUsers users = AddressUsers.NONE;
    /** Free addresses passed over for a new client because another MAC was seen using them. */
    private long passedOverInUse;

    DhcpLeases(int firstAddress, int poolSize) {
        this(firstAddress, poolSize, 0);
    }

    /** @param graceNanos how long a departed holder's offers and leases last after its session ended */
    DhcpLeases(int firstAddress, int poolSize, long graceNanos) {
        this.firstAddress = firstAddress;
        this.graceNanos = graceNanos;
        this.holder = new LeaseHolder[poolSize];
        this.state = new State[poolSize];
        Arrays.fill(state, State.FREE);
        this.owned = new boolean[poolSize];
        this.ownerMac = new long[poolSize];
        this.ownerClientId = new byte[poolSize][];
        this.expiresAt = new long[poolSize];
        this.freedAt = new long[poolSize];
    }

    int size() {
        return state.length;
    }

    int address(int slot) {
        return firstAddress + slot;
    }

    /** The slot of a pool address, or -1 when the address is outside the pool. */
    int slotOf(int address) {
        int slot = address - firstAddress;
        return Integer.compareUnsigned(slot, state.length) < 0 ? slot : -1;
    }

    State state(int slot) {
        return state[slot];
    }

    /**
     * Returns offers and leases whose time ran out to the pool, and declined addresses whose hold ended.
     *
     * @return how many offers and leases ended
     */
    int expire(long now) {
        int ended = 0;
        for (int slot = 0; slot < state.length; slot++) {
            if (isGraceOver(slot, now)) {
                reclaimed++;
                free(slot, now);
                continue;
            }
            if (state[slot] != State.FREE && now - expiresAt[slot] >= 0) {
                if (state[slot] != State.DECLINED) {
                    ended++;
                }
                if (state[slot] == State.DECLINED) {
                    owned[slot] = false;
                    ownerClientId[slot] = null;
                }
                free(slot, now);
            }
        }
        return ended;
    }

    private boolean isGraceOver(int slot, long now) {
        LeaseHolder h = holder[slot];
        return h != null && h.departed() && now - h.departedAt() >= graceNanos;
    }

    /** Every state change into or out of BOUND moves this on: who holds which address may have changed. */
    private void setState(int slot, State next) {
        State before = state[slot];
        if (before == State.BOUND || next == State.BOUND) {
            generation++;
        }
        state[slot] = next;
        // The cluster hears of every offer, lease and renewal, and of each one's end.
        if (next == State.OFFERED || next == State.BOUND) {
            shared.held(address(slot), ownerMac[slot]);
        } else if (before == State.OFFERED || before == State.BOUND) {
            shared.freed(address(slot), ownerMac[slot]);
        }
    }

    /** The same network's leases on the cluster's other relays; none by default. */
    void share(SharedLeases cluster) {
        this.shared = cluster;
    }

    /** The pool slot of the address the cluster last knew {@code mac} by, if it is free here, else -1. */
    int rememberedByCluster(long mac) {
        int address = shared.addressOf(mac);
        int slot = address == 0 ? -1 : slotOf(address);
        return slot >= 0 && isAvailable(slot, mac) ? slot : -1;
    }

    /** Whether another MAC holds the slot's address on another relay of the cluster. */
    boolean heldElsewhere(int slot, long mac) {
        return shared.heldByOther(address(slot), mac);
    }

    /** Changes whenever a lease was granted, renewed, moved or ended; answers of {@link #boundAddressOf} hold until then. */
    long generation() {
        return generation;
    }

    /** Departed holders' offers and leases returned to the pool so far. */
    long reclaimed() {
        return reclaimed;
    }

    /** Lets allocation see which addresses the LAN shows in use (the gateway's ARP cache). */
    void watch(AddressUsers lan) {
        this.users = lan;
    }

    long passedOverInUse() {
        return passedOverInUse;
    }

    /** Whether a MAC other than {@code mac} was seen using the slot's address (a static address in the pool). */
    boolean usedByOther(int slot, long mac) {
        long seen = users.macOf(address(slot));
        return seen != AddressUsers.NONE_SEEN && seen != mac;
    }

    LeaseHolder holder(int slot) {
        return holder[slot];
    }

    private void setHolder(int slot, LeaseHolder next) {
        LeaseHolder previous = holder[slot];
        if (previous == next) {
            return;
        }
        if (previous != null) {
            previous.leaseReturned();
        }
        if (next != null) {
            next.leaseTaken();
        }
        holder[slot] = next;
    }

    /**
     * Gives the offers and leases owned by {@code mac} whose holder departed (or that have none) to {@code next}: a
     * VM that reconnected within the grace time keeps its address under its new session.
     */
    void adopt(long mac, LeaseHolder next) {
        for (int slot = 0; slot < state.length; slot++) {
            LeaseHolder h = holder[slot];
            if ((state[slot] == State.BOUND || state[slot] == State.OFFERED) && owned[slot] && ownerMac[slot] == mac
                    && h != next && (h == null || h.departed()) && next.mayTakeLease()) {
                setHolder(slot, next);
            }
        }
    }

    /**
     * The slot held or last held by this client, or -1.
     *
     * @param clientIdAt absolute index of the client identifier in {@code message}, or -1 when it sent none
     */
    int find(long mac, ByteBuf message, int clientIdAt, int clientIdLength) {
        for (int slot = 0; slot < state.length; slot++) {
            if (owned[slot] && state[slot] != State.DECLINED
                    && isOwner(slot, mac, message, clientIdAt, clientIdLength)) {
                return slot;
            }
        }
        return -1;
    }

    private boolean isOwner(int slot, long mac, ByteBuf message, int clientIdAt, int clientIdLength) {
        byte[] clientId = ownerClientId[slot];
        if (clientIdAt < 0) {
            return clientId == null && ownerMac[slot] == mac;
        }
        if (clientId == null || clientId.length != clientIdLength) {
            return false;
        }
        for (int i = 0; i < clientIdLength; i++) {
            if (clientId[i] != message.getByte(clientIdAt + i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a slot may be given to {@code mac}, which does not hold it: free (its last owner's claim lapsed), and
     * not held by another MAC elsewhere in the cluster.
     */
    boolean isAvailable(int slot, long mac) {
        return state[slot] == State.FREE && !shared.heldByOther(address(slot), mac);
    }

    /**
     * A free slot for a new client: one nobody ever held first, else the one free the longest; one another MAC was
     * seen using only when no other is free.
     *
     * @return the slot, or -1 when every address is offered, leased or declined
     */
    int allocate(long mac) {
        int free = allocateFree(mac);
        return free >= 0 ? free : reclaimDeparted();
    }

    private int allocateFree(long mac) {
        int best = -1;
        // Seen in use by another MAC: only when nothing else is free (the sighting may be of a host long gone).
        int inUse = -1;
        int passedOver = 0;
        // Alone, the lowest address first (10.0.2.15, as slirp). In a cluster, every relay would pick that same
        // lowest address for the VMs that start at one moment on different relays, before either hears of the
        // other's lease: starting at a place of the MAC's own spreads them over the pool.
        int start = shared == SharedLeases.NONE ? 0 : Math.floorMod(Long.hashCode(mac * 0x9E3779B97F4A7C15L),
                state.length);
        for (int i = 0; i < state.length; i++) {
            int slot = start + i < state.length ? start + i : start + i - state.length;
            if (!isAvailable(slot, mac)) {
                continue;
            }
            if (usedByOther(slot, mac)) {
                passedOver++;
                if (inUse < 0) {
                    inUse = slot;
                }
                continue;
            }
            if (!owned[slot]) {
                passedOverInUse += passedOver;
                return slot;
            }
            if (best < 0 || freedAt[slot] - freedAt[best] < 0) {
                best = slot;
            }
        }
        if (best >= 0) {
            passedOverInUse += passedOver;
            return best;
        }
        return inUse; // nothing else was free, so nothing was passed over
    }

    /**
     * The pool is empty: frees the offer or lease of the holder that departed the longest ago, still in its grace
     * time, for a new client.
     *
     * @return the freed slot, or -1 when every address is held by a live session (or declined)
     */
    private int reclaimDeparted() {
        int oldest = -1;
        for (int slot = 0; slot < state.length; slot++) {
            LeaseHolder h = holder[slot];
            if (h != null && h.departed() && (oldest < 0 || h.departedAt() - holder[oldest].departedAt() < 0)) {
                oldest = slot;
            }
        }
        if (oldest >= 0) {
            reclaimed++;
            long departedAt = holder[oldest].departedAt();
            free(oldest, departedAt);
        }
        return oldest;
    }

    void offer(int slot, long mac, ByteBuf message, int clientIdAt, int clientIdLength, long until,
            LeaseHolder by) {
        takeOwnership(slot, mac, message, clientIdAt, clientIdLength);
        setHolder(slot, by);
        setState(slot, State.OFFERED);
        expiresAt[slot] = until;
    }

    void bind(int slot, long mac, ByteBuf message, int clientIdAt, int clientIdLength, long until,
            LeaseHolder by) {
        takeOwnership(slot, mac, message, clientIdAt, clientIdLength);
        setHolder(slot, by);
        setState(slot, State.BOUND);
        expiresAt[slot] = until;
    }

    /** Ends an offer or lease early (release, or the client chose another server); the owner is remembered. */
    void free(int slot, long now) {
        setState(slot, State.FREE);
        freedAt[slot] = now;
        setHolder(slot, null);
    }

    /** Takes an address out of the pool until {@code until}, forgetting its owner. */
    void decline(int slot, long until) {
        setState(slot, State.DECLINED);
        setHolder(slot, null);
        owned[slot] = false;
        ownerClientId[slot] = null;
        expiresAt[slot] = until;
    }

    private void takeOwnership(int slot, long mac, ByteBuf message, int clientIdAt, int clientIdLength) {
        if (owned[slot] && isOwner(slot, mac, message, clientIdAt, clientIdLength)) {
            ownerMac[slot] = mac;
            return;
        }
        owned[slot] = true;
        ownerMac[slot] = mac;
        if (clientIdAt < 0) {
            ownerClientId[slot] = null;
        } else {
            byte[] clientId = new byte[clientIdLength];
            message.getBytes(clientIdAt, clientId);
            ownerClientId[slot] = clientId;
        }
    }

    /** The address bound to the client with hardware address {@code mac}, or 0 when it holds none. */
    int boundAddressOf(long mac) {
        for (int slot = 0; slot < state.length; slot++) {
            if (state[slot] == State.BOUND && owned[slot] && ownerMac[slot] == mac) {
                return address(slot);
            }
        }
        return 0;
    }

    /** How many addresses are leased now, for tests and metrics. */
    int boundCount() {
        int bound = 0;
        for (State s : state) {
            if (s == State.BOUND) {
                bound++;
            }
        }
        return bound;
    }
}
