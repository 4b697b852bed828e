package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.metrics.Counter;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * One run's counts from both sides, the load generator's and the switch's, and whether they agree. Every frame
 * the load generator sent is either counted in by the switch or lost before it; every frame in is forwarded
 * (counted out) or dropped by a counted reason; every frame out is received or lost after the switch. Counts
 * that break these rules mean the benchmark (or the relay's accounting) is wrong, and the run is not to be
 * trusted.
 *
 * @param load the load generator's counts
 * @param switchDelta how much each switch counter grew during the run
 */
public record Accounting(LoadCounts load, Map<Counter, Long> switchDelta) {

    /** Counter deltas between two snapshots. */
    public static Map<Counter, Long> delta(Map<Counter, Long> before, Map<Counter, Long> after) {
        Map<Counter, Long> delta = new EnumMap<>(Counter.class);
        for (Counter counter : Counter.values()) {
            delta.put(counter, after.getOrDefault(counter, 0L) - before.getOrDefault(counter, 0L));
        }
        return delta;
    }

    public long framesIn() {
        return switchDelta.getOrDefault(Counter.FRAMES_IN, 0L);
    }

    public long framesOut() {
        return switchDelta.getOrDefault(Counter.FRAMES_OUT, 0L);
    }

    /** Frames the load generator sent that the switch never saw (lost in the client or server QUIC/UDP stacks). */
    public long lostBeforeSwitch() {
        return load.sent() - framesIn();
    }

    /** Frames the switch handed to a port that the partner never received (queues, sockets, QUIC stacks). */
    public long lostAfterSwitch() {
        return framesOut() - load.received();
    }

    /** Sum of every counted drop reason during the run. */
    public long drops() {
        long total = 0;
        for (Map.Entry<Counter, Long> entry : switchDelta.entrySet()) {
            if (entry.getKey().isDrop()) {
                total += entry.getValue();
            }
        }
        return total;
    }

    /** Share of sent frames that did not arrive. */
    public double lossRatio() {
        return load.sent() == 0 ? 0 : (double) (load.sent() - load.received()) / load.sent();
    }

    /** Every rule the counts break; empty when both sides agree. */
    public List<String> violations() {
        List<String> broken = new ArrayList<>();
        if (load.misdelivered() > 0) {
            broken.add(load.misdelivered() + " frames reached an endpoint they were not addressed to");
        }
        if (framesIn() > load.sent()) {
            broken.add("switch counted " + framesIn() + " frames in but the load generator sent " + load.sent());
        }
        if (framesOut() > framesIn()) {
            broken.add("switch counted " + framesOut() + " frames out but only " + framesIn()
                    + " in (no flooding expected once every MAC is learned)");
        }
        if (load.received() > framesOut()) {
            broken.add("endpoints received " + load.received() + " frames but the switch handed out only "
                    + framesOut());
        }
        if (load.received() - load.late() + load.skipped() > load.sent()) {
            broken.add("received plus skipped sequence numbers (" + (load.received() - load.late() + load.skipped())
                    + ") exceed frames sent (" + load.sent() + ")");
        }
        long flooded = switchDelta.getOrDefault(Counter.FRAMES_FLOODED, 0L);
        if (flooded > 0) {
            broken.add(flooded + " frames were flooded: a MAC was not learned, so the run did not measure unicast");
        }
        return broken;
    }
}
