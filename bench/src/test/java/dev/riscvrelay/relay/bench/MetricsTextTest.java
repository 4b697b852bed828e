package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import dev.riscvrelay.relay.metrics.Counters;
import dev.riscvrelay.relay.metrics.LoopSnapshot;
import dev.riscvrelay.relay.metrics.RelayMetrics;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricsTextTest {

    @Test
    void readsEveryCounterFromTheRelaysOwnExposition() throws Exception {
        Counters counters = new Counters();
        counters.add(Counter.FRAMES_IN, 12_345_678_901L);
        counters.add(Counter.FRAMES_OUT, 77);
        counters.add(Counter.MAC_LEARNED, 16);
        counters.add(Counter.DROP_QUEUE_FULL, 3);
        try (RelayMetrics metrics = new RelayMetrics(counters, () -> LoopSnapshot.EMPTY, () -> 1.0)) {
            Map<Counter, Long> read = MetricsText.parse(metrics.scrape());

            assertThat(read).isEqualTo(counters.snapshot());
        }
    }

    @Test
    void theForwardersRenderingReadsBackTheSame() {
        Counters counters = new Counters();
        counters.add(Counter.FRAMES_IN, 5);
        counters.add(Counter.FRAMES_FLOODED, 2);
        counters.add(Counter.DROP_QUEUE_FULL, 9);

        assertThat(MetricsText.parse(MetricsText.render(counters.snapshot()))).isEqualTo(counters.snapshot());
    }

    @Test
    void namesSeriesAsTheRelayDoes() {
        assertThat(MetricsText.series(Counter.FRAMES_IN)).isEqualTo("relay_frames_in_total");
        assertThat(MetricsText.series(Counter.DROP_QUEUE_FULL)).isEqualTo("relay_drops_total{reason=\"queue_full\"}");
    }

    @Test
    void missingSeriesReadZeroAndOtherLinesAreSkipped() {
        Map<Counter, Long> read = MetricsText.parse("# HELP relay_frames_in_total x\n# TYPE relay_frames_in_total counter\n"
                + "relay_frames_in_total 4.0\njvm_threads_live_threads 30.0\nrelay_drops_total{reason=\"queue_full\",} 2.0\n");

        assertThat(read.get(Counter.FRAMES_IN)).isEqualTo(4);
        assertThat(read.get(Counter.DROP_QUEUE_FULL)).isEqualTo(2);
        assertThat(read.get(Counter.FRAMES_OUT)).isZero();
    }
}
