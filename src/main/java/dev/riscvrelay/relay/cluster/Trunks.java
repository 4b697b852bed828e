package dev.riscvrelay.relay.cluster;

import dev.riscvrelay.relay.gateway.dhcp.SharedLeases;
import dev.riscvrelay.relay.switching.LearningSwitch;
import io.netty.channel.EventLoop;

/** Connects each network's switch to the same network on the cluster's other relays, or to nothing. */
public interface Trunks {

    /** A relay alone: no network has a trunk. */
    Trunks NONE = (network, lan, loop) -> null;

    /**
     * Attaches a trunk port for {@code network} to {@code lan}; call on {@code loop}, which owns the switch.
     *
     * @return the trunk, to close with the network, or null when there is no cluster
     */
    Trunk open(String network, LearningSwitch lan, EventLoop loop);

    /**
     * Readies the trunks on {@code loop}, which will own every network's switch (a relay in a cluster keeps its
     * networks on one loop); before the first {@link #open}.
     */
    default void runOn(EventLoop loop) {
    }

    /** The leases of {@code network} across the cluster, for its DHCP server; none when there is no cluster. */
    default SharedLeases leases(String network) {
        return SharedLeases.NONE;
    }

    /** One network's link to the cluster; closing it detaches it and stops its subscriptions. On the loop. */
    interface Trunk extends AutoCloseable {
        @Override
        void close();
    }
}
