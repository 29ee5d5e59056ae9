package io.digitstream.model;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
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
 * <p>241,546 parameters, as in Keras. It trains and is saved in ND4J's default activation layout,
 * NCHW; it classifies in NHWC ({@link #forInference}), the layout oneDNN's convolutions run in,
 * which spares the conversions of every convolution's input and output (docs/dl4j.md). DL4J
 * 1.0.0-M2.1 does not train the NHWC network: its loss stayed at chance level.
 */
public final class DigitNetwork {

    public static final int IMAGE_SIDE = 28;
    public static final int PIXELS = IMAGE_SIDE * IMAGE_SIDE;
    public static final int CLASSES = 10;
    public static final long PARAMETER_COUNT = 241_546L;
    /** The activation layout networks train and are saved in. */
    public static final CNN2DFormat DATA_FORMAT = CNN2DFormat.NCHW;

    private static final int LAYERS = 8;
    private static final int DENSE = 6;
    private static final int LAST_FILTERS = 128;

    /** Keras drops 30% of activations; DL4J's DropoutLayer takes the probability to RETAIN. */
    private static final double DROPOUT_RETAIN = 0.7;

    private DigitNetwork() {
    }

    public static MultiLayerConfiguration configuration(final long seed, final double learningRate) {
        return configuration(seed, learningRate, DATA_FORMAT);
    }

    /** The same network in the activation layout {@code format}. */
    static MultiLayerConfiguration configuration(final long seed, final double learningRate,
            final CNN2DFormat format) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .updater(new Adam(learningRate))
                .weightInit(WeightInit.XAVIER_UNIFORM) // Keras glorot_uniform
                .convolutionMode(ConvolutionMode.Truncate)
                .list()
                .layer(convolution(32, format))
                .layer(maxPooling(format))
                .layer(convolution(64, format))
                .layer(maxPooling(format))
                .layer(convolution(LAST_FILTERS, format))
                .layer(new DropoutLayer(DROPOUT_RETAIN))
                .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                        .nOut(CLASSES).activation(Activation.SOFTMAX).build())
                // Adds the flatten between the last convolution and Dense.
                .setInputType(InputType.convolutional(IMAGE_SIDE, IMAGE_SIDE, 1, format))
                .build();
    }

    private static ConvolutionLayer convolution(final int filters, final CNN2DFormat format) {
        return new ConvolutionLayer.Builder(3, 3).nOut(filters).dataFormat(format)
                .activation(Activation.RELU).build();
    }

    private static SubsamplingLayer maxPooling(final CNN2DFormat format) {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                .kernelSize(2, 2).stride(2, 2).dataFormat(format).build();
    }

    /** The activation layout {@code network} takes its input in: its first convolution's. */
    public static CNN2DFormat dataFormat(final MultiLayerNetwork network) {
        final Layer first = network.getLayerWiseConfigurations().getConf(0).getLayer();
        return first instanceof ConvolutionLayer convolution && convolution.getCnn2dDataFormat() != null
                ? convolution.getCnn2dDataFormat() : CNN2DFormat.NCHW;
    }

    /**
     * {@code trained}, an NCHW network of this class as trained and saved, as a new NHWC network that
     * computes the same function, for classifying: the convolutions' and the output's parameters as
     * they are, the first dense layer's weight rows reordered, since the last convolution's 3x3x128
     * activations flatten channel by channel in NCHW and pixel by pixel in NHWC. A network of any
     * other shape is returned as it is.
     */
    public static MultiLayerNetwork forInference(final MultiLayerNetwork trained) {
        if (dataFormat(trained) != CNN2DFormat.NCHW || trained.numParams() != PARAMETER_COUNT
                || trained.getnLayers() != LAYERS) {
            return trained;
        }
        // Seed and learning rate do not matter: every parameter is replaced below.
        final MultiLayerNetwork inference = create(0, Adam.DEFAULT_ADAM_LEARNING_RATE, CNN2DFormat.NHWC);
        for (final int layer : new int[] {0, 2, 4, LAYERS - 1}) {
            inference.getLayer(layer).setParams(trained.getLayer(layer).params().dup());
        }
        final INDArray weights = trained.getLayer(DENSE).getParam(DefaultParamInitializer.WEIGHT_KEY);
        final long channels = LAST_FILTERS;
        final long pixels = weights.size(0) / channels;
        final long units = weights.size(1);
        // Row channel * pixels + pixel becomes row pixel * channels + channel.
        final INDArray reordered = weights.reshape('c', channels, pixels, units).permute(1, 0, 2).dup('c')
                .reshape(pixels * channels, units);
        inference.getLayer(DENSE).getParam(DefaultParamInitializer.WEIGHT_KEY).assign(reordered);
        inference.getLayer(DENSE).getParam(DefaultParamInitializer.BIAS_KEY)
                .assign(trained.getLayer(DENSE).getParam(DefaultParamInitializer.BIAS_KEY));
        return inference;
    }

    /** A freshly initialised network, with the fast native path configured. */
    public static MultiLayerNetwork create(final long seed, final double learningRate) {
        return create(seed, learningRate, DATA_FORMAT);
    }

    static MultiLayerNetwork create(final long seed, final double learningRate, final CNN2DFormat format) {
        NativeBackend.configure();
        final MultiLayerNetwork network = new MultiLayerNetwork(configuration(seed, learningRate, format));
        network.init();
        return network;
    }
}
