package dev.riscvrelay.relay.gateway;

import dev.riscvrelay.relay.lan.NetworkConfig;
import dev.riscvrelay.relay.wire.EthernetFrame;
import dev.riscvrelay.relay.wire.Ipv4Address;
import dev.riscvrelay.relay.wire.Ipv4Packet;

/**
 * The gateway's route to the outside: claims every IPv4 packet a VM sent to the gateway's MAC for a destination
 * beyond the LAN, and hands it to the NAT. Last in the handler chain, after the services the gateway answers itself.
 */
public final class RouteToOutside implements IpHandler {

    /** Where packets for the outside go (the NAT). Same contract as {@link IpHandler}: the caller owns the frame. */
    @FunctionalInterface
    public interface Outside {
        void onPacket(EthernetFrame ethernet, Ipv4Packet ip);
    }

    private final Outside outside;

    public RouteToOutside(Outside outside) {
        this.outside = outside;
    }

    @Override
    public boolean handle(EthernetFrame ethernet, Ipv4Packet ip, GatewayOutput output) {
        NetworkConfig config = output.config();
        int destination = ip.destination();
        if (ethernet.destination() != config.gatewayMac() || config.inNetwork(destination)
                || Ipv4Address.isMulticast(destination) || destination == Ipv4Address.BROADCAST) {
            return false;
        }
        outside.onPacket(ethernet, ip);
        return true;
    }
}
