/**
 * @file The package's one public entry: `import { train, loadModel } from 'kilosecond'`.
 * Everything else under dist/ is internal and may change between versions.
 *
 * ```ts
 * const result = await train({ ...recipe, dataset: 'fashion-mnist', out: 'runs/fashion-mnist', budget: 1000 });
 * const model = await loadModel(result.checkpoint);
 * const [first] = await model.predict(result.test);
 * model.dispose();
 * ```
 */

/**
 * Trains on a built-in dataset or a folder of images and writes the run folder (checkpoint
 * after every epoch, metrics, summary.json); progress comes through `TrainHooks`. `recipe` is
 * the DAWNBench recipe (ResNet-9) and `fastRecipe` the fast one (the airbench network): spread
 * one and set `dataset` and `out`.
 */
export { train, type TrainResult, type TrainHooks } from './train/trainer.js';

/**
 * The epoch loop on its own, writing no file: a network, an optimiser, a schedule, batches (in
 * memory or streamed) and a test set in; the history, the confusion matrix and the trained
 * network out. `train` runs it with its run recorder plugged in as hooks.
 */
export { fit, type FitOptions, type FitHooks, type FitResult, type FitProgress, type FitStart, type EpochRecord } from './train/fit.js';
/** The networks by architecture ('resnet9', 'airbench'), initialised as PyTorch would from `seed`. */
export { createNetwork } from './nn/create-network.js';
export { parametersOf, type Network, type NetworkConfig, type Architecture } from './nn/network.js';
/** SGD (torch.optim.SGD: momentum, Nesterov, weight decay) and the one-cycle rate of the DAWNBench recipe. */
export { Sgd, type SgdOptions } from './optim/sgd.js';
export { oneCycle, type OneCycleOptions } from './optim/schedule.js';
/** `fit`'s batches from images in memory, shuffled, augmented (DavidNet's by default, `noAugment` for none) and normalised. */
export { inMemoryBatches } from './data/online-source.js';
export { defaultAugment, noAugment, type AugmentConfig } from './data/augment.js';
/** A `DatasetInfo` for images in memory: their shape, classes and the training split's normalisation. */
export { describeImages } from './data/describe.js';
export { recipe, fastRecipe, type TrainSettings, type TrainConfig } from './train/settings.js';
/** The recipes' names, as `TrainConfig.recipe` takes them. */
export { recipeNames, type RecipeName } from './train/recipes.js';

/** A backend by name: 'cpu' (the native addon), 'webgpu' (Dawn) or 'reference' (plain TypeScript). Dispose it when done. */
export { createBackend } from './backends/index.js';
/** The kernels every backend implements: pass one to `loadModel` or `predictFiles` to share it. */
export type { Backend } from './core/backend.js';

/** A built-in dataset by name (mnist, fashion-mnist, cifar10) or a folder of images, as uint8 HWC `ImageSet`s. */
export { openDataset } from './data/open.js';
/** The built-in datasets only: `loadDataset` reads (or downloads) one, `datasetInfo` gives its classes, shape and normalisation. */
export { datasetInfo, datasetNames, type DatasetInfo, type ImageSet } from './data/datasets.js';
export { loadDataset } from './data/load-dataset.js';

/** Thrown for anything the caller can fix (a bad setting, a missing file); its message says what. Other errors are bugs. */
export { UserError, type SettingRef } from './core/errors.js';

/** Writes a checkpoint as a standalone ONNX model (opset 17) that does its own normalisation. */
export { exportOnnx } from './export/onnx.js';

/** Classifies image files (decoded as the checkpoint records); `imageFilesIn` lists the images among files and folders. */
export { predictFiles, imageFilesIn, type Prediction, type ImagePrediction } from './predict/predict.js';

/** A checkpoint loaded for predict, evaluate and explain (Grad-CAM) on images in memory. */
export { loadModel, type Model, type LoadModelOptions, type Images, type ImageExplanation } from './library/model.js';
/** What a checkpoint records besides the weights: classes, input size, channels, normalisation, the training config. */
export type { CheckpointMeta } from './train/checkpoint.js';
