// The engine benchmark of `kilosecond bench engine --backend webgpu`, called directly so that it
// needs no npm package but webgpu (the CLI also loads commander and friends).
//   node src/bench/gpu/engine.mjs WIDTH BATCH STEPS [SIZE CHANNELS [RECIPE]]   -> a text line, then one JSON line
// SIZE and CHANNELS default to 32 and 3 (CIFAR-10); 28 1 times the MNISTs' step. RECIPE is dawnbench
// (ResNet-9, the default) or fast (the airbench network). Two untimed steps come first, as in the CLI.
import { benchEngine } from '../../../dist/bench/engine.js';

const [width, batchSize, steps, imageSize = 32, channels = 3] = process.argv.slice(2, 7).map(Number);
const recipe = process.argv[7] ?? 'dawnbench';
const r = await benchEngine({ backend: 'webgpu', recipe, width, batchSize, steps, warmup: 2, imageSize, channels });
console.log(`${r.recipe} recipe's network, width ${r.width}, batch ${r.batch_size}, ${r.image.join('x')} images: ${r.train_img_s.toFixed(0)} images/s (median step ${r.median_step_s.toFixed(4)} s), peak RSS ${r.peak_rss_mb.toFixed(0)} MB`);
console.log(JSON.stringify(r));
