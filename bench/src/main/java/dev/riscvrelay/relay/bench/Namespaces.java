package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.NetnsTestBed;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The network namespaces, veth pairs and background processes of one benchmark run, all removed by
 * {@link #close()} even after a failure. The namespaces are the test bed's ({@link NetnsTestBed}: named
 * {@code rr-<run>-<role>}, leftovers of a killed run deleted by the next), addressed here by name; the background
 * processes keep their last lines of output for readiness checks and errors. Needs root.
 */
public final class Namespaces implements AutoCloseable {

    private static final Path NETNS_DIR = Path.of("/run/netns");

    /** A process running in the background, its output kept (the last lines) for readiness checks and errors. */
    public static final class Background {
        private final String label;
        private final Process process;
        private final Deque<String> lines = new ArrayDeque<>();

        private Background(String label, Process process) {
            this.label = label;
            this.process = process;
            Thread pump = new Thread(this::pump, "bench-output-" + label);
            pump.setDaemon(true);
            pump.start();
        }

        /**
         * Starts {@code command} in this network namespace (the loopback benches'), its output kept as a namespace
         * process's; the caller ends it with {@link #stop()}.
         */
        static Background launch(String label, List<String> command) {
            try {
                return new Background(label, new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + command, e);
            }
        }

        private void pump() {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    synchronized (lines) {
                        lines.addLast(line);
                        if (lines.size() > 200) {
                            lines.removeFirst();
                        }
                        lines.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the process ended
            }
            synchronized (lines) {
                lines.notifyAll();
            }
        }

        /** Waits for an output line matching {@code pattern}; fails with the output when it ends or times out. */
        public Matcher awaitLine(Pattern pattern, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            synchronized (lines) {
                while (true) {
                    for (String line : lines) {
                        Matcher m = pattern.matcher(line);
                        if (m.find()) {
                            return m;
                        }
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || !process.isAlive()) {
                        throw new IllegalStateException(label + " printed no line matching '" + pattern + "' "
                                + (process.isAlive() ? "within " + timeout : "before it exited") + "; its output: "
                                + String.join(" | ", lines));
                    }
                    try {
                        lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted", e);
                    }
                }
            }
        }

        public String output() {
            synchronized (lines) {
                return String.join(" | ", lines);
            }
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** CPU time of the process and its descendants so far, in clock ticks (utime + stime, /proc/PID/stat). */
        public long cpuTicks() {
            long ticks = cpuTicksOf(process.pid());
            for (ProcessHandle child : process.descendants().toList()) {
                ticks += cpuTicksOf(child.pid());
            }
            return ticks;
        }

        void stop() {
            process.descendants().forEach(ProcessHandle::destroy);
            process.destroy();
            try {
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.descendants().forEach(ProcessHandle::destroyForcibly);
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }

        @Override
        public String toString() {
            return label;
        }
    }

    private final NetnsTestBed bed;
    private final Map<String, NetnsTestBed.Namespace> namespaces = new HashMap<>();
    private final Deque<Background> background = new ArrayDeque<>();
    private boolean closed;

    private Namespaces(NetnsTestBed bed) {
        this.bed = bed;
        // The bed tears itself down when the JVM is stopped (Ctrl-C): these processes go first, as in close().
        bed.own(this::stopAll);
    }

    /** Whether this process runs as root (uid 0), which namespaces, veths and TAPs need. */
    public static boolean isRoot() {
        return NetnsTestBed.isRoot();
    }

    /** The tools of {@code tools} that are not on PATH (nor in /usr/sbin, /sbin). */
    public static List<String> missingTools(String... tools) {
        return NetnsTestBed.missingTools(tools);
    }

    /** Starts a run: removes namespaces of earlier runs whose JVM is gone. */
    public static Namespaces create() {
        if (!isRoot()) {
            throw new IllegalStateException("network namespaces need root");
        }
        return new Namespaces(NetnsTestBed.create());
    }

    /** Creates namespace {@code rr-<run>-<role>} with its loopback up; returns its name. */
    public String add(String role) {
        NetnsTestBed.Namespace namespace = bed.addNamespace(role);
        namespaces.put(namespace.name(), namespace);
        return namespace.name();
    }

    public static Path path(String namespace) {
        return NETNS_DIR.resolve(namespace);
    }

    /** A veth pair: {@code nameA} in namespace {@code a}, {@code nameB} in {@code b}, both up. */
    public void veth(String a, String nameA, String b, String nameB) {
        bed.addVethPair(namespace(a), nameA, namespace(b), nameB);
    }

    /** A veth pair as {@link #veth(String, String, String, String)}, both ends with MTU {@code mtu}. */
    public void veth(String a, String nameA, String b, String nameB, int mtu) {
        exec(a, "ip", "link", "add", nameA, "mtu", Integer.toString(mtu), "type", "veth", "peer", "name", nameB,
                "mtu", Integer.toString(mtu), "netns", b).orThrow();
        exec(a, "ip", "link", "set", nameA, "up").orThrow();
        exec(b, "ip", "link", "set", nameB, "up").orThrow();
    }

    public CommandResult exec(String namespace, String... command) {
        return namespace(namespace).exec(command);
    }

    /** Runs {@code command} in {@code namespace}, killed after {@code timeout}. */
    public CommandResult exec(String namespace, Duration timeout, String... command) {
        return namespace(namespace).exec(timeout, command);
    }

    private NetnsTestBed.Namespace namespace(String name) {
        NetnsTestBed.Namespace namespace = namespaces.get(name);
        if (namespace == null) {
            throw new IllegalArgumentException("not a namespace of this run: " + name);
        }
        return namespace;
    }

    /** Starts {@code command} in {@code namespace} in the background; close() ends it. */
    public Background start(String label, String namespace, List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(namespace).name()));
        full.addAll(command);
        try {
            Background process = new Background(label, new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start());
            synchronized (background) {
                background.push(process);
            }
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + full, e);
        }
    }

    /** Ends a background process now (before close). */
    public void stop(Background process) {
        process.stop();
        synchronized (background) {
            background.remove(process);
        }
    }

    /** Ends every background process still running, newest first. */
    private void stopAll() {
        while (true) {
            Background next;
            synchronized (background) {
                next = background.poll();
            }
            if (next == null) {
                return;
            }
            next.stop();
        }
    }

    /** utime + stime of one process in clock ticks; 0 when it is gone. */
    static long cpuTicksOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** Ends the background processes (newest first), then deletes the namespaces with their veths and TAPs. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopAll();
        try {
            bed.close();
        } catch (IllegalStateException e) {
            // The measurements stand; what could not be removed is named, and the next run deletes it.
            System.err.println("relay bench: " + e.getMessage());
        }
    }
}
