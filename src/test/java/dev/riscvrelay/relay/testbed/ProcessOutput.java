package dev.riscvrelay.relay.testbed;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Reads a test process's output (stdout and stderr together) on a daemon thread: every line goes to a log file
 * under {@code target/relay-logs/} (after the command line) and to {@code onLine}; {@code onEnd} runs once the
 * output ends (the process exited or closed it).
 */
final class ProcessOutput {

    private ProcessOutput() {
    }

    /** SIGTERM, so the process can say goodbye (close its session, print its counters); SIGKILL after 10 s. */
    static void terminate(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** Starts the thread {@code threadName} that pumps {@code process}'s output into {@code logName}. */
    static Thread pump(Process process, List<String> command, String logName, String threadName,
            Consumer<String> onLine, Runnable onEnd) throws IOException {
        Path log = Files.createDirectories(Path.of("target", "relay-logs")).resolve(logName);
        Thread pump = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                         new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                 PrintWriter file = new PrintWriter(Files.newBufferedWriter(log, StandardCharsets.UTF_8), true)) {
                file.println(String.join(" ", command));
                String line;
                while ((line = in.readLine()) != null) {
                    file.println(line);
                    onLine.accept(line);
                }
            } catch (IOException e) {
                // The process ended; onEnd tells the owner.
            }
            onEnd.run();
        }, threadName);
        pump.setDaemon(true);
        pump.start();
        return pump;
    }
}
