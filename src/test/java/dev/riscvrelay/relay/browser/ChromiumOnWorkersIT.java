package dev.riscvrelay.relay.browser;

import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@link ChromiumWebTransportIT}'s scenarios on four workers, more than this machine's cores, on {@code /net/lab0}, which
 * the second worker runs: the page's sessions land on whichever worker the kernel picks, and those on the others
 * reach their LAN's switch and gateway through the hand-over queues. Last, what the admin API and the metrics saw.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ChromiumOnWorkersIT extends ChromiumWebTransportIT {

    @Override
    int workers() {
        return 4;
    }

    /** lab0's name hashes onto worker 1 of 4 (WorkersIT's spreading test shows the same). */
    @Override
    String networkPath() {
        return "/net/lab0";
    }

    @Test
    @Order(Integer.MAX_VALUE) // after the scenarios, whose sessions it counts
    void theSessionsSharedOneLanFromEveryWorkerTheyLandedOn() throws Exception {
        assertTheSessionsSharedTheLanFromEveryWorkerTheyLandedOn(1);
    }
}
