package dev.riscvrelay.relay.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads what curl and iperf3 print: the figures P2 takes from them, or why there are none. */
public final class ToolOutput {

    /** What curl's {@code -w '%{size_download} %{time_total} %{http_code}'} (or size_upload) printed. */
    public record Transfer(long bytes, double seconds, int httpCode) {
        public double megabitsPerSecond() {
            return seconds <= 0 ? Double.NaN : bytes * 8 / seconds / 1e6;
        }
    }

    /** iperf3's receiver-side summary; lossPercent is NaN for TCP. */
    public record Iperf(double megabitsPerSecond, double seconds, double lossPercent, long lostPackets,
            long packets) {
    }

    /** The curl write-out format {@link #curl} reads, for a download. */
    public static final String CURL_DOWNLOAD_FORMAT = "%{size_download} %{time_total} %{http_code}";
    /** The curl write-out format {@link #curl} reads, for an upload. */
    public static final String CURL_UPLOAD_FORMAT = "%{size_upload} %{time_total} %{http_code}";

    private static final Pattern CURL = Pattern.compile("^\\s*(\\d+) ([0-9]+(?:[.,][0-9]+)?) (\\d{3})\\s*$");
    private static final Pattern NUMBER = Pattern.compile("\"%s\"\\s*:\\s*(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)");
    private static final Pattern ERROR = Pattern.compile("\"error\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private ToolOutput() {
    }

    /** Parses curl's write-out line; throws IllegalArgumentException when it is not one. */
    public static Transfer curl(String writeOut) {
        Matcher m = CURL.matcher(writeOut);
        if (!m.matches()) {
            throw new IllegalArgumentException("not curl write-out 'bytes seconds code': '" + writeOut.strip() + "'");
        }
        // curl prints time_total with the C locale's decimal point, but be lenient about a comma.
        return new Transfer(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2).replace(',', '.')),
                Integer.parseInt(m.group(3)));
    }

    /**
     * Parses {@code iperf3 -J}: the {@code end.sum_received} block (bits per second; for UDP also the lost
     * packets). Throws IllegalArgumentException with iperf3's own error when it reports one or has no summary.
     */
    public static Iperf iperf3(String json) {
        Matcher error = ERROR.matcher(json);
        if (error.find()) {
            throw new IllegalArgumentException("iperf3: " + error.group(1));
        }
        int end = json.indexOf("\"end\"");
        int received = end < 0 ? -1 : json.indexOf("\"sum_received\"", end);
        if (received < 0) {
            throw new IllegalArgumentException("iperf3 printed no end.sum_received: " + abbreviate(json));
        }
        int close = json.indexOf('}', received);
        String block = json.substring(received, close < 0 ? json.length() : close);
        double bps = number(block, "bits_per_second");
        if (Double.isNaN(bps)) {
            throw new IllegalArgumentException("no bits_per_second in iperf3's sum_received: " + block);
        }
        double lossPercent = number(block, "lost_percent");
        double lost = number(block, "lost_packets");
        double packets = number(block, "packets");
        return new Iperf(bps / 1e6, number(block, "seconds"), lossPercent, Double.isNaN(lost) ? 0 : (long) lost,
                Double.isNaN(packets) ? 0 : (long) packets);
    }

    private static double number(String block, String key) {
        Matcher m = Pattern.compile(String.format(Locale.ROOT, NUMBER.pattern(), key)).matcher(block);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    private static String abbreviate(String text) {
        String flat = text.strip().replaceAll("\\s+", " ");
        return flat.length() <= 200 ? flat : flat.substring(0, 200) + "...";
    }
}
