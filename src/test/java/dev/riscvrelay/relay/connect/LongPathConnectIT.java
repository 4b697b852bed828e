package dev.riscvrelay.relay.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.testbed.CommandResult;
import dev.riscvrelay.relay.testbed.FieldBed;
import dev.riscvrelay.relay.testbed.ImpairedLink.LinkProfile;
import dev.riscvrelay.relay.testbed.LanHost;
import dev.riscvrelay.relay.testbed.PingTimes;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A relay a second's round trip away (the {@code far} link: 500 ms each way, a congested mobile link or a
 * satellite). Opening a session takes about four round trips (QUIC's Retry, the handshake, SETTINGS and CONNECT),
 * more than the connector's first 3 s: that attempt hears the relay but times out, and the next one waits longer and
 * gets through, where every attempt used to time out the same way for ever.
 */
class LongPathConnectIT {

    @Test
    void aConnectorGetsThroughAPathWithASecondsRoundTrip() throws Exception {
        try (FieldBed field = FieldBed.create()) {
            field.startRelay("long-path");
            LanHost host = field.addLanHost("far", "10.0.2.15", LinkProfile.FAR);

            // Ready means the TAP is up, which the connector reports just before "connected to": wait for that too.
            host.connector().awaitLine(Pattern.compile("^connected to "), 0, Duration.ofSeconds(10));
            List<String> lines = host.connector().lines();
            assertThat(lines).as("the first attempt heard the relay and says so, and the next waits longer")
                    .anyMatch(line -> line.startsWith("relay slow to answer: ")
                            && line.contains("answered, but no WebTransport session opened within 3000 ms")
                            && line.endsWith("the next attempt waits up to 6 s; retrying in 0.5 s"));
            assertThat(lines).as("it is not taken for an unreachable relay")
                    .noneMatch(line -> line.startsWith("relay unreachable"));
            assertThat(lines).anyMatch(line -> line.startsWith("connected to "));

            CommandResult ping = host.ping("10.0.2.2", 3, 1.0);
            PingTimes times = PingTimes.parse(ping.stdout(), 3);
            assertThat(times.answered()).as(ping.describe()).isEqualTo(3);
            assertThat(times.percentile(50)).as("the gateway, a second away").isGreaterThanOrEqualTo(1000);
        }
    }
}
