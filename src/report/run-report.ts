/**
 * @file The run folder's human side: summary.json, the curves (SVG and PNG) and report.html,
 * all made from a TrainResult. The trainer has already written model.safetensors and metrics.jsonl.
 */
import { join } from 'node:path';
import { createBackend } from '../backends/index.js';
import { explainCheckpoints } from '../explain/explain.js';
import type { EpochRecord, TrainResult } from '../train/trainer.js';
import { recipes } from '../train/recipes.js';
import { trainedViews, ttaFor } from '../train/tta.js';
import { augmentationSampleGrid } from './augmentation-samples.js';
import { learningRateChart, trainingCurves, type EpochMetrics, type RunHistory } from './curves.js';
import { writeChart } from './charts.js';
import { type Figure, type ReportData, writeReport } from './html.js';
import { imageGridPng } from './image-grid.js';

/** One line of metrics.jsonl as the curves read it. */
export function epochMetrics(r: EpochRecord): EpochMetrics {
  return { epoch: r.epoch, trainLoss: r.train_loss, trainAccuracy: r.train_accuracy, testLoss: r.test_loss, testAccuracy: r.test_accuracy };
}

function runHistory(result: TrainResult): RunHistory {
  return { name: result.info.name, epochs: result.history.map(epochMetrics) };
}

export interface RunReportExtras {
  /** The command line, shown in the report. */
  command?: string;
  gradcam?: Figure[];
}

/** Grad-CAM of the run's final model on a few test images (one per class in turn, seeded). */
export async function runGradcam(result: TrainResult, images = 10): Promise<Figure> {
  const backend = await createBackend(result.config.backend);
  try {
    const e = await explainCheckpoints({
      checkpoints: [{ path: result.checkpoint, name: result.info.name }], backend, info: result.info, test: result.test,
      images: Math.min(images, result.test.count), seed: result.config.seed,
    });
    return { caption: 'Grad-CAM of the last feature maps for the predicted class: where the final model looks', png: e.figure };
  } finally {
    backend.dispose();
  }
}

/** Write curves.{svg,png}, learning-rate.{svg,png} and report.html into the run folder. */
export async function writeRunReport(result: TrainResult, extras: RunReportExtras = {}): Promise<string> {
  const dir = result.config.out;
  const history = runHistory(result);
  if (history.epochs.length > 0) await writeChart(join(dir, 'curves'), trainingCurves(history));
  if (result.learningRates.length > 0) await writeChart(join(dir, 'learning-rate'), learningRateChart(result.learningRates));

  const augmentationSamples: Figure | undefined = result.config.augment === 'none' ? undefined : {
    caption: 'Random test images and the augmentations training applies (the settings below)',
    png: imageGridPng(augmentationSampleGrid(result.info, result.test, { images: 4, augmentations: 5, seed: result.config.seed, augment: result.config.augmentation })),
  };
  const data: ReportData = {
    title: `kilosecond: ${recipes[result.config.recipe].networkName} on ${result.info.name}`,
    command: extras.command,
    createdAt: new Date().toISOString(),
    config: {
      dataset: result.info.name,
      recipe: result.config.recipe,
      width: result.width,
      epochs: result.plannedEpochs,
      'batch size': result.config.batchSize,
      'peak learning rate': result.config.lr,
      'label smoothing': result.config.labelSmoothing,
      augmentation: result.config.augment === 'none' ? 'none' : `${result.config.augment}: ${JSON.stringify(result.config.augmentation)}`,
      backend: result.backendName,
      precision: result.precision.reason,
      seed: result.config.seed,
      budget: result.config.budget ?? null,
      'test-time augmentation (final evaluation)': ttaFor(recipes[result.config.recipe].architecture, result.config.tta, trainedViews(result.config)),
      'budget plan': result.plan?.reason ?? null,
    },
    environment: result.environment,
    timings: { dataPreparation: result.timings.data_preparation + result.timings.calibration, training: result.timings.training, evaluation: result.timings.evaluation },
    results: { epochs: result.history.length, testAccuracy: result.testAccuracy, testLoss: result.history.at(-1)?.test_loss, imagesPerSecond: result.imagesPerSecond, peakRssMb: result.peakRssMb },
    history,
    learningRates: result.learningRates,
    augmentationSamples,
    ...(result.confusion.length > 0 ? {
      perClass: {
        classes: result.info.classes,
        confusion: result.confusion,
        ...(result.folder ? { trainCounts: result.info.classes.map((_, c) => result.folder!.scan.train.filter((f) => f.label === c).length) } : {}),
      },
    } : {}),
    ...(result.folder ? { skippedImages: result.folder.skipped } : {}),
    gradcam: extras.gradcam,
  };
  return writeReport(dir, data);
}
