package dev.riscvrelay.relay.testbed;

import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The round-trip times of one {@code ping} run, one per answered echo (duplicates left out), and how many were
 * sent: percentiles by nearest rank over the answered ones; the unanswered ones are the loss.
 */
public record PingTimes(int sent, double[] sortedMillis) {

    /**
     * The shortest interval at which iputils ping sleeps between echoes: below 10 ms it busy-waits (measured: 1000
     * echoes 5 ms apart took 4.7 CPU-seconds in 5 s, 10 ms apart about none), taking a core from what it measures.
     */
    public static final double SLEEPING_INTERVAL_SECONDS = 0.010;

    private static final Pattern REPLY = Pattern.compile("icmp_seq=(\\d+)\\b.*\\btime[=<]([0-9]+(?:\\.[0-9]+)?) ms");
    private static final Pattern TRANSMITTED = Pattern.compile("(\\d+) packets transmitted");

    public PingTimes {
        sortedMillis = sortedMillis.clone();
        Arrays.sort(sortedMillis);
    }

    /**
     * Reads iputils ping's per-reply lines ({@code 64 bytes from A: icmp_seq=N ttl=T time=0.123 ms}, a duplicate
     * marked {@code DUP!}) and its summary's transmitted count; {@code requested} when there is no summary (a ping
     * killed at its timeout).
     */
    public static PingTimes parse(String output, int requested) {
        double[] times = new double[16];
        int n = 0;
        java.util.BitSet seen = new java.util.BitSet();
        for (String line : output.split("\n")) {
            Matcher m = REPLY.matcher(line);
            if (!m.find() || line.contains("DUP!")) {
                continue;
            }
            int seq = Integer.parseInt(m.group(1));
            if (seen.get(seq)) {
                continue;
            }
            seen.set(seq);
            if (n == times.length) {
                times = Arrays.copyOf(times, n * 2);
            }
            times[n++] = Double.parseDouble(m.group(2));
        }
        Matcher transmitted = TRANSMITTED.matcher(output);
        int sent = transmitted.find() ? Integer.parseInt(transmitted.group(1)) : requested;
        return new PingTimes(Math.max(sent, n), Arrays.copyOf(times, n));
    }

    public int answered() {
        return sortedMillis.length;
    }

    public double lossPercent() {
        return sent == 0 ? Double.NaN : 100.0 * (sent - answered()) / sent;
    }

    /** The {@code percent}-th percentile by nearest rank (the smallest time with that share at or below it). */
    public double percentile(double percent) {
        if (sortedMillis.length == 0) {
            return Double.NaN;
        }
        if (!(percent > 0 && percent <= 100)) {
            throw new IllegalArgumentException("percentile in (0, 100]: " + percent);
        }
        int rank = (int) Math.ceil(percent / 100 * sortedMillis.length);
        return sortedMillis[Math.max(rank, 1) - 1];
    }

    public double max() {
        return sortedMillis.length == 0 ? Double.NaN : sortedMillis[sortedMillis.length - 1];
    }
}
