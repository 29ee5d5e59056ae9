package io.digitstream.stream.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecentImagesTest {

    @Test
    void findsTheNewestImageOfAnIdUntilNewerOnesPushItOut() {
        final RecentImages images = new RecentImages();
        images.classified("a", new byte[] {1});
        images.classified("b", new byte[] {2});
        images.classified("a", new byte[] {3});
        assertThat(images.pixels("a")).containsExactly(3);
        assertThat(images.pixels("b")).containsExactly(2);
        assertThat(images.pixels("c")).isNull();

        for (int i = 0; i < 8192; i++) {
            images.classified("filler-" + i, new byte[0]);
        }
        assertThat(images.pixels("a")).isNull();
        assertThat(images.pixels("filler-8191")).isEmpty();
    }
}
