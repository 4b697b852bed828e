package dev.riscvrelay.relay.gateway.dhcp;

/**
 * The leases of the same network on other relays of a cluster, as this relay's DHCP server sees them: which
 * addresses other MACs hold there, which address a MAC held last, and this relay's own offers and leases made
 * known. Called on the network's loop; answers come from a local copy, never from a round trip.
 */
public interface SharedLeases {

    /** A relay alone. */
    SharedLeases NONE = new SharedLeases() {
        @Override
        public int addressOf(long mac) {
            return 0;
        }

        @Override
        public boolean heldByOther(int address, long mac) {
            return false;
        }

        @Override
        public void held(int address, long mac) {
        }

        @Override
        public void freed(int address, long mac) {
        }
    };

    /** The address the cluster last knew {@code mac} by, or 0: a VM that moved relays keeps its address. */
    int addressOf(long mac);

    /** Whether a MAC other than {@code mac} holds {@code address} anywhere in the cluster. */
    boolean heldByOther(int address, long mac);

    /** This relay offered or leased (or renewed) {@code address} to {@code mac}. */
    void held(int address, long mac);

    /** This relay's offer or lease of {@code address} to {@code mac} ended. */
    void freed(int address, long mac);
}
