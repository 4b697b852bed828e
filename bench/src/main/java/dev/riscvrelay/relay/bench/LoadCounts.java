package dev.riscvrelay.relay.bench;

/**
 * The load generator's counts of one run.
 *
 * @param sent frames the endpoints accepted for sending
 * @param refused frames an endpoint refused at once (closed session, too large, hand-off queue full)
 * @param received measured frames that reached their partner
 * @param skipped sequence numbers passed over by a higher one (lost)
 * @param late frames below the highest sequence number seen (reordered or duplicated)
 * @param misdelivered frames that reached an endpoint they were not addressed to, or were no bench frame
 * @param stale frames of an earlier run that arrived during this one (not counted as received)
 */
public record LoadCounts(long sent, long refused, long received, long skipped, long late, long misdelivered,
        long stale) {
}
