/**
 * @file `kilosecond export MODEL --format onnx --out model.onnx`: a checkpoint in a format other
 * runtimes load.
 */
import type { Command } from 'commander';
import { UserError } from '../core/errors.js';

/** Each format's exporter, loaded only when asked for (protobuf.js stays out of the other commands). */
const formats = {
  onnx: async () => (await import('../export/onnx.js')).exportOnnx,
};

export function register(program: Command): void {
  program
    .command('export')
    .description('export a checkpoint (model.safetensors of a run folder) for other runtimes')
    .argument('<model>', 'checkpoint file')
    .requiredOption('--out <file>', 'the file to write, e.g. model.onnx')
    .option('--format <name>', `output format: ${Object.keys(formats).join(', ')}`, 'onnx')
    .action(async (path: string, o: { out: string; format: string }) => {
      if (!Object.hasOwn(formats, o.format)) {
        throw new UserError(`--format ${o.format}: unknown format; kilosecond exports ${Object.keys(formats).join(', ')}`);
      }
      const exporter = await formats[o.format as keyof typeof formats]();
      const r = await exporter(path, o.out);
      const [, c, h, w] = r.inputShape;
      process.stdout.write(
        `wrote ${r.path} (${(r.bytes / 1e6).toFixed(1)} MB, ONNX opset ${r.opset}): input 'images' float32 [N, ${c}, ${h}, ${w}] in 0..1, ` +
          `output 'logits' [N, ${r.classes.length}]; ${r.dataset} classes in metadata_props 'classes'\n`,
      );
    });
}
