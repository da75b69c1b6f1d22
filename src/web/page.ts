/**
 * @file The page: a folder of the user's images in, a trained model out, on their own GPU and
 * nothing uploaded. The folder is read as `kilosecond train DIR` reads one (folder.ts), decoded in
 * a worker (decode-worker.ts), and trained in another (train-worker.ts) with the fast recipe under
 * the time budget the user sets; this thread only shows what they report.
 */
import { chosenFiles, droppedFiles } from './drop.js';
import { Curves } from './charts.js';
import { FolderError, folderLayout, type FolderLayout, type LabelledFile, type PageFile } from './folder.js';
import { type DecodeReply, type PageImages, type TrainEvent, type TrainRequest, pageImageSide } from './messages.js';
import { renderClassCounts, renderConfusion, renderGradCam, renderSamples } from './views.js';

const byTestId = <T extends Element>(id: string): T => {
  const e = document.querySelector<T>(`[data-testid="${id}"]`);
  if (!e) throw new Error(`the page has no element with data-testid="${id}"`);
  return e;
};

const folderInput = byTestId<HTMLInputElement>('folder-input');
const dropZone = byTestId<HTMLElement>('drop-zone');
const budgetInput = byTestId<HTMLInputElement>('budget');
const widthInput = byTestId<HTMLSelectElement>('width');
const epochsInput = byTestId<HTMLInputElement>('epochs');
const startButton = byTestId<HTMLButtonElement>('start');
const statusLine = byTestId<HTMLElement>('status');
const warningLine = byTestId<HTMLElement>('warning');
const summary = byTestId<HTMLElement>('data-summary');
const results = byTestId<HTMLElement>('results');
const accuracyLine = byTestId<HTMLElement>('test-accuracy');
const downloads = {
  safetensors: byTestId<HTMLAnchorElement>('download-safetensors'),
  onnx: byTestId<HTMLAnchorElement>('download-onnx'),
  metrics: byTestId<HTMLAnchorElement>('download-metrics'),
};
const history = byTestId<HTMLElement>('history');
const curves = new Curves(byTestId<SVGSVGElement>('curves'));

/** Images decoded per message to the decode worker: enough to keep it busy, few enough to show progress. */
const decodeChunk = 64;
/** Test images explained with Grad-CAM, spread over the classes (spread()). */
const explainCount = 8;
/** Training images shown as the recipe augments them (two epochs' views of each), spread over the classes. */
const sampleCount = 5;
const seed = 0;
const imageBytes = pageImageSide * pageImageSide * 3;

let data: { layout: FolderLayout; train: PageImages; test: PageImages } | undefined;
let busy: 'decoding' | 'training' | undefined;

function say(text: string, kind: 'info' | 'error' = 'info'): void {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

function warn(text: string | undefined): void {
  warningLine.textContent = text ?? '';
  warningLine.hidden = !text;
}

const count = (n: number, what: string, plural = `${what}s`): string => `${n.toLocaleString('en')} ${n === 1 ? what : plural}`;

/** Decodes `files` chunk by chunk in the decode worker; images that fail are left out and named. */
async function decode(files: LabelledFile[], progress: (done: number) => void): Promise<{ images: PageImages; failed: string[] }> {
  const worker = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module' });
  const pixels = new Uint8Array(files.length * imageBytes);
  const labels = new Uint8Array(files.length);
  const failed: string[] = [];
  let kept = 0;
  try {
    for (let from = 0; from < files.length; from += decodeChunk) {
      const chunk = files.slice(from, from + decodeChunk);
      const reply = await new Promise<DecodeReply>((resolve, reject) => {
        worker.onmessage = (e: MessageEvent<DecodeReply>) => resolve(e.data);
        worker.onerror = (e) => reject(new Error(`the decode worker failed: ${e.message}`));
        worker.postMessage({ id: from, files: chunk.map((f) => f.file) });
      });
      chunk.forEach((f, k) => {
        const error = reply.errors[k];
        if (error) {
          failed.push(`${f.path}: ${error}`);
          return;
        }
        pixels.set(reply.pixels.subarray(k * imageBytes, (k + 1) * imageBytes), kept * imageBytes);
        labels[kept++] = f.label;
      });
      progress(Math.min(files.length, from + decodeChunk));
    }
  } finally {
    worker.terminate();
  }
  return { images: { images: pixels.slice(0, kept * imageBytes), labels: labels.slice(0, kept), count: kept }, failed };
}

const perClass = (set: PageImages, classes: number): number[] => {
  const counts = new Array<number>(classes).fill(0);
  for (const label of set.labels) counts[label]!++;
  return counts;
};

async function load(files: PageFile[]): Promise<void> {
  if (busy) {
    // Said, not shown as an error: the run goes on, on the folder it started with.
    say(busy === 'training' ? 'A training run is already going: the new folder was not read. Wait for the run to finish (or reload the page to stop it), then choose the folder again.' : 'Still reading the previous folder: choose the folder again once it is read.');
    return;
  }
  busy = 'decoding';
  startButton.disabled = true;
  data = undefined;
  warn(undefined);
  try {
    const layout = folderLayout(files, seed);
    const total = layout.train.length + layout.test.length;
    const show = (done: number) => say(`Decoding ${layout.name}: ${done.toLocaleString('en')} of ${count(total, 'image')} read`);
    show(0);
    const train = await decode(layout.train, (d) => show(d));
    const test = await decode(layout.test, (d) => show(layout.train.length + d));
    const failed = [...train.failed, ...test.failed];
    if (failed.length > 0) warn(`${count(failed.length, 'file')} could not be decoded and ${failed.length === 1 ? 'is' : 'are'} left out: ${failed.slice(0, 3).join('; ')}${failed.length > 3 ? '; …' : ''}`);
    if (train.images.count === 0 || test.images.count === 0) throw new FolderError(`${layout.name}: no decodable images left in the ${train.images.count === 0 ? 'training' : 'test'} split`);
    const trainCounts = perClass(train.images, layout.classes.length);
    const empty = layout.classes.filter((_, c) => trainCounts[c] === 0);
    if (empty.length > 0) throw new FolderError(`${layout.name}: class${empty.length > 1 ? 'es' : ''} ${empty.map((c) => `'${c}'`).join(', ')} kept no training image`);
    data = { layout, train: train.images, test: test.images };
    summary.textContent = `${layout.name}: ${count(layout.classes.length, 'class', 'classes')}, ${count(train.images.count, 'training image')} and ${count(test.images.count, 'test image')} ` +
      `(${layout.layout === 'hold-out split' ? '10% of each class held out' : 'the folder\'s own test split'}), read at ${pageImageSide}x${pageImageSide}` +
      `${layout.ignored > 0 ? `; ${count(layout.ignored, 'file')} left out that ${layout.ignored === 1 ? 'is not an image' : 'are not images'}` : ''}.`;
    renderClassCounts(byTestId('class-counts'), layout.classes, trainCounts, perClass(test.images, layout.classes.length));
    const mean = [0, 1, 2].map((c) => train.images.images.reduce((s, v, i) => (i % 3 === c ? s + v : s), 0) / (255 * train.images.count * pageImageSide * pageImageSide));
    renderSamples(byTestId('samples'), train.images.images, spread(train.images, layout.classes.length, sampleCount), mean);
    say(`Ready: set a time budget and train.`);
    startButton.disabled = false;
  } catch (err) {
    say(err instanceof FolderError ? err.message : `Could not read the folder: ${(err as Error).message}`, 'error');
  } finally {
    busy = undefined;
  }
}

/** The first image of each class, then the next ones in order, up to `n`: the images are in folder order, one class after another. */
function spread(set: PageImages, classes: number, n: number): number[] {
  const firsts = Array.from({ length: classes }, (_, c) => set.labels.indexOf(c)).filter((i) => i >= 0);
  const rest = Array.from({ length: set.count }, (_, i) => i).filter((i) => !firsts.includes(i));
  return [...firsts, ...rest].slice(0, n);
}

function setDownload(link: HTMLAnchorElement, bytes: Uint8Array | undefined): void {
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  link.removeAttribute('href');
  link.hidden = !bytes;
  // Offered only once the bytes are whole: a run stopped part-way leaves no link to a half-written file.
  if (bytes) link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
}

function startTraining(): void {
  // The button is disabled while a folder is read or a run trains (a second run is refused there,
  // where the user sees why); a click queued before that changes nothing.
  if (busy) return;
  if (!data) {
    say('Choose or drop a folder of images first.', 'error');
    return;
  }
  const budget = Number(budgetInput.value);
  if (!(budget >= 10)) {
    say(`The time budget must be at least 10 seconds (got '${budgetInput.value}').`, 'error');
    return;
  }
  busy = 'training';
  startButton.disabled = true;
  startButton.textContent = 'Training…';
  results.hidden = true;
  for (const link of Object.values(downloads)) setDownload(link, undefined);
  history.textContent = '';
  const { layout, train, test } = data;
  const width = widthInput.value === 'auto' ? undefined : Number(widthInput.value);
  const epochs = epochsInput.value === '' ? undefined : Number(epochsInput.value);
  const request: TrainRequest = {
    kind: 'train', name: layout.name, classes: layout.classes, budget, seed, explain: spread(test, layout.classes.length, explainCount),
    // Copies: the page keeps its own to show and to train again.
    train: { ...train, images: train.images.slice(), labels: train.labels.slice() },
    test: { ...test, images: test.images.slice(), labels: test.labels.slice() },
    ...(width !== undefined ? { width } : {}), ...(epochs !== undefined ? { epochs } : {}),
  };
  const worker = new Worker(new URL('./train-worker.js', import.meta.url), { type: 'module' });
  const finish = (): void => {
    worker.terminate();
    busy = undefined;
    startButton.disabled = false;
    startButton.textContent = 'Train';
  };
  worker.onmessage = ({ data: event }: MessageEvent<TrainEvent>) => {
    switch (event.kind) {
      case 'adapter':
        if (event.software) warn(`The GPU is a software adapter (${event.description}): WebGPU runs on the CPU here, and training is slow. A real GPU (or kilosecond train on the command line) is much faster.`);
        break;
      case 'phase':
        say(`${event.text[0]!.toUpperCase()}${event.text.slice(1)}…`);
        break;
      case 'plan':
        curves.reset(event.epochs);
        say(`Training the ${event.recipe} recipe, width ${event.width}, ${event.epochs} epochs of batches of ${event.batchSize}${event.reason ? `: ${event.reason}` : ''}`);
        break;
      case 'step':
        say(`Epoch ${event.epoch + 1}, step ${event.step} of ${event.steps}`);
        break;
      case 'running':
        curves.running(event.at, event.loss, event.accuracy);
        break;
      case 'epoch':
        // metrics.jsonl as `train` writes it: one JSON line per epoch.
        history.textContent += `${JSON.stringify(event.record)}\n`;
        curves.setEpochs(event.epochs);
        curves.tested(event.record.epoch, event.record.test_loss, event.record.test_accuracy);
        say(`Epoch ${event.record.epoch} of ${event.epochs}: test accuracy ${(100 * event.record.test_accuracy).toFixed(2)}%, ` +
          `trained at ${event.record.images_per_second.toLocaleString('en', { maximumSignificantDigits: 3 })} images/s (${event.record.train_seconds.toFixed(1)} s)`);
        break;
      case 'replan':
        say(`Re-planned: ${event.replan.reason}`);
        break;
      case 'done':
        accuracyLine.textContent = `Test accuracy ${(100 * event.accuracy).toFixed(2)}% on ${count(test.count, 'test image')}, trained in ${event.seconds.toFixed(0)} s.`;
        accuracyLine.dataset.accuracy = String(event.accuracy);
        // Without test-time augmentation, as `kilosecond predict` classifies: what a deployed model scores.
        accuracyLine.dataset.plainAccuracy = String(event.confusion.reduce((s, r, i) => s + r[i]!, 0) / test.count);
        renderConfusion(byTestId('confusion'), layout.classes, event.confusion);
        renderGradCam(byTestId('gradcam'), test, layout.classes, event.explained);
        setDownload(downloads.safetensors, event.safetensors);
        setDownload(downloads.onnx, event.onnx);
        setDownload(downloads.metrics, new TextEncoder().encode(history.textContent ?? ''));
        results.hidden = false;
        say(`Done: ${(100 * event.accuracy).toFixed(2)}% on the test images. Download the model below.`);
        finish();
        break;
      case 'error':
        say(`Training stopped: ${event.message}`, 'error');
        finish();
        break;
    }
  };
  worker.onerror = (e) => {
    say(`Training stopped: the training worker failed (${e.message || 'no message'}); reload the page and try again.`, 'error');
    finish();
  };
  worker.postMessage(request, [request.train.images.buffer, request.train.labels.buffer, request.test.images.buffer, request.test.labels.buffer]);
  say('Starting on the GPU…');
}

folderInput.addEventListener('change', () => {
  if (!folderInput.files || folderInput.files.length === 0) return;
  const files = chosenFiles(folderInput.files);
  // Cleared, so that choosing the same folder again (after a refusal, or after editing it) is a change.
  folderInput.value = '';
  void load(files);
});
dropZone.addEventListener('dragover', (e) => {
  e.preventDefault();
  dropZone.classList.add('over');
});
dropZone.addEventListener('dragleave', () => dropZone.classList.remove('over'));
dropZone.addEventListener('drop', (e) => {
  e.preventDefault();
  dropZone.classList.remove('over');
  if (!e.dataTransfer) return;
  void droppedFiles(e.dataTransfer).then((files) => (files ? load(files) : say('Drop one folder (with one subfolder of images per class), not files.', 'error')));
});
startButton.addEventListener('click', startTraining);
// Closing the tab ends the training: there is nothing to recover, so the browser asks first.
window.addEventListener('beforeunload', (e) => {
  if (busy === 'training') e.preventDefault();
});
if (!('gpu' in navigator)) warn('This browser has no WebGPU: training needs Chrome or Edge 113 or later (or Firefox or Safari with WebGPU enabled).');
