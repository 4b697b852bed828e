package dev.riscvrelay.relay.gateway;

/**
 * One IP family's reassembly ({@link Ipv4Reassembly}, {@link Ipv6Reassembly}): it reads its family's fragments and
 * writes its family's header around a whole packet; the pieces, rules and bounds are the shared
 * {@link FragmentReassembly}'s. Owned by the gateway's event loop.
 */
abstract class FamilyReassembly {

    final FragmentReassembly pieces;

    FamilyReassembly(FragmentReassembly pieces) {
        this.pieces = pieces;
    }

    /** Drops every packet whose time is up; call about once a second. */
    final void expire(long now) {
        pieces.expire(now);
    }

    /** Drops every packet in progress, uncounted (the LAN is closing). */
    final void clear() {
        pieces.clear();
    }

    /** Packets in progress. */
    final int inProgress() {
        return pieces.inProgress();
    }
}
