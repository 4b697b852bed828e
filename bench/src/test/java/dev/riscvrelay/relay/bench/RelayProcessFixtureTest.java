package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.access.SessionLimits;
import dev.riscvrelay.relay.cli.RelayCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class RelayProcessFixtureTest {

    @Test
    void theRelaysCommandLineTakesTheBenchsArgumentsAndLiftsTheLimitsAFixtureNeeds() {
        List<String> args = RelayProcessFixture.arguments(24);
        CommandLine command = new CommandLine(new RelayCommand(new PrintWriter(new StringWriter()),
                new PrintWriter(new StringWriter())));

        CommandLine.ParseResult parsed = command.parseArgs(args.toArray(String[]::new));

        assertThat(parsed.matchedOptionValue("--max-sessions", 0)).isEqualTo(24);
        assertThat(parsed.matchedOptionValue("--max-sessions-per-ip", 0)).isEqualTo(24);
        assertThat(parsed.matchedOptionValue("--session-frame-rate", 0L)).isEqualTo(SessionLimits.MAX_RATE);
        assertThat(parsed.matchedOptionValue("--session-byte-rate", 0L)).isEqualTo(SessionLimits.MAX_RATE);
        assertThat(parsed.matchedOptionValue("--bind", "")).isEqualTo("127.0.0.1");
        assertThat(parsed.matchedOptionValue("--admin", "")).isEqualTo("127.0.0.1:0");
        assertThat(parsed.matchedOptionValue("--workers", 0)).as("P1's relay: a worker per core")
                .isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void theWorkersPartsRelayTakesItsWorkersAndANetworkPerPairWithinItsLimits() {
        List<String> args = RelayProcessFixture.arguments(24, 4, true);
        CommandLine command = new CommandLine(new RelayCommand(new PrintWriter(new StringWriter()),
                new PrintWriter(new StringWriter())));

        CommandLine.ParseResult parsed = command.parseArgs(args.toArray(String[]::new));

        assertThat(parsed.matchedOptionValue("--workers", 0)).isEqualTo(4);
        // 12 pair networks and the default one; each created once, all from 127.0.0.1.
        assertThat(parsed.matchedOptionValue("--max-networks", 0)).isGreaterThanOrEqualTo(24 / 2 + 1);
        assertThat(parsed.matchedOptionValue("--network-creations-per-ip", 0)).isGreaterThanOrEqualTo(24 / 2);
    }

    @Test
    void partnersShareANetworkAndEveryPairHasItsOwn() {
        assertThat(RelayProcessFixture.path(0, true)).isEqualTo("/net/bench-0");
        assertThat(RelayProcessFixture.path(1, true)).isEqualTo("/net/bench-0");
        assertThat(RelayProcessFixture.path(14, true)).isEqualTo("/net/bench-7");
        assertThat(RelayProcessFixture.path(15, true)).isEqualTo("/net/bench-7");
        assertThat(RelayProcessFixture.path(15, false)).isEqualTo("/bench");
        for (int i = 0; i < 16; i++) {
            String network = RelayProcessFixture.network(i);
            assertThat(dev.riscvrelay.relay.access.NetworkPath.parse(RelayProcessFixture.path(i, true)).network())
                    .as("the relay reads the network the bench meant").isEqualTo(network);
            assertThat(RelayProcessFixture.network(PairedLoad.partnerOf(i))).isEqualTo(network);
        }
    }
}
