package dev.riscvrelay.relay.switching;

import dev.riscvrelay.relay.lan.NanoClock;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.MacAddress;
import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import io.netty.buffer.ByteBuf;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * A learning Ethernet switch (the transparent bridge of IEEE 802.1D/802.1Q, without spanning tree): it learns
 * which port each source MAC lives behind, sends unicast to a learned MAC out of that port only, and floods
 * broadcast, multicast and unknown unicast to every port except the one the frame came from. A frame never
 * goes back to its sender.
 *
 * <p>Owned by one event loop (every method must be called on it), so nothing is locked. Forwarding allocates
 * nothing: MACs are read straight from the buffer into {@code long}s, the {@link MacTable} is keyed by them and
 * recycles its entries, ports sit in an array that attach/detach replace (copy-on-write), and a flooded frame is
 * passed as {@link ByteBuf#retainedDuplicate()}s of one buffer, which pooled buffers recycle.
 *
 * <p>Ports may call {@link #forward} again from inside their {@link Port#send} (the gateway answers an ARP
 * request while the request is still being flooded); flooding walks a snapshot of the port array, and a port
 * detached meanwhile gets nothing more.
 *
 * <p>Learned MACs age out lazily when looked up; the owner also calls {@link #expireMacs()} periodically (e.g.
 * once a second) so the table frees room for new members.
 *
 * <p>In a cluster one port is the trunk to the other relays' switches ({@link #attachTrunk}), and some ports serve
 * this relay's own members only ({@link #attachLocal}: the gateway, which every relay runs itself): a frame from
 * the trunk never reaches them.
 */
public final class LearningSwitch implements Switch {

    /** Destination (6) + source (6) + EtherType (2): anything shorter is no Ethernet frame. */
    public static final int ETHERNET_HEADER_LENGTH = 14;

    private static final int DESTINATION_OFFSET = 0;
    private static final int SOURCE_OFFSET = 6;

    /**
     * How deep {@link #forward} may nest through ports' {@code send}. An inline reply nests once; anything
     * much deeper is two ports answering each other forever.
     */
    static final int MAX_FORWARD_DEPTH = 8;

    private final NetworkConfig config;
    private final Counters counters;
    private final NanoClock nanoClock;
    private final MacTable macTable;

    /**
     * Ports by index; a detached port leaves a null that the next attach reuses, so indices stored in the MAC
     * table stay valid. Replaced, never modified in place, so a flood in progress keeps walking its snapshot.
     */
    private Port[] portsByIndex = new Port[0];
    /** Each attached port's traffic, at its port's index; replaced together with {@link #portsByIndex}. */
    private PortTraffic[] trafficByIndex = new PortTraffic[0];
    private final Map<Port, Integer> indexByPort = new IdentityHashMap<>();
    /** Which indices serve local members only; replaced together with {@link #portsByIndex}. */
    private boolean[] localOnlyByIndex = new boolean[0];
    /** The port to the cluster's other relays, or null. */
    private Port trunk;
    private int forwardDepth;
    /** The capture, or null when none runs: the only cost on the forwarding path is this null check. */
    private FrameTap tap;

    public LearningSwitch(NetworkConfig config, Counters counters) {
        this(config, counters, NanoClock.SYSTEM);
    }

    /** @param nanoClock a monotonic clock in nanoseconds, like {@link System#nanoTime()} */
    public LearningSwitch(NetworkConfig config, Counters counters, NanoClock nanoClock) {
        this.config = config;
        this.counters = counters;
        this.nanoClock = nanoClock;
        this.macTable = new MacTable(config.macTableCapacity(), config.macAgingTime().toNanos());
    }

    @Override
    public void attach(Port port) {
        attach(port, false);
    }

    /** Adds a port that frames from the trunk never reach: it serves this relay's own members only. */
    public void attachLocal(Port port) {
        attach(port, true);
    }

    /**
     * Adds the port to the cluster's other relays: frames from it are switched like any others, but never to a
     * port attached with {@link #attachLocal}. At most one.
     */
    public void attachTrunk(Port port) {
        if (trunk != null) {
            throw new IllegalStateException("a trunk is attached already: " + trunk.name());
        }
        attach(port, false);
        trunk = port;
    }

    private void attach(Port port, boolean localOnly) {
        if (indexByPort.containsKey(port)) {
            throw new IllegalArgumentException("port already attached: " + port.name());
        }
        Port[] current = portsByIndex;
        int index = 0;
        while (index < current.length && current[index] != null) {
            index++;
        }
        Port[] next = Arrays.copyOf(current, Math.max(current.length, index + 1));
        next[index] = port;
        PortTraffic[] traffic = Arrays.copyOf(trafficByIndex, next.length);
        traffic[index] = new PortTraffic();
        trafficByIndex = traffic;
        boolean[] local = Arrays.copyOf(localOnlyByIndex, next.length);
        local[index] = localOnly;
        localOnlyByIndex = local;
        portsByIndex = next;
        indexByPort.put(port, index);
    }

    @Override
    public void detach(Port port) {
        Integer index = indexByPort.remove(port);
        if (index == null) {
            return;
        }
        Port[] next = portsByIndex.clone();
        next[index] = null;
        portsByIndex = next;
        macTable.removePort(index);
        if (port == trunk) {
            trunk = null;
        }
    }

    @Override
    public void forward(Port ingress, ByteBuf frame) {
        counters.increment(Counter.FRAMES_IN);
        counters.add(Counter.BYTES_IN, frame.readableBytes());
        switchFrame(ingress, frame, true);
    }

    /**
     * Forwards a frame that {@code router} brings onto the LAN from beyond it (a NAT reply): switched exactly like
     * a frame from {@code router}, but not counted as a frame in. It entered the relay through a host socket, not
     * through a port, and the NAT has counted it there; counting it here too would count the outside's traffic
     * as members' frames.
     */
    public void forwardFromOutside(Port router, ByteBuf frame) {
        switchFrame(router, frame, false);
    }

    private void switchFrame(Port ingress, ByteBuf frame, boolean fromPort) {
        int length = frame.readableBytes();
        Integer ingressIndex = indexByPort.get(ingress);
        if (ingressIndex == null) {
            drop(frame, Counter.DROP_NOT_ATTACHED);
            return;
        }
        if (fromPort) {
            trafficByIndex[ingressIndex].countFromPort(length);
        }
        if (length < ETHERNET_HEADER_LENGTH) {
            drop(frame, Counter.DROP_RUNT);
            return;
        }
        int start = frame.readerIndex();
        long destination = MacAddress.read(frame, start + DESTINATION_OFFSET);
        long source = MacAddress.read(frame, start + SOURCE_OFFSET);
        if (!MacAddress.isValidSource(source)) {
            drop(frame, Counter.DROP_BAD_SOURCE_MAC);
            return;
        }
        if (forwardDepth >= MAX_FORWARD_DEPTH) {
            drop(frame, Counter.DROP_FORWARD_TOO_DEEP);
            return;
        }

        FrameTap currentTap = tap;
        if (currentTap != null) {
            currentTap.onFrame(frame);
        }
        long now = nanoClock.nanoTime();
        learn(source, ingressIndex, now);

        forwardDepth++;
        try {
            if (MacAddress.isMulticast(destination)) {
                floodExcept(ingress, frame, length);
                return;
            }
            int tableSizeBefore = macTable.size();
            int egressIndex = macTable.lookup(destination, now);
            if (egressIndex == MacTable.NO_PORT) {
                if (macTable.size() < tableSizeBefore) {
                    counters.increment(Counter.MAC_AGED_OUT);
                }
                floodExcept(ingress, frame, length);
            } else if (egressIndex == ingressIndex) {
                // The destination lives behind the port the frame came from: it has already seen the frame.
                drop(frame, Counter.DROP_SAME_PORT);
            } else if (ingress == trunk && localOnlyByIndex[egressIndex]) {
                drop(frame, Counter.DROP_TRUNK_TO_LOCAL);
            } else {
                Port egress = portsByIndex[egressIndex];
                if (length > egress.maxFrameSize()) {
                    drop(frame, Counter.DROP_TOO_LARGE);
                } else {
                    deliver(egress, egressIndex, frame, length);
                }
            }
        } finally {
            forwardDepth--;
        }
    }

    /**
     * Forgets every MAC not seen for the ageing time; returns how many. Call periodically on the owning event
     * loop, e.g. once a second: lookups expire entries too, but only the sweep frees room in a full table.
     */
    public int expireMacs() {
        int expired = macTable.expire(nanoClock.nanoTime());
        counters.add(Counter.MAC_AGED_OUT, expired);
        return expired;
    }

    /** The port {@code mac} was learned on, or null when unknown or aged out. */
    public Port portOf(long mac) {
        int index = macTable.lookup(mac, nanoClock.nanoTime());
        return index == MacTable.NO_PORT ? null : portsByIndex[index];
    }

    /** Starts ({@code tap} not null) or stops (null) showing every forwarded frame to {@code tap}. */
    public void setTap(FrameTap tap) {
        this.tap = tap;
    }

    /** MACs currently in the table (aged entries not yet swept included). */
    public int learnedMacCount() {
        return macTable.size();
    }

    /** Sees one attached port and its traffic. */
    @FunctionalInterface
    public interface PortVisitor {
        void visit(Port port, PortTraffic traffic);
    }

    /** Sees one learned MAC and the port it lives behind. */
    @FunctionalInterface
    public interface MacVisitor {
        void visit(long mac, Port port);
    }

    /** Shows every attached port, in port order (a left port's place goes to the next one that joins). */
    public void forEachPort(PortVisitor visitor) {
        Port[] ports = portsByIndex;
        PortTraffic[] traffic = trafficByIndex;
        for (int index = 0; index < ports.length; index++) {
            if (ports[index] != null) {
                visitor.visit(ports[index], traffic[index]);
            }
        }
    }

    /** Shows every MAC the table holds and has not aged out, with its port. */
    public void forEachLearnedMac(MacVisitor visitor) {
        Port[] ports = portsByIndex;
        macTable.forEachLive(nanoClock.nanoTime(), (mac, index) -> {
            if (index < ports.length && ports[index] != null) {
                visitor.visit(mac, ports[index]);
            }
        });
    }

    public int portCount() {
        return indexByPort.size();
    }

    public NetworkConfig config() {
        return config;
    }

    private void learn(long source, int ingressIndex, long now) {
        switch (macTable.learn(source, ingressIndex, now)) {
            case NEW -> counters.increment(Counter.MAC_LEARNED);
            case MOVED -> counters.increment(Counter.MAC_MOVED);
            case TABLE_FULL -> counters.increment(Counter.DROP_MAC_TABLE_FULL);
            case REFRESHED -> {
            }
        }
    }

    /**
     * Sends the frame to every attached port but {@code ingress} that can take its size. Each receiver but the
     * last gets a retained duplicate (own indices, shared bytes and reference count); the last gets the
     * caller's reference, so N receivers cost N − 1 retains and no copy.
     */
    private void floodExcept(Port ingress, ByteBuf frame, int length) {
        counters.increment(Counter.FRAMES_FLOODED);
        Port[] snapshot = portsByIndex;
        boolean[] localOnly = ingress == trunk ? localOnlyByIndex : null;
        Port pending = null;
        int pendingIndex = -1;
        for (int index = 0; index < snapshot.length; index++) {
            Port port = snapshot[index];
            if (port == null || port == ingress || (localOnly != null && index < localOnly.length && localOnly[index])) {
                continue;
            }
            if (length > port.maxFrameSize()) {
                counters.increment(Counter.DROP_TOO_LARGE);
                continue;
            }
            if (pending != null) {
                deliver(pending, pendingIndex, frame.retainedDuplicate(), length);
            }
            pending = port;
            pendingIndex = index;
        }
        if (pending != null) {
            deliver(pending, pendingIndex, frame, length);
        } else {
            frame.release();
        }
    }

    /** Hands one reference to {@code port}, unless a re-entrant call detached it meanwhile. */
    private void deliver(Port port, int index, ByteBuf frame, int length) {
        Port[] current = portsByIndex;
        if (index >= current.length || current[index] != port) {
            frame.release();
            return;
        }
        counters.increment(Counter.FRAMES_OUT);
        counters.add(Counter.BYTES_OUT, length);
        trafficByIndex[index].countToPort(length);
        try {
            port.send(frame);
        } catch (RuntimeException bug) {
            // The port owns the reference now, whatever it did with it; the other receivers still get theirs.
            counters.increment(Counter.PORT_SEND_FAILED);
        }
    }

    private void drop(ByteBuf frame, Counter reason) {
        frame.release();
        counters.increment(reason);
    }
}
