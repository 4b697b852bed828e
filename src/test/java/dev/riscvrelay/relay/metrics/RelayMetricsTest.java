package dev.riscvrelay.relay.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RelayMetricsTest {

    @Test
    void gaugesShowTheLatestSnapshotOfTheLoop() {
        LoopSnapshot snapshot = new LoopSnapshot(5, 2, 7, 11, 13, 17, 19, 23, 29);
        try (RelayMetrics metrics = new RelayMetrics(new Counters(), () -> snapshot, () -> 60.0)) {
            assertThat(metrics.scrape()).contains("relay_sessions 5.0\n", "relay_quic_connections 2.0\n",
                    "relay_mac_table_entries 7.0\n", "relay_nat_flows{protocol=\"udp\"} 11.0\n",
                    "relay_nat_flows{protocol=\"icmp\"} 13.0\n", "relay_nat_flows{protocol=\"tcp\"} 17.0\n",
                    "relay_dhcp_leases 19.0\n", "relay_port_queue_frames 23.0\n",
                    "relay_port_queue_deepest_frames 29.0\n");
        }
    }

    /** The loop publishes a new snapshot every second: a scrape straddling one must not mix two. */
    @Test
    void oneScrapeShowsOneSnapshotEvenWhenTheLoopPublishesDuringIt() {
        java.util.concurrent.atomic.AtomicInteger publications = new java.util.concurrent.atomic.AtomicInteger();
        java.util.function.Supplier<LoopSnapshot> published = () -> {
            int n = publications.incrementAndGet();
            return new LoopSnapshot(n, n, n, n, n, n, n, n, n);
        };
        try (RelayMetrics metrics = new RelayMetrics(new Counters(), published, () -> 60.0)) {
            for (int scrape = 1; scrape <= 2; scrape++) {
                String text = metrics.scrape();
                String value = publications.get() + ".0\n";
                assertThat(text).contains("relay_sessions " + value, "relay_quic_connections " + value,
                        "relay_mac_table_entries " + value, "relay_nat_flows{protocol=\"tcp\"} " + value,
                        "relay_dhcp_leases " + value, "relay_port_queue_deepest_frames " + value);
            }
            assertThat(publications).hasValue(2);
        }
    }

    @Test
    void everyDropReasonIsOneSeriesOfOneFamilyWithOneHelpText() {
        Counters counters = new Counters();
        counters.increment(Counter.DROP_QUEUE_FULL);
        counters.add(Counter.DROP_TRUNK_NOT_CONNECTED, 3);
        LoopSnapshot snapshot = new LoopSnapshot(0, 0, 0, 0, 0, 0, 0, 0, 0);
        try (RelayMetrics metrics = new RelayMetrics(counters, () -> snapshot, () -> 60.0)) {
            String scrape = metrics.scrape();
            assertThat(scrape).contains("# HELP relay_drops_total " + RelayMetrics.DROPS_HELP + "\n",
                    "relay_drops_total{reason=\"queue_full\"} 1.0\n",
                    "relay_drops_total{reason=\"trunk_not_connected\"} 3.0\n");
            assertThat(scrape.split("# HELP relay_drops_total", -1)).hasSize(2);
        }
    }

    @Test
    void eachWorkerHasItsOwnSeries() {
        WorkerStats workers = new WorkerStats() {
            @Override
            public int workers() {
                return 2;
            }

            @Override
            public double cpuSeconds(int worker) {
                return worker == 0 ? 1.5 : 0.25;
            }

            @Override
            public int connections(int worker) {
                return worker + 3;
            }

            @Override
            public long framesToLan(int worker) {
                return worker * 100L;
            }

            @Override
            public long framesFromLan(int worker) {
                return worker * 200L;
            }

            @Override
            public long packetsHandedOver(int worker) {
                return worker * 7L;
            }
        };
        LoopSnapshot snapshot = new LoopSnapshot(0, 0, 0, 0, 0, 0, 0, 0, 0);
        try (RelayMetrics metrics = new RelayMetrics(new Counters(), () -> snapshot, () -> 60.0, workers)) {
            assertThat(metrics.scrape()).contains("relay_worker_cpu_seconds_total{worker=\"0\"} 1.5\n",
                    "relay_worker_cpu_seconds_total{worker=\"1\"} 0.25\n",
                    "relay_worker_quic_connections{worker=\"0\"} 3.0\n",
                    "relay_worker_quic_connections{worker=\"1\"} 4.0\n",
                    "relay_worker_handoff_frames_total{direction=\"to_lan\",worker=\"1\"} 100.0\n",
                    "relay_worker_handoff_frames_total{direction=\"from_lan\",worker=\"1\"} 200.0\n",
                    "relay_worker_handoff_frames_total{direction=\"to_lan\",worker=\"0\"} 0.0\n",
                    "relay_worker_quic_handoff_packets_total{worker=\"1\"} 7.0\n");
        }
    }
}
