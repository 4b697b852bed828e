package dev.riscvrelay.relay.bench;

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
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The network namespaces, veth pairs and background processes of one benchmark run, all removed by
 * {@link #close()} even after a failure. Namespaces are named {@code rrb-<pid>-<role>} after this JVM's pid, so a
 * later run recognises (and deletes) the leftovers of a run that was killed. Needs root.
 */
public final class Namespaces implements AutoCloseable {

    private static final Path NETNS_DIR = Path.of("/run/netns");
    private static final String PREFIX = "rrb-";
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);

    /** The result of a command that ran to its end or was killed at its timeout. */
    public record Result(List<String> command, int exitCode, boolean timedOut, String stdout, String stderr) {
        public boolean succeeded() {
            return !timedOut && exitCode == 0;
        }

        public Result orThrow() {
            if (!succeeded()) {
                throw new IllegalStateException(describe());
            }
            return this;
        }

        public String describe() {
            return String.join(" ", command) + (timedOut ? " timed out" : " exited " + exitCode)
                    + (stdout.isBlank() ? "" : "; stdout: " + stdout.strip())
                    + (stderr.isBlank() ? "" : "; stderr: " + stderr.strip());
        }
    }

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

    private final String runPrefix;
    private final List<String> namespaces = new ArrayList<>();
    private final Deque<Background> background = new ArrayDeque<>();
    private boolean closed;

    private Namespaces(String runPrefix) {
        this.runPrefix = runPrefix;
    }

    /** Whether this process runs as root (uid 0), which namespaces, veths and TAPs need. */
    public static boolean isRoot() {
        try {
            return Files.readString(Path.of("/proc/self/status")).lines()
                    .filter(l -> l.startsWith("Uid:")).anyMatch(l -> l.split("\\s+")[2].equals("0"));
        } catch (IOException e) {
            return false;
        }
    }

    /** The tools of {@code tools} that are not on PATH (nor in /usr/sbin, /sbin). */
    public static List<String> missingTools(String... tools) {
        List<String> missing = new ArrayList<>();
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin")
                .split(":")));
        dirs.addAll(List.of("/usr/sbin", "/sbin"));
        for (String tool : tools) {
            if (dirs.stream().noneMatch(dir -> Files.isExecutable(Path.of(dir, tool)))) {
                missing.add(tool);
            }
        }
        return missing;
    }

    /** Starts a run: removes namespaces of earlier runs whose JVM is gone. */
    public static Namespaces create() {
        if (!isRoot()) {
            throw new IllegalStateException("network namespaces need root");
        }
        removeStale();
        return new Namespaces(PREFIX + ProcessHandle.current().pid() + "-");
    }

    private static void removeStale() {
        if (!Files.isDirectory(NETNS_DIR)) {
            return;
        }
        try (Stream<Path> entries = Files.list(NETNS_DIR)) {
            for (Path entry : entries.toList()) {
                String[] parts = entry.getFileName().toString().split("-", 3);
                if (parts.length == 3 && (parts[0] + "-").equals(PREFIX) && parts[1].matches("\\d+")
                        && ProcessHandle.of(Long.parseLong(parts[1])).map(h -> !h.isAlive()).orElse(true)) {
                    run(COMMAND_TIMEOUT, List.of("ip", "netns", "delete", entry.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + NETNS_DIR, e);
        }
    }

    /** Creates namespace {@code rrb-<pid>-<role>} with its loopback up; returns its name. */
    public String add(String role) {
        String name = runPrefix + role;
        run(COMMAND_TIMEOUT, List.of("ip", "netns", "add", name)).orThrow();
        namespaces.add(name);
        exec(name, "ip", "link", "set", "lo", "up").orThrow();
        return name;
    }

    public static Path path(String namespace) {
        return NETNS_DIR.resolve(namespace);
    }

    /** A veth pair: {@code nameA} in namespace {@code a}, {@code nameB} in {@code b}, both up. */
    public void veth(String a, String nameA, String b, String nameB) {
        exec(a, "ip", "link", "add", nameA, "type", "veth", "peer", "name", nameB, "netns", b).orThrow();
        exec(a, "ip", "link", "set", nameA, "up").orThrow();
        exec(b, "ip", "link", "set", nameB, "up").orThrow();
    }

    /** A veth pair as {@link #veth(String, String, String, String)}, both ends with MTU {@code mtu}. */
    public void veth(String a, String nameA, String b, String nameB, int mtu) {
        exec(a, "ip", "link", "add", nameA, "mtu", Integer.toString(mtu), "type", "veth", "peer", "name", nameB,
                "mtu", Integer.toString(mtu), "netns", b).orThrow();
        exec(a, "ip", "link", "set", nameA, "up").orThrow();
        exec(b, "ip", "link", "set", nameB, "up").orThrow();
    }

    public Result exec(String namespace, String... command) {
        return exec(namespace, COMMAND_TIMEOUT, command);
    }

    /** Runs {@code command} in {@code namespace}, killed after {@code timeout}. */
    public Result exec(String namespace, Duration timeout, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(List.of(command));
        return run(timeout, full);
    }

    /** Starts {@code command} in {@code namespace} in the background; close() ends it. */
    public Background start(String label, String namespace, List<String> command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
        full.addAll(command);
        try {
            Background process = new Background(label, new ProcessBuilder(full).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start());
            background.push(process);
            return process;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + full, e);
        }
    }

    /** Ends a background process now (before close). */
    public void stop(Background process) {
        process.stop();
        background.remove(process);
    }

    /** Runs a command, its output in files (a chatty command cannot block on a pipe), killed after the timeout. */
    static Result run(Duration timeout, List<String> command) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("rrb-cmd", ".out");
            err = Files.createTempFile("rrb-cmd", ".err");
            Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            boolean finished = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!finished) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
            return new Result(command, finished ? process.exitValue() : -1, !finished,
                    Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
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

    private static void deleteQuietly(Path path) {
        if (path != null) {
            try {
                Files.deleteIfExists(path);
            } catch (IOException ignored) {
                // a temp file left behind is harmless
            }
        }
    }

    /** Ends the background processes (newest first), then deletes the namespaces with their veths and TAPs. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!background.isEmpty()) {
            background.pop().stop();
        }
        for (String namespace : namespaces.reversed()) {
            run(Duration.ofSeconds(10), List.of("ip", "netns", "delete", namespace));
        }
    }
}
