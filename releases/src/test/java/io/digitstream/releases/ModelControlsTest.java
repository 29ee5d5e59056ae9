package io.digitstream.releases;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import io.digitstream.schemas.ModelControl;

class ModelControlsTest {

    @Test
    void publishingPromotingAndRollingBackKeepTheWayBack() {
        ModelControl control = ModelControls.publish(null, "v1", "t", 1);
        assertThat(control).extracting(ModelControl::live, ModelControl::shadow, ModelControl::previous)
                .containsExactly("v1", null, null);
        control = ModelControls.publish(control, "v2", "t", 2);
        assertThat(control).extracting(ModelControl::live, ModelControl::previous).containsExactly("v2", "v1");
        control = ModelControls.shadow(control, "v3", "t", 3);
        control = ModelControls.promote(control, null, "t", 4);
        assertThat(control).extracting(ModelControl::live, ModelControl::shadow, ModelControl::previous)
                .containsExactly("v3", null, "v2");
        control = ModelControls.rollback(control, "t", 5);
        assertThat(control).extracting(ModelControl::live, ModelControl::previous).containsExactly("v2", "v1");
        control = ModelControls.rollback(control, "t", 6);
        assertThat(control).extracting(ModelControl::live, ModelControl::previous).containsExactly("v1", null);
        assertThatThrownBy(() -> ModelControls.rollback(ModelControls.publish(null, "v1", "t", 1), "t", 7))
                .hasMessageContaining("no earlier live model");
        assertThat(control.history()).extracting(ModelControl.Change::action)
                .containsExactly("publish", "publish", "shadow", "promote", "rollback", "rollback");
    }

    @Test
    void theFirstReleaseGoesLiveEvenAsAShadowAndNothingPromotesWithoutOne() {
        assertThat(ModelControls.shadow(null, "v1", "t", 1).live()).isEqualTo("v1");
        final ModelControl control = ModelControls.publish(null, "v1", "t", 1);
        assertThatThrownBy(() -> ModelControls.promote(control, null, "t", 2)).hasMessageContaining("no shadow");
        assertThatThrownBy(() -> ModelControls.dropShadow(control, "t", 2)).hasMessageContaining("no shadow");
        assertThatThrownBy(() -> ModelControls.shadow(control, "v1", "t", 2)).hasMessageContaining("live already");
    }

    @Test
    void theHistoryKeepsTheNewestChanges() {
        ModelControl control = ModelControls.publish(null, "v0", "t", 0);
        for (int i = 1; i <= 70; i++) {
            control = ModelControls.publish(control, "v" + i, "t", i);
        }
        assertThat(control.history()).hasSize(ModelControl.HISTORY);
        assertThat(control.history().get(ModelControl.HISTORY - 1).version()).isEqualTo("v70");
    }
}
