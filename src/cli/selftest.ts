/**
 * @file `kilosecond selftest --fixture DIR [--backend NAME]`: check a backend against a PyTorch
 * reference fixture and print the relative error of every quantity.
 */
import type { Command } from 'commander';
import { createBackend } from '../backends/index.js';
import { runFixture } from '../selftest/fixture.js';

export function register(program: Command): void {
  program
    .command('selftest')
    .description('check a backend against a PyTorch reference fixture (shared/fixtures/*)')
    .requiredOption('--fixture <dir>', 'fixture folder holding model.safetensors')
    .option('--backend <name>', 'cpu, webgpu or reference', 'cpu')
    .option('--json', 'print the checks as one JSON line')
    .action(async (o: { fixture: string; backend: string; json?: boolean }) => {
      const backend = await createBackend(o.backend);
      try {
        const checks = await runFixture(o.fixture, backend);
        const failed = checks.filter((c) => !c.ok);
        if (o.json) {
          process.stdout.write(`${JSON.stringify({ fixture: o.fixture, backend: backend.name, checks, failed: failed.length })}\n`);
        } else {
          for (const c of checks) {
            const verdict = c.ok ? 'ok  ' : 'FAIL';
            process.stdout.write(`${verdict} ${c.name.padEnd(44)} ${c.relError.toExponential(2)}  (tolerance ${c.tolerance})\n`);
          }
          const worst = Math.max(...checks.map((c) => (Number.isNaN(c.relError) ? Infinity : c.relError)));
          process.stdout.write(`${backend.name}: ${checks.length - failed.length}/${checks.length} checks within tolerance, worst relative error ${worst.toExponential(2)}\n`);
        }
        if (failed.length > 0) process.exitCode = 1;
      } finally {
        backend.dispose();
      }
    });
}
