package org.nd4j.nativeblas;

/**
 * Forwarding shim for the oneDNN check of DL4J 1.0.0-M2.1.
 *
 * <p>{@code BaseMKLDNNHelper.mklDnnEnabled()} looks the native environment up by reflection as
 * {@code org.nd4j.nativeblas.Nd4jCpu$Environment}, but M2.1 ships it as
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment}. Without this class the lookup
 * fails, DL4J logs "Cannot find class" and every convolution silently takes the slow im2col path
 * (about four times slower here). See {@link io.digitstream.model.NativeBackend}.
 */
public final class Nd4jCpu {

    private Nd4jCpu() {
    }

    /** The subset of the native environment that DL4J's helper check calls. */
    public static final class Environment {

        private static final Environment INSTANCE = new Environment();

        private Environment() {
        }

        public static Environment getInstance() {
            return INSTANCE;
        }

        public boolean isUseMKLDNN() {
            return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
        }
    }
}
