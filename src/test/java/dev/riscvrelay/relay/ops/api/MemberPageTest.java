package dev.riscvrelay.relay.ops.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class MemberPageTest {

    @Test
    void noQueryIsTheFirstPageOfTheDefaultSize() {
        assertThat(MemberPage.parse(null)).isEqualTo(new MemberPage(0, MemberPage.DEFAULT_LIMIT));
        assertThat(MemberPage.parse("")).isEqualTo(MemberPage.first());
    }

    @Test
    void offsetAndLimitAreReadAndOtherParametersIgnored() {
        assertThat(MemberPage.parse("offset=200&limit=50&sort=mac")).isEqualTo(new MemberPage(200, 50));
        assertThat(MemberPage.parse("limit=%31%30")).isEqualTo(new MemberPage(0, 10));
    }

    @Test
    void aBadPageIsRefusedWithAReason() {
        assertThatThrownBy(() -> MemberPage.parse("offset=-1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("offset");
        assertThatThrownBy(() -> MemberPage.parse("limit=1001")).hasMessageContaining("limit must be in 0..1000");
        assertThatThrownBy(() -> MemberPage.parse("limit=ten")).hasMessageContaining("limit must be a number");
    }
}
