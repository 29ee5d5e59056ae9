package io.digitstream.model;

import java.util.Properties;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that prepares ND4J's native CPU backend for this project.
 *
 * <p>DL4J 1.0.0-M2.1 switches its oneDNN layer helpers off by default
 * ({@value #HELPERS_DISABLE_PROPERTY} defaults to {@code true}); switched on, it finds the native
 * environment only through the {@link org.nd4j.nativeblas.Nd4jCpu} shim of this module. Both are
 * needed for the fast convolution path. {@link #configure()} must run before the first network is
 * built, which every entry point of this module does for its callers.
 */
public final class NativeBackend {

    /** DL4J's switch for all layer helpers (cuDNN, oneDNN). */
    public static final String HELPERS_DISABLE_PROPERTY = "org.eclipse.deeplearning4j.helpers.disable";

    private static final Logger log = LoggerFactory.getLogger(NativeBackend.class);

    private static volatile boolean configured;

    private NativeBackend() {
    }

    /**
     * Turns DL4J's oneDNN helpers on unless the user chose otherwise with
     * {@code -Dorg.eclipse.deeplearning4j.helpers.disable=true}, and starts ND4J. Idempotent.
     */
    public static synchronized void configure() {
        if (configured) {
            return;
        }
        if (System.getProperty(HELPERS_DISABLE_PROPERTY) == null) {
            System.setProperty(HELPERS_DISABLE_PROPERTY, "false");
        }
        Nd4j.create(1);
        configured = true;
        final Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
        log.info("ND4J backend {} with {} OpenMP threads, oneDNN helpers {}",
                env.getProperty("backend"), env.get("omp.threads"),
                oneDnnAvailable() ? "on" : "OFF (slow convolution path)");
    }

    /** Whether DL4J will create oneDNN helpers for new layers in this JVM. */
    public static boolean oneDnnAvailable() {
        return !Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE_PROPERTY, "true"))
                && org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper.mklDnnEnabled();
    }

    /**
     * Whether every convolution layer of the network runs on oneDNN. DL4J creates helpers when a
     * layer is initialised, so this answers for the network as it is.
     */
    public static boolean convolutionsUseOneDnn(final MultiLayerNetwork network) {
        boolean any = false;
        for (final Layer layer : network.getLayers()) {
            if (layer instanceof ConvolutionLayer conv) {
                if (!(conv.getHelper() instanceof MKLDNNConvHelper)) {
                    return false;
                }
                any = true;
            }
        }
        return any;
    }
}
