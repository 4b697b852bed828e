package dev.riscvrelay.relay.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import jdk.jfr.Recording;
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

    /** Runs {@code run} under a JFR recording and summarises the samples of {@code threads}. */
    public static <T> T record(List<Thread> threads, Path file, Callable<T> run, java.util.function.Consumer<Summary> out)
            throws Exception {
        T value;
        try (Recording recording = new Recording()) {
            recording.enable("jdk.ExecutionSample").withPeriod(PERIOD).withStackTrace();
            recording.enable("jdk.NativeMethodSample").withPeriod(PERIOD).withStackTrace();
            recording.setToDisk(true);
            recording.start();
            value = run.call();
            recording.stop();
            recording.dump(file);
        }
        Set<String> names = new LinkedHashSet<>();
        for (Thread thread : threads) {
            names.add(thread.getName());
        }
        out.accept(summarize(file, names));
        return value;
    }

    static Summary summarize(Path file, Set<String> threadNames) throws IOException {
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
                    || !threadNames.contains(event.getThread("sampledThread").getJavaName())) {
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
