package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.quarry.engine.model.GraniteConfig;
import java.util.Map;

/** Closed-form weights shared with engine/src/test/python/make_goldens.py (see formula() there). */
public final class FormulaWeights implements WeightSource {
    private final Map<String, long[]> shapes;
    private final boolean bf16;

    public FormulaWeights(GraniteConfig c) {
        this(c, false);
    }

    /** @param bf16 round every value to the nearest bf16 (a bf16 checkpoint widened to fp32) */
    public FormulaWeights(GraniteConfig c, boolean bf16) {
        shapes = SyntheticWeights.shapes(c);
        this.bf16 = bf16;
    }

    @Override
    public NDArray get(NDManager manager, String name, boolean fp32) {
        long[] shape = shapes.get(name);
        if (shape == null) throw new IllegalArgumentException("no tensor " + name);
        long n = 1;
        for (long s : shape) n *= s;
        int h = 0;
        for (char ch : name.toCharArray()) h += ch;
        h %= 997;
        float[] v = new float[(int) n];
        for (int i = 0; i < n; i++) {
            double wave = Math.sin(0.7 * i + 0.1 * h) * Math.cos(1.3 * i + 0.01 * h);
            double x;
            if (name.endsWith("A_log")) x = Math.log(1.0 + 4.0 * (1.0 + wave));
            else if (name.endsWith("norm.weight") || name.endsWith(".D")) x = 1.0 + 0.2 * wave;
            else if (name.endsWith("dt_bias")) x = 0.5 * wave;
            else x = (1.5 / Math.sqrt(shape[shape.length - 1])) * wave;
            v[i] = (float) x;
        }
        return manager.create(bf16 ? RandomWeights.roundToBf16(v) : v, new Shape(shape));
    }
}
