package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FlowAccountingTest {

    @Test
    void framesInOrderAreNeitherSkippedNorLate() {
        FlowAccounting flow = new FlowAccounting();
        for (long seq = 0; seq < 1000; seq++) {
            flow.onReceive(seq);
        }
        assertThat(flow.received()).isEqualTo(1000);
        assertThat(flow.skipped()).isZero();
        assertThat(flow.late()).isZero();
        assertThat(flow.nextExpected()).isEqualTo(1000);
    }

    @Test
    void aGapCountsEveryMissingNumberOnce() {
        FlowAccounting flow = new FlowAccounting();
        flow.onReceive(0);
        flow.onReceive(1);
        flow.onReceive(5); // 2, 3, 4 missing
        flow.onReceive(6);
        flow.onReceive(9); // 7, 8 missing
        assertThat(flow.received()).isEqualTo(5);
        assertThat(flow.skipped()).isEqualTo(5);
        assertThat(flow.late()).isZero();
        assertThat(flow.nextExpected()).isEqualTo(10);
    }

    @Test
    void aReorderedFrameIsLateNotLostTwice() {
        FlowAccounting flow = new FlowAccounting();
        flow.onReceive(0);
        flow.onReceive(2);
        flow.onReceive(1); // arrives after 2
        flow.onReceive(2); // duplicate
        assertThat(flow.received()).isEqualTo(4);
        assertThat(flow.skipped()).isEqualTo(1);
        assertThat(flow.late()).isEqualTo(2);
    }

    @Test
    void aFirstFrameAfterLossesCountsThemFromZero() {
        FlowAccounting flow = new FlowAccounting();
        flow.onReceive(3);
        assertThat(flow.skipped()).isEqualTo(3);
        assertThat(flow.nextExpected()).isEqualTo(4);
    }
}
