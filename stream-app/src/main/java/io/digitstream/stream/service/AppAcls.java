package io.digitstream.stream.service;

import java.util.ArrayList;
import java.util.List;

import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;

import io.digitstream.schemas.Topics;

/**
 * The ACLs the stream app needs under exactly-once, and no more: docs/security.md lists them, and
 * {@code SecuredAccessTest} runs the app with only these. Kafka Streams' own: its input topics READ,
 * its output topics WRITE, its internal topics (changelogs, repartitioning) by the application id
 * as a prefix CREATE, READ, WRITE and DELETE (without DELETE the repartition topics are never
 * purged and grow forever), its group READ, its transactional ids by the same prefix WRITE. The
 * app's own: its dashboard reads the predictions and accuracy, the model follower reads and writes
 * digits.models, the drawing pad writes images.
 */
public final class AppAcls {

    private AppAcls() {
    }

    /**
     * @param principal     the app's user, e.g. {@code User:digit-stream}
     * @param applicationId the app's {@code application.id}
     * @param createsTopics whether the app creates its topics (else an operator did, and CREATE is left out)
     */
    public static List<AclBinding> of(final String principal, final String applicationId,
            final boolean createsTopics) {
        final List<AclBinding> acls = new ArrayList<>();
        topic(acls, principal, Topics.IMAGES, AclOperation.READ, AclOperation.WRITE);
        topic(acls, principal, Topics.LABELS, AclOperation.READ);
        topic(acls, principal, Topics.PREDICTIONS, AclOperation.READ, AclOperation.WRITE);
        topic(acls, principal, Topics.PREDICTIONS_SHADOW, AclOperation.WRITE);
        topic(acls, principal, Topics.ACCURACY, AclOperation.READ, AclOperation.WRITE);
        topic(acls, principal, Topics.DEAD_LETTERS, AclOperation.WRITE);
        topic(acls, principal, Topics.MODELS, AclOperation.READ, AclOperation.WRITE);
        if (createsTopics) {
            for (final String name : appTopics()) {
                topic(acls, principal, name, AclOperation.CREATE);
            }
        }
        for (final AclOperation operation : List.of(AclOperation.CREATE, AclOperation.READ, AclOperation.WRITE,
                AclOperation.DELETE)) {
            acls.add(allow(new ResourcePattern(ResourceType.TOPIC, applicationId, PatternType.PREFIXED), principal,
                    operation));
        }
        acls.add(allow(new ResourcePattern(ResourceType.GROUP, applicationId, PatternType.LITERAL), principal,
                AclOperation.READ));
        acls.add(allow(new ResourcePattern(ResourceType.TRANSACTIONAL_ID, applicationId, PatternType.PREFIXED),
                principal, AclOperation.WRITE));
        return List.copyOf(acls);
    }

    /** The topics the app creates when they are missing. */
    static List<String> appTopics() {
        final List<String> names = new ArrayList<>(Topics.ALL);
        names.add(Topics.MODELS);
        return names;
    }

    private static void topic(final List<AclBinding> acls, final String principal, final String name,
            final AclOperation... operations) {
        for (final AclOperation operation : operations) {
            acls.add(allow(new ResourcePattern(ResourceType.TOPIC, name, PatternType.LITERAL), principal, operation));
        }
    }

    private static AclBinding allow(final ResourcePattern resource, final String principal,
            final AclOperation operation) {
        return new AclBinding(resource, new AccessControlEntry(principal, "*", operation, AclPermissionType.ALLOW));
    }
}
