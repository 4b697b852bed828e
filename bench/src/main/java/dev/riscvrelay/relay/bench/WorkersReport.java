package dev.riscvrelay.relay.bench;

import dev.riscvrelay.relay.wire.MacAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The workers part of BENCHMARKS.md: the relay's peak, CPU and frames per CPU-second against {@code --workers},
 * what this machine can show of it and what that predicts for a larger one, each sentence from the numbers.
 */
final class WorkersReport {

    /** A relay whose process used more than this many cores ran on more than one core at once. */
    static final double ONE_CORE = 1.05;
    /** Frames per CPU-second within this share of one worker's count as kept. */
    static final double KEPT = 0.9;
    /** The relay and the load generator together above this share of the machine's cores: the machine was full. */
    static final double MACHINE_FULL = 0.9;

    private static final Pattern NETWORK = Pattern.compile("\\{\"name\":\"([^\"]*)\",\"worker\":(\\d+)");
    private static final Pattern MEMBER = Pattern.compile("\"macs\":\\[([^\\]]*)\\][^{}]*?\"worker\":(\\d+)");
    private static final Pattern MAC = Pattern.compile("\"([0-9a-fA-F:]{17})\"");
    private static final Pattern WORKER_THREAD = Pattern.compile(
            Pattern.quote(RelayProcessFixture.LOOP_THREAD) + "(\\d+)");

    private WorkersReport() {
    }

    /**
     * Where the bench's sessions landed, from the relay's {@code GET /api/networks}: each member whose MAC is one of
     * the first {@code sessions} endpoints' ({@link BenchFrames#macOf}), with its network and worker, by session.
     */
    static List<WorkersBench.Landing> landings(String networksJson, int sessions) {
        Map<String, Integer> sessionByMac = new HashMap<>();
        for (int i = 0; i < sessions; i++) {
            sessionByMac.put(MacAddress.format(BenchFrames.macOf(i)), i);
        }
        List<WorkersBench.Landing> landings = new ArrayList<>();
        // Each network's members lie between its name and the next network's.
        Matcher network = NETWORK.matcher(networksJson);
        List<Integer> starts = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        while (network.find()) {
            starts.add(network.start());
            names.add(network.group(1));
            owners.add(Integer.parseInt(network.group(2)));
        }
        for (int n = 0; n < starts.size(); n++) {
            int end = n + 1 < starts.size() ? starts.get(n + 1) : networksJson.length();
            Matcher member = MEMBER.matcher(networksJson.substring(starts.get(n), end));
            while (member.find()) {
                Matcher mac = MAC.matcher(member.group(1));
                while (mac.find()) {
                    Integer session = sessionByMac.get(mac.group(1).toLowerCase(Locale.ROOT));
                    if (session != null) {
                        landings.add(new WorkersBench.Landing(session, names.get(n),
                                Integer.parseInt(member.group(2)), owners.get(n)));
                    }
                }
            }
        }
        landings.sort(Comparator.comparingInt(WorkersBench.Landing::session));
        return landings;
    }

    /** The worker index in a loop thread's name ("relay-worker-3" is 3), or -1. */
    static int workerIndex(String threadName) {
        Matcher m = WORKER_THREAD.matcher(threadName);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** Each worker's cores, by worker index ({@code relay-worker-N}); other loop threads are left out. */
    static Map<Integer, Double> workerCores(SwitchBench.PeakRow peak) {
        Map<Integer, Double> byWorker = new java.util.TreeMap<>();
        peak.loopThreadCores().forEach((thread, cores) -> {
            int index = workerIndex(thread);
            if (index >= 0) {
                byWorker.merge(index, cores, Double::sum);
            }
        });
        return byWorker;
    }

    /** "w0 0.85, w1 0.40" (cores), or "-". */
    static String threadCores(SwitchBench.PeakRow peak) {
        List<String> parts = new ArrayList<>();
        workerCores(peak).forEach((index, cores) -> parts.add(String.format(Locale.ROOT, "w%d %.2f", index, cores)));
        return parts.isEmpty() ? "-" : String.join(", ", parts);
    }

    /** How many sessions each worker carries, "w0 8, w1 8" (every worker named, idle ones with 0), or "-". */
    static String sessionsPerWorker(WorkersBench.Run run) {
        if (run.landings().isEmpty()) {
            return "-";
        }
        Map<Integer, Integer> count = new LinkedHashMap<>();
        for (int w = 0; w < run.workers(); w++) {
            count.put(w, 0);
        }
        for (WorkersBench.Landing landing : run.landings()) {
            count.merge(landing.worker(), 1, Integer::sum);
        }
        List<String> parts = new ArrayList<>();
        count.forEach((worker, sessions) -> parts.add("w" + worker + " " + sessions));
        return String.join(", ", parts);
    }

    /** How many of the bench's networks each worker runs, "w0 4, w1 4" (every worker named), or "-". */
    static String networksPerWorker(WorkersBench.Run run) {
        if (run.landings().isEmpty()) {
            return "-";
        }
        Map<String, Integer> ownerOf = new LinkedHashMap<>();
        run.landings().forEach(landing -> ownerOf.put(landing.network(), landing.networkWorker()));
        Map<Integer, Integer> count = new LinkedHashMap<>();
        for (int w = 0; w < run.workers(); w++) {
            count.put(w, 0);
        }
        ownerOf.values().forEach(worker -> count.merge(worker, 1, Integer::sum));
        List<String> parts = new ArrayList<>();
        count.forEach((worker, networks) -> parts.add("w" + worker + " " + networks));
        return String.join(", ", parts);
    }

    /** Sessions whose connection sits on another worker than their network: their frames cross between loops. */
    static long crossingSessions(WorkersBench.Run run) {
        return run.landings().stream().filter(landing -> landing.worker() != landing.networkWorker()).count();
    }

    /** Frames forwarded per CPU-second of the relay's whole process. */
    static double framesPerCpuSecond(SwitchBench.PeakRow peak) {
        return peak.processCores() > 0 ? peak.framesPerSecond() / peak.processCores() : Double.NaN;
    }

    /** The first run of the plan (its smallest {@code --workers}): what the ratios divide by. */
    static WorkersBench.Run baseline(WorkersBench.Results results) {
        return results.runs().getFirst();
    }

    static double ratio(WorkersBench.Results results, WorkersBench.Run run) {
        return run.peak().framesPerSecond() / baseline(results).peak().framesPerSecond();
    }

    static double efficiencyRatio(WorkersBench.Results results, WorkersBench.Run run) {
        return framesPerCpuSecond(run.peak()) / framesPerCpuSecond(baseline(results).peak());
    }

    static void section(StringBuilder md, WorkersBench.Results results) {
        WorkersBench.Plan plan = results.plan();
        WorkersBench.Run base = baseline(results);
        md.append("## Workers: P1 peak against `--workers`\n\n");
        md.append(String.format(Locale.ROOT, "P1's peak (the same load generator and windowed runs; the median of "
                + "%d round(s) of %.1f s that alternate between the relays) at %d-byte frames with %d sessions in %d "
                + "networks: each pair of partnered sessions joins a network of its own (`/net/bench-K`), so the "
                + "relay switches %d LANs at once. One relay process per `--workers` value, all up during the whole "
                + "part, on a machine with %d cores; the load generator is one event loop in the bench's process. "
                + "*process cores* is the relay process's CPU time per wall second (/proc/PID/stat: GC and JIT "
                + "too), *worker cores* each `relay-worker-N` thread's (/proc/PID/task). Each network runs on the "
                + "worker its name hashes to (*networks per worker*); a session whose connection another worker "
                + "carries hands its frames across. *frames per CPU-second* is frames/s ÷ process cores. *sessions "
                + "per worker* and *networks per worker* come from the relay's `/api/networks`.%n%n", plan.rounds(), plan.measure().toMillis() / 1000.0, plan.size(),
                plan.sessions(), plan.networks(), plan.networks(), results.cores()));
        md.append("| `--workers` | frames/s (rounds min..max) | ÷ " + base.workers() + " worker"
                + (base.workers() == 1 ? "" : "s") + " | Mbit/s | process cores | worker cores | frames per "
                + "CPU-second | ÷ " + base.workers() + " worker" + (base.workers() == 1 ? "" : "s")
                + " | loadgen cores | sessions per worker | networks per worker |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (WorkersBench.Run run : results.runs()) {
            SwitchBench.PeakRow peak = run.peak();
            md.append(String.format(Locale.ROOT, "| %d | %,.0f (%,.0f..%,.0f) | %s | %,.0f | %.2f | %s | %s | %s | "
                    + "%.2f | %s | %s |%n", run.workers(), peak.framesPerSecond(), peak.minFramesPerSecond(),
                    peak.maxFramesPerSecond(), BenchReport.times(ratio(results, run)), peak.megabitsPerSecond(),
                    peak.processCores(), threadCores(peak), BenchReport.orDash("%,.0f", framesPerCpuSecond(peak)),
                    BenchReport.times(efficiencyRatio(results, run)), peak.loadCores(), sessionsPerWorker(run),
                    networksPerWorker(run)));
        }
        md.append('\n');
        List<String> untrusted = new ArrayList<>();
        for (WorkersBench.Run run : results.runs()) {
            run.peak().accounting().violations().forEach(v -> untrusted.add(run.peak().fixture() + ": " + v));
        }
        if (!untrusted.isEmpty()) {
            md.append("**Counts disagree (these runs are not to be trusted):**\n\n");
            untrusted.forEach(v -> md.append("- ").append(v).append('\n'));
            md.append('\n');
        }
        md.append("What this machine shows:\n\n");
        findings(results).forEach(finding -> md.append("- ").append(finding).append('\n'));
        md.append('\n');
    }

    /** What the runs show and what they predict for a larger machine, each sentence from the numbers. */
    static List<String> findings(WorkersBench.Results results) {
        List<String> findings = new ArrayList<>();
        WorkersBench.Run base = baseline(results);
        double baseEfficiency = framesPerCpuSecond(base.peak());
        for (WorkersBench.Run run : results.runs()) {
            if (run == base) {
                continue;
            }
            SwitchBench.PeakRow peak = run.peak();
            double busy = peak.processCores() + peak.loadCores();
            String cpu = String.format(Locale.ROOT, "With %d workers the relay process used %.2f cores (%s one core)",
                    run.workers(), peak.processCores(), peak.processCores() > ONE_CORE ? "above" : "not above");
            String machine = busy >= MACHINE_FULL * results.cores()
                    ? String.format(Locale.ROOT, "; with the load generator's %.2f the machine's %d cores were full "
                            + "(%.2f), so the cores, not the relay's workers, set this peak", peak.loadCores(),
                            results.cores(), busy)
                    : String.format(Locale.ROOT, "; with the load generator's %.2f, %.2f of the machine's %d cores "
                            + "were busy", peak.loadCores(), busy, results.cores());
            double efficiency = efficiencyRatio(results, run);
            String kept = Double.isNaN(efficiency) ? "" : String.format(Locale.ROOT, ". It forwarded %s frames/s "
                    + "(%s %d worker%s) and %s frames per CPU-second, %s %d worker%s'%s: %s",
                    String.format(Locale.ROOT, "%,.0f", peak.framesPerSecond()),
                    BenchReport.times(ratio(results, run)), base.workers(), base.workers() == 1 ? "" : "s",
                    String.format(Locale.ROOT, "%,.0f", framesPerCpuSecond(peak)), BenchReport.times(efficiency),
                    base.workers(), base.workers() == 1 ? "" : "s", base.workers() == 1 ? "s" : "",
                    efficiency > 1 / KEPT ? String.format(Locale.ROOT, "each frame took %.0f%% less of the relay's "
                            + "CPU", (1 - 1 / efficiency) * 100)
                            : efficiency >= KEPT ? "the work per frame stayed about the same as workers were added"
                            : String.format(Locale.ROOT, "each frame took %.0f%% more of the relay's CPU",
                                    (1 / efficiency - 1) * 100));
            String crossing = run.landings().isEmpty() ? "" : String.format(Locale.ROOT, " %d of its %d sessions "
                    + "sat on another worker than their network's and crossed between loops.", crossingSessions(run),
                    run.landings().size());
            findings.add(cpu + machine + kept + "." + crossing);
        }
        WorkersBench.Run widest = results.runs().stream()
                .max(Comparator.comparingInt(WorkersBench.Run::workers)).orElse(base);
        Map.Entry<Integer, Double> busiest = workerCores(widest.peak()).entrySet().stream()
                .max(Map.Entry.comparingByValue()).orElse(null);
        double ceiling = Double.NaN;
        if (busiest != null && busiest.getValue() > 0 && widest != base) {
            ceiling = widest.peak().framesPerSecond() / busiest.getValue();
            findings.add(String.format(Locale.ROOT, "The busiest loop with %d workers was worker %d, at %.2f cores "
                    + "while the relay forwarded %,.0f frames/s (networks per worker: %s). With the load in the same "
                    + "shares, it fills a whole core first, near %,.0f frames/s; networks spread over more workers "
                    + "move that limit up.", widest.workers(), busiest.getKey(), busiest.getValue(),
                    widest.peak().framesPerSecond(), networksPerWorker(widest), ceiling));
        }
        double widestEfficiency = framesPerCpuSecond(widest.peak());
        if (widest != base && !Double.isNaN(widestEfficiency) && !Double.isNaN(baseEfficiency)) {
            double busy = widest.peak().processCores() + widest.peak().loadCores();
            String here = busy >= MACHINE_FULL * results.cores()
                    ? String.format(Locale.ROOT, "This machine cannot show that growth: with %d workers the relay "
                            + "and the load generator already filled its %d cores.", widest.workers(), results.cores())
                    : String.format(Locale.ROOT, "In that run the relay and the load generator used %.2f of the "
                            + "machine's %d cores (the rest idle or taken by other work: see the load average), so its "
                            + "ratio above is what the added workers gave here.", busy, results.cores());
            findings.add(String.format(Locale.ROOT, "Prediction for a larger machine, with a core for each worker "
                    + "and the load generated elsewhere: about %,.0f frames per CPU-second of the relay (the %d-worker "
                    + "figure, %s the %d-worker one), so a peak that grows with the cores the workers get%s. %s",
                    widestEfficiency, widest.workers(), BenchReport.times(widestEfficiency / baseEfficiency),
                    base.workers(), Double.isNaN(ceiling) ? "" : String.format(Locale.ROOT,
                            " until its busiest loop's %,.0f frames/s", ceiling), here));
        }
        return findings;
    }
}
