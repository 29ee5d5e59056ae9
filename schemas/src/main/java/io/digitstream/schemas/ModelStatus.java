package io.digitstream.schemas;

/**
 * What became of a published model version (schemas/json/model-status.schema.json): the record under
 * key {@code @status/<version>} of {@value Topics#MODELS}, written when it is published and when an
 * instance refuses it.
 *
 * @param version  the model version
 * @param state    published or refused
 * @param reason   why it was refused (a short code such as self-test-mismatch), else null
 * @param message  what was wrong, in words, else null
 * @param instance who wrote this: the publishing client or the refusing app instance
 * @param at       epoch milliseconds
 */
public record ModelStatus(String version, String state, String reason, String message, String instance, long at) {

    public static final String PUBLISHED = "published";
    public static final String REFUSED = "refused";
}
