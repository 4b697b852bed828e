package dev.riscvrelay.relay.ops;

import dev.riscvrelay.relay.forward.Forwards;
import dev.riscvrelay.relay.metrics.LoopSnapshot;
import dev.riscvrelay.relay.metrics.WorkerStats;
import dev.riscvrelay.relay.ops.api.LanInspector;
import dev.riscvrelay.relay.switching.FrameTap;
import java.time.Duration;

/** What operations need from the running relay; every method is safe to call from a control thread. */
public interface RelayState {

    /** The latest sizes the event loop published. */
    LoopSnapshot snapshot();

    /** Whether the UDP socket is open. */
    boolean socketOpen();

    /** Whether every event loop runs a task within {@code timeout} (none is stuck). */
    boolean loopRespondsWithin(Duration timeout);

    /** Installs (or with null removes) the switch's tap on the event loop and waits until it is in place. */
    void setTap(FrameTap tap);

    /** The networks and their members, copied on the event loop when asked. */
    LanInspector lans();

    /** What each worker carries. */
    default WorkerStats workers() {
        return WorkerStats.NONE;
    }

    /** The port forwards, opened and closed from control threads; null when the relay has none to offer. */
    default Forwards forwards() {
        return null;
    }
}
