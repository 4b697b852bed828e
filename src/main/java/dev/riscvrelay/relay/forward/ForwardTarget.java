package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.gateway.Neighbours;
import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.nat.tcp.TcpNat;
import dev.riscvrelay.relay.nat.udp.UdpNat;
import java.util.function.LongPredicate;

/**
 * What a forward needs of the network it leads into: its addressing, the gateway's ARP cache, whether the switch
 * still has a port for a MAC (a guest that left has none), the NAT that carries the connections and datagrams, and the
 * gateway's UDP ports forwards send from. Used on the network's event loop.
 */
public record ForwardTarget(NetworkConfig config, Neighbours neighbours, LongPredicate macPresent, TcpNat tcp,
        UdpNat udp, ForwardPorts udpPorts) {

    /** The networks by name, as they exist now (null: not created yet). On the loop. */
    @FunctionalInterface
    public interface Lookup {
        ForwardTarget network(String name);
    }
}
