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
    }
}
