package io.digitstream.stream;

import io.digitstream.model.DigitClassifier;

/**
 * One classifier per stream thread: {@code MultiLayerNetwork.output} is synchronized, so threads
 * sharing one network would take turns.
 */
public final class ClassifierPool {

    private final DigitClassifier prototype;
    private final ThreadLocal<DigitClassifier> perThread;

    public ClassifierPool(final DigitClassifier prototype) {
        this.prototype = prototype;
        this.perThread = ThreadLocal.withInitial(prototype::copy);
    }

    public DigitClassifier forCurrentThread() {
        return perThread.get();
    }

    public String modelVersion() {
        return prototype.modelVersion();
    }
}
