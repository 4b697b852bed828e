package dev.riscvrelay.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RelayCloseTest {

    @Test
    void everyPartClosesEvenWhenOneBeforeItFailsAndEachFailureIsReported() {
        List<String> closed = new ArrayList<>();
        List<String> failed = new ArrayList<>();

        Map<String, Runnable> parts = new LinkedHashMap<>();
        parts.put("admin", () -> closed.add("admin"));
        parts.put("forwards", () -> {
            throw new NoClassDefFoundError("io/netty/channel/group/ChannelMatchers");
        });
        parts.put("demo", null);
        parts.put("server", () -> {
            throw new IllegalStateException("already closed");
        });
        parts.put("loops", () -> closed.add("loops"));

        Relay.closeEach(parts, (part, failure) -> failed.add(part + ": " + failure.getClass().getSimpleName()));

        assertThat(closed).containsExactly("admin", "loops");
        assertThat(failed).containsExactly("forwards: NoClassDefFoundError", "server: IllegalStateException");
    }
}
