package dev.riscvrelay.relay.bench;

import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time a forwarder has used so far, in nanoseconds.
 *
 * @param loopNanos its event-loop thread(s): the work per frame, comparable across forwarders
 * @param processNanos its whole process (GC, JIT, every thread), or -1 when it shares the bench's JVM and its
 *     process time cannot be told apart from the load generator's
 * @param loopThreadNanos each event-loop thread's share of {@code loopNanos}, by thread name
 */
public record CpuTime(long loopNanos, long processNanos, Map<String, Long> loopThreadNanos) {

    public CpuTime {
        loopThreadNanos = Map.copyOf(loopThreadNanos);
    }

    public boolean hasProcess() {
        return processNanos >= 0;
    }

    /** Loop threads that run in this JVM: their CPU time, and no process time of their own. */
    static CpuTime ofThreads(List<Thread> threads) {
        long total = 0;
        Map<String, Long> byName = new TreeMap<>();
        for (Thread thread : threads) {
            long nanos = Math.max(0, ManagementFactory.getThreadMXBean().getThreadCpuTime(thread.threadId()));
            total += nanos;
            byName.merge(thread.getName(), nanos, Long::sum);
        }
        return new CpuTime(total, -1, byName);
    }
}
