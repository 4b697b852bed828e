package dev.riscvrelay.relay.cli;

import dev.riscvrelay.relay.transport.webtransport.WebTransportServerConfig;
import io.netty.handler.codec.quic.QuicCongestionControlAlgorithm;
import java.util.Locale;
import picocli.CommandLine.Option;

/** {@code --congestion-control}, shared by {@code run} and {@code connect}: how QUIC paces what this side sends. */
final class CongestionOption {

    /** The choices, as users type them. */
    enum Choice { bbr, cubic, reno }

    @Option(names = "--congestion-control", paramLabel = "ALGORITHM",
            description = "QUIC congestion control for what this side sends: bbr, cubic or reno (default: ${DEFAULT-VALUE}). BBR"
                    + " keeps its rate under random loss (Wi-Fi, mobile), where CUBIC halves it on every lost packet"
                    + " although the VMs' own TCP already reacts to that loss.")
    Choice choice = Choice.valueOf(WebTransportServerConfig.DEFAULT_CONGESTION_CONTROL.name().toLowerCase(Locale.ROOT));

    QuicCongestionControlAlgorithm algorithm() {
        return QuicCongestionControlAlgorithm.valueOf(choice.name().toUpperCase(Locale.ROOT));
    }
}
