package io.digitstream.stream.service;

import java.util.Optional;

import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;

/**
 * Says in one line why Kafka refused a client, when it did: credentials it did not take, or an
 * operation no ACL allows. Trying again cannot help either, so the app and the CLI stop with it
 * instead of retrying (docs/security.md).
 */
public final class KafkaRefusal {

    private KafkaRefusal() {
    }

    /** The refusal somewhere in {@code failure}'s causes, said for a user; empty when it is none. */
    public static Optional<String> describe(final Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
            if (cause instanceof AuthenticationException refused) {
                return Optional.of("Kafka refused the credentials: " + refused.getMessage()
                        + " (check sasl.jaas.config, sasl.mechanism and security.protocol; docs/security.md)");
            }
            if (cause instanceof AuthorizationException refused) {
                return Optional.of("Kafka refused an operation no ACL allows: " + refused.getMessage()
                        + " (the ACLs needed are in docs/security.md)");
            }
        }
        return Optional.empty();
    }
}
