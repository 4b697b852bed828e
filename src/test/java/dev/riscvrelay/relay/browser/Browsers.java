package dev.riscvrelay.relay.browser;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Launches a headless browser on one page with a fresh profile and settings that keep every byte on this machine,
 * and cleans up after it: kills the browser and its child processes, deletes the profile. The browser's output goes
 * to a log file under {@code target/browser-it/} for diagnosis.
 */
public final class Browsers {

    public enum Kind {
        CHROMIUM("chromium", "apt-get install -y chromium"),
        FIREFOX("firefox-esr", "apt-get install -y firefox-esr");

        final String executable;
        final String installHint;

        Kind(String executable, String installHint) {
            this.executable = executable;
            this.installHint = installHint;
        }
    }

    /**
     * Firefox prefs that stop its background traffic: updates, telemetry and studies, captive-portal and
     * connectivity checks, safe browsing, remote settings, push, DNS-over-HTTPS, prefetching. Every name that
     * resolves goes to the loopback address. WebTransport needs no pref: {@code network.webtransport.enabled} is on
     * by default in Firefox ESR 153, and it has no separate datagram pref any more.
     */
    static final List<String> FIREFOX_PREFS = List.of(
            "app.update.enabled", "false",
            "app.update.auto", "false",
            "app.normandy.enabled", "false",
            "app.shield.optoutstudies.enabled", "false",
            "browser.shell.checkDefaultBrowser", "false",
            "browser.startup.homepage_override.mstone", "\"ignore\"",
            "browser.startup.page", "0",
            "browser.aboutwelcome.enabled", "false",
            "browser.newtabpage.enabled", "false",
            "browser.discovery.enabled", "false",
            "browser.search.update", "false",
            "browser.region.update.enabled", "false",
            "browser.region.network.url", "\"\"",
            "browser.safebrowsing.malware.enabled", "false",
            "browser.safebrowsing.phishing.enabled", "false",
            "browser.safebrowsing.downloads.enabled", "false",
            "browser.safebrowsing.downloads.remote.enabled", "false",
            "browser.safebrowsing.blockedURIs.enabled", "false",
            "browser.topsites.contile.enabled", "false",
            "datareporting.healthreport.uploadEnabled", "false",
            "datareporting.policy.dataSubmissionEnabled", "false",
            "toolkit.telemetry.enabled", "false",
            "toolkit.telemetry.unified", "false",
            "toolkit.telemetry.archive.enabled", "false",
            "toolkit.telemetry.server", "\"\"",
            "network.captive-portal-service.enabled", "false",
            "network.connectivity-service.enabled", "false",
            "network.dns.disablePrefetch", "true",
            "network.prefetch-next", "false",
            "network.predictor.enabled", "false",
            "network.http.speculative-parallel-limit", "0",
            "network.trr.mode", "5",
            "network.dns.native-is-localhost", "true",
            "services.settings.server", "\"data:,#remote-settings-off\"",
            "security.remote_settings.crlite_filters.enabled", "false",
            "security.remote_settings.intermediates.enabled", "false",
            "extensions.update.enabled", "false",
            "extensions.getAddons.cache.enabled", "false",
            "extensions.blocklist.enabled", "false",
            "media.gmp-manager.updateEnabled", "false",
            "geo.provider.network.url", "\"\"",
            "dom.push.connection.enabled", "false",
            "dom.push.serverURL", "\"\"",
            "browser.ping-centre.telemetry", "false",
            "devtools.console.stdout.content", "true");

    private static final Path LOG_DIR = Path.of("target", "browser-it");

    private Browsers() {}

    /** The browser's executable on PATH; a missing browser fails the test (these tests never skip). */
    public static Path executable(Kind kind) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            Path candidate = Path.of(dir, kind.executable);
            if (Files.isExecutable(candidate)) return candidate;
        }
        throw new AssertionError(kind.executable + " not installed: run `" + kind.installHint
                + "` (the browser tests fail rather than skip without it)");
    }

    /**
     * Starts the browser headless on {@code page}, which connects to the relay at {@code relayHost} (an IP literal);
     * {@code label} names its log file.
     */
    public static Running launch(Kind kind, URI page, String relayHost, String label) {
        return launch(kind, List.of(page), relayHost, label, List.of());
    }

    /**
     * Starts the browser headless with one tab per page and {@code extraArgs} before them (Chromium only), e.g.
     * {@code --remote-debugging-port=0} to drive the pages through {@link DevTools}. Only loopback, the pages' hosts
     * and {@code relayHost} are exempt from Chromium's resolver rule that maps everything else to nowhere: an IP
     * literal that is not exempt fails too, so WebTransport to the relay across a link would not even start.
     */
    public static Running launch(Kind kind, List<URI> pages, String relayHost, String label,
            List<String> extraArgs) {
        return launch(kind, pages, List.of(relayHost), label, extraArgs);
    }

    /** As {@link #launch(Kind, List, String, String, List)}, with several relays exempt (e.g. a cluster's). */
    public static Running launch(Kind kind, List<URI> pages, List<String> relayHosts, String label,
            List<String> extraArgs) {
        Path browser = executable(kind);
        try {
            Files.createDirectories(LOG_DIR);
            Path profile = Files.createTempDirectory("riscv-relay-" + kind.executable + "-profile-");
            Path log = LOG_DIR.resolve(kind.executable + "-" + label + ".log");
            List<String> command = new ArrayList<>();
            command.add(browser.toString());
            if (kind == Kind.CHROMIUM) {
                command.addAll(List.of(
                        "--headless=new", "--no-sandbox", "--user-data-dir=" + profile,
                        // No name resolves except loopback and the test's own addresses: nothing can leave
                        // the machine or the test's namespaces.
                        "--host-resolver-rules=" + resolverRules(pages, relayHosts),
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--no-pings", "--disable-domain-reliability", "--dns-prefetch-disable",
                        "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                        "--disable-gpu", "--mute-audio", "--password-store=basic",
                        // Console messages of the page end up in the log file.
                        "--enable-logging=stderr", "--v=0"));
                command.addAll(extraArgs);
                pages.forEach(page -> command.add(page.toString()));
            } else {
                Files.writeString(profile.resolve("user.js"), firefoxUserJs(), StandardCharsets.UTF_8);
                command.addAll(List.of("-headless", "-no-remote", "-new-instance", "-profile", profile.toString()));
                pages.forEach(page -> command.add(page.toString()));
            }
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true);
            builder.environment().put("MOZ_HEADLESS", "1");
            builder.environment().put("MOZ_CRASHREPORTER_DISABLE", "1");
            // Chromium keeps its singleton socket in a directory under TMPDIR that a killed browser leaves behind:
            // inside the profile it goes with it.
            builder.environment().put("TMPDIR", profile.toString());
            Files.writeString(log, String.join(" ", command) + System.lineSeparator());
            builder.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            return new Running(kind, builder.start(), profile, log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code MAP * ~NOTFOUND} with EXCLUDEs for loopback, the pages' hosts and the relays' hosts. */
    static String resolverRules(List<URI> pages, List<String> relayHosts) {
        java.util.Set<String> hosts = new java.util.LinkedHashSet<>(List.of("localhost", "127.0.0.1"));
        pages.forEach(page -> hosts.add(page.getHost()));
        for (String relayHost : relayHosts) {
            hosts.add(relayHost);
            if (relayHost.startsWith("[")) {
                hosts.add(relayHost.substring(1, relayHost.length() - 1)); // an IPv6 literal, either way it is matched
            }
        }
        StringBuilder rules = new StringBuilder("MAP * ~NOTFOUND");
        hosts.forEach(host -> rules.append(", EXCLUDE ").append(host));
        return rules.toString();
    }

    static String firefoxUserJs() {
        StringBuilder js = new StringBuilder();
        for (int i = 0; i < FIREFOX_PREFS.size(); i += 2) {
            js.append("user_pref(\"").append(FIREFOX_PREFS.get(i)).append("\", ")
                    .append(FIREFOX_PREFS.get(i + 1)).append(");\n");
        }
        return js.toString();
    }

    /** Versions as the browsers print them, e.g. "Chromium 156.0.8078.108 built on Debian ...". */
    public static String version(Kind kind) {
        try {
            // stderr is dropped: Debian's chromium wrapper script prints shell noise there.
            Process process = new ProcessBuilder(executable(kind).toString(), "--version")
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return kind.executable + " (version unknown: --version timed out)";
            }
            return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return kind.executable + " (version unknown: interrupted)";
        }
    }

    /** A running browser; closing it kills the whole process tree and deletes its profile. */
    public record Running(Kind kind, Process process, Path profile, Path log) implements AutoCloseable {

        @Override
        public void close() {
            List<ProcessHandle> tree = new ArrayList<>();
            process.descendants().forEach(tree::add);
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            process.descendants().forEach(tree::add);
            tree.forEach(ProcessHandle::destroyForcibly);
            for (ProcessHandle child : tree) child.onExit().completeOnTimeout(child, 5, TimeUnit.SECONDS).join();
            deleteRecursively(profile);
        }

        /** The last lines of the browser log, for failure messages. */
        public String logTail(int lines) {
            try {
                List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
                return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
            } catch (IOException | java.io.UncheckedIOException e) {
                return "(browser log unreadable: " + e + ")";
            }
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException e) {
                    // A browser child that outlived the kill may still write; the temp dir is its last resort.
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // Best effort, as above.
        }
    }
}
