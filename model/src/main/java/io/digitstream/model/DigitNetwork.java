package io.digitstream.model;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The seed CNN, layer for layer the Keras network it reproduces:
 *
 * <pre>
 * Conv2D(32, 3x3, relu) -> MaxPool(2x2) -> Conv2D(64, 3x3, relu) -> MaxPool(2x2)
 *   -> Conv2D(128, 3x3, relu) -> Flatten -> Dropout(0.3) -> Dense(128, relu) -> Dense(10, softmax)
 * </pre>
 *
 * <p>241,546 parameters, as in Keras.
 */
public final class DigitNetwork {

    public static final int IMAGE_SIDE = 28;
    public static final int PIXELS = IMAGE_SIDE * IMAGE_SIDE;
    public static final int CLASSES = 10;
    public static final long PARAMETER_COUNT = 241_546L;

    /** Keras drops 30% of activations; DL4J's DropoutLayer takes the probability to RETAIN. */
    private static final double DROPOUT_RETAIN = 0.7;

    private DigitNetwork() {
    }

    public static MultiLayerConfiguration configuration(final long seed, final double learningRate) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.XAVIER_UNIFORM) // Keras glorot_uniform
                .convolutionMode(ConvolutionMode.Truncate)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(32).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(64).activation(Activation.RELU).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2).stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(128).activation(Activation.RELU).build())
                .layer(new DropoutLayer(DROPOUT_RETAIN))
                .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(CLASSES).activation(Activation.SOFTMAX).build())
                // Adds the NCHW input handling and the flatten between the last convolution and Dense.
                .setInputType(InputType.convolutional(IMAGE_SIDE, IMAGE_SIDE, 1))
                .build();
    }

    /** A freshly initialised network, with the fast native path configured. */
    public static MultiLayerNetwork create(final long seed, final double learningRate) {
        NativeBackend.configure();
        final MultiLayerNetwork network = new MultiLayerNetwork(configuration(seed, learningRate));
        network.init();
        return network;
    }
}
