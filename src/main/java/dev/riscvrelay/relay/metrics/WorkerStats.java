package dev.riscvrelay.relay.metrics;

/**
 * What each worker (an event loop with its UDP socket) carries, read by exporters from any thread: each figure is
 * read when asked, from something the worker publishes anyway (its thread's CPU clock, its connection set, its
 * hand-off queues' positions), so nothing on the hot path pays for it.
 */
public interface WorkerStats {

    /** A relay without workers to show (tests of other metrics). */
    WorkerStats NONE = new WorkerStats() {
        @Override
        public int workers() {
            return 0;
        }

        @Override
        public double cpuSeconds(int worker) {
            return 0;
        }

        @Override
        public int connections(int worker) {
            return 0;
        }

        @Override
        public long framesToLan(int worker) {
            return 0;
        }

        @Override
        public long packetsHandedOver(int worker) {
            return 0;
        }

        @Override
        public long framesFromLan(int worker) {
            return 0;
        }
    };

    /** The number of workers; they are numbered from 0 (the default network's). */
    int workers();

    /** CPU time the worker's thread has used, in seconds. */
    double cpuSeconds(int worker);

    /** QUIC connections the worker owns now. */
    int connections(int worker);

    /** QUIC packets the worker's socket read for other workers' connections and handed to them. */
    long packetsHandedOver(int worker);

    /** Frames the worker's sessions handed to the workers that run their networks. */
    long framesToLan(int worker);

    /** Frames the workers that run other networks handed to the worker's sessions. */
    long framesFromLan(int worker);
}
