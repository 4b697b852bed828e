package dev.riscvrelay.relay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.riscvrelay.relay.metrics.Counter;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AccountingTest {

    private static Map<Counter, Long> switchCounts(long in, long out, long flooded, long queueDrops) {
        Map<Counter, Long> delta = new EnumMap<>(Counter.class);
        for (Counter counter : Counter.values()) {
            delta.put(counter, 0L);
        }
        delta.put(Counter.FRAMES_IN, in);
        delta.put(Counter.FRAMES_OUT, out);
        delta.put(Counter.FRAMES_FLOODED, flooded);
        delta.put(Counter.DROP_QUEUE_FULL, queueDrops);
        return delta;
    }

    private static LoadCounts load(long sent, long received, long skipped, long late, long misdelivered) {
        return new LoadCounts(sent, 0, received, skipped, late, misdelivered, 0);
    }

    @Test
    void aLosslessRunAgreesAndLosesNothing() {
        Accounting a = new Accounting(load(1000, 1000, 0, 0, 0), switchCounts(1000, 1000, 0, 0));
        assertThat(a.violations()).isEmpty();
        assertThat(a.lostBeforeSwitch()).isZero();
        assertThat(a.lostAfterSwitch()).isZero();
        assertThat(a.lossRatio()).isZero();
    }

    @Test
    void lossesAreAttributedToEitherSideOfTheSwitch() {
        // 10 lost in the sender's stack, 5 dropped in a full port queue, 3 lost after the switch handed them out.
        Accounting a = new Accounting(load(1000, 982, 18, 0, 0), switchCounts(990, 985, 0, 5));
        assertThat(a.violations()).isEmpty();
        assertThat(a.lostBeforeSwitch()).isEqualTo(10);
        assertThat(a.lostAfterSwitch()).isEqualTo(3);
        assertThat(a.drops()).isEqualTo(5);
        assertThat(a.lossRatio()).isEqualTo(0.018);
    }

    @Test
    void moreFramesInThanSentIsAViolation() {
        Accounting a = new Accounting(load(100, 100, 0, 0, 0), switchCounts(101, 100, 0, 0));
        assertThat(a.violations()).singleElement().asString().contains("101 frames in");
    }

    @Test
    void moreReceivedThanHandedOutIsAViolation() {
        Accounting a = new Accounting(load(100, 100, 0, 0, 0), switchCounts(100, 99, 0, 0));
        assertThat(a.violations()).singleElement().asString().contains("handed out only 99");
    }

    @Test
    void moreOutThanInIsAViolation() {
        Accounting a = new Accounting(load(100, 100, 0, 0, 0), switchCounts(100, 120, 0, 0));
        assertThat(a.violations()).anySatisfy(v -> assertThat(v).contains("120 frames out"));
    }

    @Test
    void floodingMeansAMacWasNotLearned() {
        Accounting a = new Accounting(load(100, 100, 0, 0, 0), switchCounts(100, 100, 3, 0));
        assertThat(a.violations()).singleElement().asString().contains("flooded");
    }

    @Test
    void misdeliveredFramesAreAViolation() {
        Accounting a = new Accounting(load(100, 99, 0, 0, 1), switchCounts(100, 100, 0, 0));
        assertThat(a.violations()).singleElement().asString().contains("not addressed");
    }

    @Test
    void receivedPlusSkippedCannotExceedSent() {
        Accounting a = new Accounting(load(100, 100, 5, 0, 0), switchCounts(100, 100, 0, 0));
        assertThat(a.violations()).singleElement().asString().contains("exceed frames sent");
    }

    @Test
    void deltaSubtractsSnapshots() {
        Map<Counter, Long> before = switchCounts(10, 8, 1, 0);
        Map<Counter, Long> after = switchCounts(110, 98, 1, 2);
        Map<Counter, Long> delta = Accounting.delta(before, after);
        assertThat(delta.get(Counter.FRAMES_IN)).isEqualTo(100);
        assertThat(delta.get(Counter.FRAMES_OUT)).isEqualTo(90);
        assertThat(delta.get(Counter.FRAMES_FLOODED)).isZero();
        assertThat(delta.get(Counter.DROP_QUEUE_FULL)).isEqualTo(2);
    }
}
