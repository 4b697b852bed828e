package dev.riscvrelay.relay.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * How long this machine's CPUs stop running a program now and then, whatever the program does: the hypervisor's,
 * the kernel's or other processes' work. One busy loop per CPU, pinned there with {@code taskset}, reads the clock
 * for a few seconds; a gap between two reads is time that CPU gave to something else. A ping through two user-space
 * processes (connector and relay) that meets such a gap waits it out, so the gaps show what any user-space path
 * meets there, beside the plain veth's (a few microseconds in the kernel, which the gaps rarely meet).
 *
 * @param seconds how long each CPU was watched
 * @param cpus what each CPU lost
 */
public record MachineStalls(double seconds, List<Cpu> cpus) {

    /** Gaps shorter than this are the loop's own noise (an interrupt, a cache miss), not a stall. */
    static final double GAP_MILLIS = 0.5;

    // Prints "START_SECONDS GAP_MILLIS" for every gap over the threshold between two clock reads.
    private static final String SPIN = """
            import sys, time
            length, threshold = float(sys.argv[1]), float(sys.argv[2]) / 1000
            start = last = time.monotonic()
            end = start + length
            gaps = []
            while last < end:
                now = time.monotonic()
                if now - last > threshold:
                    gaps.append((last - start, now - last))
                last = now
            for at, gap in gaps:
                print("%.6f %.4f" % (at, gap * 1000))
            """;

    /** One CPU's gaps over {@link #GAP_MILLIS}, in the order they came. */
    public record Cpu(int cpu, double[] startSeconds, double[] gapMillis) {

        public int count() {
            return gapMillis.length;
        }

        public double maxMillis() {
            return Arrays.stream(gapMillis).max().orElse(0);
        }

        /** Reads the spinner's lines ({@code START_SECONDS GAP_MILLIS}); other lines are ignored. */
        static Cpu parse(int cpu, String output) {
            List<double[]> gaps = new ArrayList<>();
            for (String line : output.split("\n")) {
                String[] fields = line.trim().split("\\s+");
                if (fields.length != 2) {
                    continue;
                }
                try {
                    gaps.add(new double[] {Double.parseDouble(fields[0]), Double.parseDouble(fields[1])});
                } catch (NumberFormatException notAGap) {
                    // not one of the spinner's lines
                }
            }
            return new Cpu(cpu, gaps.stream().mapToDouble(g -> g[0]).toArray(),
                    gaps.stream().mapToDouble(g -> g[1]).toArray());
        }
    }

    /** The largest gap on any CPU, in ms (0 without any). */
    public double maxMillis() {
        return cpus.stream().mapToDouble(Cpu::maxMillis).max().orElse(0);
    }

    /** One line: per CPU, how many gaps and the largest. */
    public String summary() {
        List<String> parts = new ArrayList<>();
        for (Cpu cpu : cpus) {
            parts.add(String.format(Locale.ROOT, "CPU %d: %d over %.1f ms, the largest %.2f ms", cpu.cpu(),
                    cpu.count(), GAP_MILLIS, cpu.maxMillis()));
        }
        return String.format(Locale.ROOT, "in %.0f s, ", seconds) + String.join("; ", parts);
    }

    /**
     * The CPUs a list such as {@code Cpus_allowed_list} names ({@code 0-3,6,8-9}), in order.
     *
     * @throws IllegalArgumentException when it is not such a list
     */
    static List<Integer> cpuList(String list) {
        List<Integer> cpus = new ArrayList<>();
        for (String part : list.strip().split(",")) {
            String[] range = part.split("-");
            try {
                int first = Integer.parseInt(range[0].strip());
                int last = range.length == 2 ? Integer.parseInt(range[1].strip()) : first;
                if (range.length > 2 || first < 0 || last < first) {
                    throw new IllegalArgumentException("not a CPU list: " + list);
                }
                for (int cpu = first; cpu <= last; cpu++) {
                    cpus.add(cpu);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not a CPU list: " + list, e);
            }
        }
        return cpus;
    }

    /** The CPUs this process may run on (a container's cpuset may leave out CPU 0). */
    private static List<Integer> allowedCpus() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Cpus_allowed_list:")) {
                return cpuList(line.substring("Cpus_allowed_list:".length()));
            }
        }
        throw new IOException("/proc/self/status has no Cpus_allowed_list");
    }

    /** Watches every CPU this process may use, all at once, for {@code seconds}. */
    static MachineStalls measure(double seconds) {
        List<Process> spinners = new ArrayList<>();
        try {
            List<Integer> cpus = allowedCpus();
            for (int cpu : cpus) {
                spinners.add(new ProcessBuilder("taskset", "-c", Integer.toString(cpu), "python3", "-c", SPIN,
                        Double.toString(seconds), Double.toString(GAP_MILLIS)).redirectErrorStream(true).start());
            }
            List<Cpu> results = new ArrayList<>();
            for (int i = 0; i < cpus.size(); i++) {
                int cpu = cpus.get(i);
                Process spinner = spinners.get(i);
                byte[] output = spinner.getInputStream().readAllBytes();
                if (!spinner.waitFor((long) seconds + 30, TimeUnit.SECONDS) || spinner.exitValue() != 0) {
                    throw new IllegalStateException("the stall probe on CPU " + cpu + " failed: "
                            + new String(output, StandardCharsets.UTF_8).strip());
                }
                results.add(Cpu.parse(cpu, new String(output, StandardCharsets.UTF_8)));
            }
            return new MachineStalls(seconds, List.copyOf(results));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the stall probe", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while probing for stalls", e);
        } finally {
            spinners.forEach(Process::destroyForcibly);
        }
    }
}
