package io.digitstream.stream.service;

import java.time.Duration;

/**
 * The HTTP side's settings.
 *
 * @param host              the address to listen on: loopback unless set (0.0.0.0 for every interface)
 * @param port              0 for any free port
 * @param classifyEnabled   whether the drawing pad's {@code /api/classify} takes images
 * @param classifyPerSecond most images {@code /api/classify} takes a second, from all clients together
 * @param stuckAfter        how long records may wait on a partition with nothing committed before
 *                          /health reports it stuck
 * @param readyMaxBehind    how far behind its input partitions, in seconds of its recent reading
 *                          rate, an instance may be and still answer /health/ready with 200
 */
public record HttpSettings(String host, int port, boolean classifyEnabled, int classifyPerSecond,
        Duration stuckAfter, Duration readyMaxBehind) {
}
