package dev.riscvrelay.relay.forward;

import dev.riscvrelay.relay.access.NetworkPath;
import dev.riscvrelay.relay.wire.Ipv4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;

/**
 * One port forward: outside clients of {@code bind:port} reach {@code vmAddress:vmPort} on a network's LAN. Written
 * {@code tcp:[ADDR:]PORT=[NETWORK/]VMADDR:PORT} (or {@code udp:...}); ADDR defaults to every address, as slirp's
 * {@code hostfwd} does, NETWORK to the default network. Port 0 listens on a free port.
 */
public record ForwardSpec(Protocol protocol, InetAddress bind, int port, String network, int vmAddress,
        int vmPort) {

    public enum Protocol {
        TCP,
        UDP;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public ForwardSpec {
        if (port < 0 || port > 65535 || vmPort < 1 || vmPort > 65535) {
            throw new IllegalArgumentException("ports must be 1..65535 (0 for a free outside port)");
        }
        if (!NetworkPath.validName(network)) {
            throw new IllegalArgumentException("bad network name '" + network + "'");
        }
    }

    /** Parses {@code tcp:[ADDR:]PORT=[NETWORK/]VMADDR:PORT}; the message of the exception says what is wrong. */
    public static ForwardSpec parse(String text) {
        String usage = "expected tcp|udp:[ADDR:]PORT=[NETWORK/]VMADDR:PORT, got '" + text + "'";
        int colon = text.indexOf(':');
        int equals = text.indexOf('=');
        if (colon < 0 || equals < colon) {
            throw new IllegalArgumentException(usage);
        }
        Protocol protocol = switch (text.substring(0, colon).toLowerCase(Locale.ROOT)) {
            case "tcp" -> Protocol.TCP;
            case "udp" -> Protocol.UDP;
            default -> throw new IllegalArgumentException(usage);
        };
        String outside = text.substring(colon + 1, equals);
        String inside = text.substring(equals + 1);
        int portColon = outside.lastIndexOf(':');
        InetAddress bind;
        try {
            String address = portColon < 0 ? "0.0.0.0" : outside.substring(0, portColon);
            if (address.startsWith("[") && address.endsWith("]")) {
                address = address.substring(1, address.length() - 1);
            }
            if (address.isEmpty() || !(address.contains(":") || address.matches("[0-9.]+"))) {
                throw new IllegalArgumentException(usage + ": ADDR must be an IP address");
            }
            bind = InetAddress.getByName(address); // a literal: no lookup
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(usage + ": " + e.getMessage());
        }
        int slash = inside.indexOf('/');
        String network = slash < 0 ? NetworkPath.DEFAULT_NETWORK : inside.substring(0, slash);
        String vm = inside.substring(slash + 1);
        int vmColon = vm.lastIndexOf(':');
        if (vmColon < 0) {
            throw new IllegalArgumentException(usage);
        }
        try {
            return new ForwardSpec(protocol, bind, Integer.parseInt(outside.substring(portColon + 1)), network,
                    Ipv4Address.parse(vm.substring(0, vmColon)), Integer.parseInt(vm.substring(vmColon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(usage);
        }
    }

    /** {@code NETWORK/VMADDR:PORT}. */
    public String target() {
        return network + "/" + Ipv4Address.format(vmAddress) + ":" + vmPort;
    }

    /** The spec as written, with every default filled in. */
    @Override
    public String toString() {
        String address = bind.getHostAddress();
        return protocol.label() + ":" + (address.contains(":") ? "[" + address + "]" : address) + ":" + port + "="
                + target();
    }
}
