package dev.riscvrelay.relay.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * CPU time of another process and of its threads, from Linux's {@code /proc/PID/stat} and
 * {@code /proc/PID/task/TID/stat}: how the bench measures a forwarder that runs in a process of its own.
 *
 * @param name the thread's (or process's) name, field 2: at most 15 characters, so a JVM thread's Java name
 *     arrives cut short ("relay-worker-0" fits; "multiThreadIoEventLoopGroup-2-1" would be "multiThreadIoEv")
 * @param ticks user plus system time (fields 14 and 15) in clock ticks
 */
record ProcStat(String name, long ticks) {

    /**
     * Clock ticks per second of these fields: USER_HZ, 100 on every architecture Linux runs a JVM on (the kernel
     * converts to it whatever its own HZ); {@code getconf CLK_TCK} prints it.
     */
    static final long TICKS_PER_SECOND = 100;

    /** One stat line. The name may hold spaces and parentheses: the fields after it follow the last ')'. */
    static ProcStat parse(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open || close + 2 > stat.length()) {
            throw new IllegalArgumentException("not a /proc stat line: " + stat);
        }
        // Field 3 (state) starts after ") "; utime and stime are fields 14 and 15, the 12th and 13th from there.
        String[] fields = stat.substring(close + 2).trim().split(" +");
        if (fields.length < 13) {
            throw new IllegalArgumentException("a /proc stat line with too few fields: " + stat);
        }
        return new ProcStat(stat.substring(open + 1, close), Long.parseLong(fields[11]) + Long.parseLong(fields[12]));
    }

    long nanos() {
        return TimeUnit.SECONDS.toNanos(ticks) / TICKS_PER_SECOND;
    }

    /** The whole process: every thread's time (live ones and ended ones), GC and JIT included. */
    static ProcStat ofProcess(long pid) throws IOException {
        return parse(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
    }

    /** Every live thread of the process; a thread that ends while they are read is left out. */
    static List<ProcStat> threadsOf(long pid) throws IOException {
        List<ProcStat> threads = new ArrayList<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                try {
                    threads.add(parse(Files.readString(task.resolve("stat"))));
                } catch (IOException ended) {
                    // the thread ended between the listing and the read
                }
            }
        }
        return threads;
    }

    /** Sum of the ticks of the threads whose name {@code named} accepts, under the name {@code label}. */
    static ProcStat sum(List<ProcStat> threads, Predicate<String> named, String label) {
        long ticks = 0;
        for (ProcStat thread : threads) {
            if (named.test(thread.name())) {
                ticks += thread.ticks();
            }
        }
        return new ProcStat(label, ticks);
    }

    /** Nanoseconds of each thread whose name {@code named} accepts, by name (threads of one name summed). */
    static java.util.Map<String, Long> byName(List<ProcStat> threads, Predicate<String> named) {
        java.util.Map<String, Long> nanos = new java.util.TreeMap<>();
        for (ProcStat thread : threads) {
            if (named.test(thread.name())) {
                nanos.merge(thread.name(), thread.nanos(), Long::sum);
            }
        }
        return nanos;
    }
}
