/**
 * One LAN across many relays: each network's switch gets a trunk port to the same network on the other relays of
 * a cluster, over core NATS ({@code --cluster}).
 *
 * <p>{@link dev.riscvrelay.relay.cluster.Cluster} holds the relay's one NATS connection (reconnecting for ever,
 * saying each loss and return once); {@link dev.riscvrelay.relay.cluster.TrunkPort} is a switch port whose far side
 * is every other relay: flood subject for broadcast, multicast and unknown unicast, one subject per relay for
 * unicast to the members it holds, the senders learned from each message's reply-to;
 * {@link dev.riscvrelay.relay.cluster.FrameBatch} is the message format, the frames of one loop turn. What stays
 * per relay: the gateway (every relay answers 10.0.2.2 and 10.0.2.3 itself at the same MAC, whose frames never
 * cross the trunk), its NAT flows, and its members' sessions.
 */
package dev.riscvrelay.relay.cluster;
