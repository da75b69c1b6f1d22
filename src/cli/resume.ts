/**
 * @file `train --resume RUN_DIR`: the run's own settings, and a refusal naming every option given
 * on this command line that asks for something else than the run was started with.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';
import type { TrainSettings } from '../train/settings.js';
import { readTrainProgress } from '../train/train-state.js';

/** The TrainSettings field each option sets, where the names differ. */
const fieldOf: Record<string, keyof TrainSettings> = {
  recalibrateBn: 'recalibrateBatches',
  verify: 'verifyData',
  imageSize: 'folder', channels: 'folder', resize: 'folder', testSplit: 'folder', skipBadImages: 'folder',
};

/** Options that set one field of `augmentation`, named as the field. */
const augmentationOptions = new Set(['crop', 'pad', 'padMode', 'flip', 'cutout', 'cutoutCount']);

/** Options that say where to resume or how to report, not what to train. */
const notSettings = new Set(['resume', 'out', 'report', 'force']);

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The settings to resume `dir` with; `asked` is what this command line's options make. */
export function resumeSettings(dir: string, command: Command, dataset: string | undefined, asked: TrainSettings): TrainSettings {
  // Runs started before there were two recipes trained the dawnbench one.
  const saved = { recipe: 'dawnbench', ...readTrainProgress(dir).settings } as unknown as TrainSettings;
  const differing: string[] = [];
  if (dataset !== undefined && resolve(dataset) !== resolve(saved.dataset) && dataset !== saved.dataset) differing.push(`dataset ${dataset} (the run: ${saved.dataset})`);
  for (const option of command.options) {
    const name = option.attributeName();
    if (notSettings.has(name) || command.getOptionValueSource(name) !== 'cli') continue;
    if (augmentationOptions.has(name)) {
      const [a, b] = [asked.augmentation, saved.augmentation].map((x) => (x as Record<string, unknown> | undefined)?.[name]);
      if (!same(a, b)) differing.push(`${option.long} (the run: ${JSON.stringify(b ?? null)}, asked: ${JSON.stringify(a ?? null)})`);
      continue;
    }
    const field = fieldOf[name] ?? (name as keyof TrainSettings);
    if (!same(asked[field], saved[field])) differing.push(`${option.long} (the run: ${JSON.stringify(saved[field] ?? null)}, asked: ${JSON.stringify(asked[field] ?? null)})`);
  }
  if (differing.length > 0) {
    throw new UserError(`${dir} was started with other settings: ${differing.join('; ')}. Resume with the run's own options (or none), or start a new run with --out`);
  }
  return { ...saved, out: dir, resume: true };
}
