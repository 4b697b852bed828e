package dev.riscvrelay.relay.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where a forwarder's thread spends its time during one run: a JFR recording of Java and native-method samples
 * of that thread, summed by the method on top of the stack (self time) and by the part of the stack a sample
 * falls in (quiche, HTTP/3, the switch, syscalls...). Native samples matter: quiche (QUIC and TLS) runs in C
 * behind JNI, where Java execution samples do not look.
 */
public final class Profile {

    private static final Duration PERIOD = Duration.ofMillis(5);
    private static final int TOP = 15;

    /** The summary as a Markdown section, and the recording it came from. */
    public record Summary(String markdown, Path recording, long samples) {
    }

    /** Inclusive categories: a sample counts in each whose frames appear anywhere in its stack. */
    private static final Map<String, String> CATEGORIES = new LinkedHashMap<>();

    static {
        CATEGORIES.put("io.netty.handler.codec.quic.Quiche.", "quiche (QUIC + TLS 1.3 in C, via JNI)");
        CATEGORIES.put("io.netty.handler.codec.quic.BoringSSL", "BoringSSL callbacks into Java");
        CATEGORIES.put("io.netty.handler.codec.http3.", "Netty HTTP/3 codec");
        CATEGORIES.put("dev.riscvrelay.relay.transport.webtransport.", "relay WebTransport (sessions, datagrams)");
        CATEGORIES.put("dev.riscvrelay.relay.switching.", "relay learning switch");
        CATEGORIES.put("io.netty.channel.epoll.", "epoll transport (syscalls, socket reads and writes)");
        CATEGORIES.put("io.netty.buffer.", "Netty buffers (allocation, copies, reference counts)");
        CATEGORIES.put("io.netty.handler.codec.quic.", "Netty QUIC codec in Java (channels, pipelines)");
    }

    private Profile() {
    }

    /**
     * Runs {@code run} while the JVM of process {@code pid} (the relay's) records Java and native-method samples
     * (JFR, started and stopped with jcmd of this JDK), and summarises the samples of its threads whose Java name
     * starts with {@code threadPrefix}.
     */
    public static <T> T recordProcess(long pid, String threadPrefix, Path file, Callable<T> run,
            Consumer<Summary> out) throws Exception {
        Path settings = Files.createTempFile("relay-bench-", ".jfc");
        String name = "relay-bench-" + ProcessHandle.current().pid();
        T value;
        try {
            Files.writeString(settings, settings());
            jcmd(pid, "JFR.start", "name=" + name, "settings=" + settings);
            try {
                value = run.call();
            } finally {
                jcmd(pid, "JFR.stop", "name=" + name, "filename=" + file);
            }
        } finally {
            Files.deleteIfExists(settings);
        }
        out.accept(summarize(file, threadName -> threadName.startsWith(threadPrefix)));
        return value;
    }

    /** A JFR configuration with only the two samplers, every {@link #PERIOD}. */
    static String settings() {
        StringBuilder jfc = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                + "<configuration version=\"2.0\" label=\"relay bench\">\n");
        for (String event : List.of("jdk.ExecutionSample", "jdk.NativeMethodSample")) {
            jfc.append("  <event name=\"").append(event).append("\">\n")
                    .append("    <setting name=\"enabled\">true</setting>\n")
                    .append("    <setting name=\"stackTrace\">true</setting>\n")
                    .append("    <setting name=\"period\">").append(PERIOD.toMillis()).append(" ms</setting>\n")
                    .append("  </event>\n");
        }
        return jfc.append("</configuration>\n").toString();
    }

    private static void jcmd(long pid, String... command) throws IOException, InterruptedException {
        Path javaBinary = Path.of(ProcessHandle.current().info().command().orElseThrow());
        List<String> full = new ArrayList<>(List.of(javaBinary.resolveSibling("jcmd").toString(),
                Long.toString(pid)));
        full.addAll(List.of(command));
        Process process = new ProcessBuilder(full).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IOException(String.join(" ", full) + " failed: " + output);
        }
    }

    static Summary summarize(Path file, Predicate<String> threadNames) throws IOException {
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> inclusive = new LinkedHashMap<>();
        long samples = 0;
        long javaSamples = 0;
        long idle = 0;
        for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
            String type = event.getEventType().getName();
            boolean java = type.equals("jdk.ExecutionSample");
            if (!java && !type.equals("jdk.NativeMethodSample")) {
                continue;
            }
            if (event.getThread("sampledThread") == null
                    || !threadNames.test(event.getThread("sampledThread").getJavaName())) {
                continue;
            }
            RecordedStackTrace stack = event.getStackTrace();
            if (stack == null || stack.getFrames().isEmpty()) {
                continue;
            }
            if (!java && methodOf(stack.getFrames().getFirst()).startsWith("io.netty.channel.epoll.Native.epoll")) {
                idle++; // waiting in epoll_wait for work: not time spent forwarding
                continue;
            }
            samples++;
            if (java) {
                javaSamples++;
            }
            self.merge(methodOf(stack.getFrames().getFirst()) + (java ? "" : " (native)"), 1L, Long::sum);
            Set<String> seen = new LinkedHashSet<>();
            for (RecordedFrame frame : stack.getFrames()) {
                String method = methodOf(frame);
                for (Map.Entry<String, String> category : CATEGORIES.entrySet()) {
                    if (method.startsWith(category.getKey())) {
                        seen.add(category.getValue());
                        break;
                    }
                }
            }
            for (String category : seen) {
                inclusive.merge(category, 1L, Long::sum);
            }
        }
        StringBuilder md = new StringBuilder();
        md.append("## Profile: where the relay's event loop spends its time\n\n");
        md.append(String.format(Locale.ROOT, "JFR samples of the relay's event-loop thread every %d ms during its "
                + "largest P1 peak run: %,d busy samples, %,d in Java code and %,d in native methods (quiche, syscalls), "
                + "and %,d idle in epoll_wait (left out). "
                + "The recording is `%s` (open it with `jfr print` or JDK Mission Control).%n%n", PERIOD.toMillis(),
                samples, javaSamples, samples - javaSamples, idle, file));
        if (samples == 0) {
            md.append("No samples of the relay's thread were recorded.\n\n");
            return new Summary(md.toString(), file, 0);
        }
        md.append("| part of the stack (inclusive) | share of samples |\n|---|---|\n");
        long total = samples;
        inclusive.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> md.append(String.format(Locale.ROOT, "| %s | %.1f%% |%n", e.getKey(),
                        100.0 * e.getValue() / total)));
        md.append("\n| method on top of the stack (self) | share of samples |\n|---|---|\n");
        self.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(TOP)
                .forEach(e -> md.append(String.format(Locale.ROOT, "| `%s` | %.1f%% |%n", e.getKey(),
                        100.0 * e.getValue() / total)));
        md.append('\n');
        return new Summary(md.toString(), file, samples);
    }

    private static String methodOf(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }
}
