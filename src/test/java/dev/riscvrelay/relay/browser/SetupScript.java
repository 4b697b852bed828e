package dev.riscvrelay.relay.browser;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs one of the scripts that fetch what a browser test needs (the v86 image, the WISP clients) with its output in
 * a log under target/ and stdin from /dev/null: npm sets the stdin it inherits non-blocking, and the test JVM's stdin
 * is the build tool's command pipe ("std/in stream corrupted" ended a whole CI run that way).
 */
final class SetupScript {

    private SetupScript() {
    }

    static void run(String script, String logName, long timeoutSeconds) throws Exception {
        Path log = Path.of("target", logName);
        Process process = new ProcessBuilder(script)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(script + " took longer than " + timeoutSeconds + " s; see " + log);
        }
        assertThat(process.exitValue()).as(script + " exit code; its output:\n" + Files.readString(log)).isZero();
    }
}
