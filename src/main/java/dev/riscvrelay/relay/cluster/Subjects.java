package dev.riscvrelay.relay.cluster;

/**
 * The NATS subjects of the trunks: {@code riscv-relay.lan.NETWORK.all} for what every relay holding the network
 * must see, {@code riscv-relay.lan.NETWORK.relay.RELAY_ID} for one relay's members. Network names and relay ids
 * are single subject tokens (letters, digits, '-', '_'), so no name can reach into another's subjects.
 */
record Subjects(String relayId) {

    static final String ROOT = "riscv-relay.lan";

    String flood(String network) {
        return ROOT + "." + network + ".all";
    }

    String ownRelay(String network) {
        return ROOT + "." + network + ".relay." + relayId;
    }
}
