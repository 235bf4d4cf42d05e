package dev.quarry.engine.internal.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * A TorchScript module shipped as a resource of this package (written by a script in engine/src/test/python),
 * loaded through DJL's PyTorch engine: called with NDArrays and scalars ({@code mamba_decode.pt}, which runs on
 * whatever device its tensor arguments are on), or read for its parameters ({@code bf16seed.pt}).
 */
final class ScriptModule implements AutoCloseable {
    private final PtSymbolBlock module;
    private final PtNDManager manager;
    private final String name;

    ScriptModule(NDManager manager, String resource) {
        if (!(manager instanceof PtNDManager pt)) {
            throw new IllegalStateException(resource + " needs the PyTorch engine, got " + manager.getEngine().getEngineName());
        }
        this.manager = pt;
        this.name = resource;
        try (InputStream in = ScriptModule.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("resource " + resource + " is missing from the engine jar");
            module = JniUtils.loadModule(pt, in, true, false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load " + resource, e);
        }
    }

    /** Runs {@code forward} on {@code args} (NDArray, Double or Integer); its tensor result is attached to {@code out}. */
    NDArray call(NDManager out, Object... args) {
        IValue[] in = new IValue[args.length];
        IValue res = null;
        try {
            for (int i = 0; i < args.length; i++) in[i] = value(args[i]);
            res = module.forward(in);
            if (!res.isTensor()) throw new IllegalStateException(name + " returned " + res.getType() + ", not a tensor");
            return res.toTensor((PtNDManager) out);
        } finally {
            if (res != null) res.close();
            for (IValue v : in) if (v != null) v.close();
        }
    }

    /** The module's parameters, attached to the manager it was loaded with. */
    NDList parameters() {
        return JniUtils.moduleGetParams(module, manager);
    }

    private IValue value(Object a) {
        if (a instanceof NDArray nd) return IValue.from((PtNDArray) nd);
        if (a instanceof Double x) return IValue.from(x);
        if (a instanceof Integer x) return IValue.from((long) x);
        throw new IllegalArgumentException(name + ": unsupported argument " + a);
    }

    @Override
    public void close() {
        module.close();
    }
}
