/**
 * @file `kilosecond selftest --fixture DIR [--backend NAME]`: check a backend against a PyTorch
 * reference fixture and print the relative error of every quantity.
 */
import type { Command } from 'commander';
import { createBackend } from '../backends/index.js';
import { formatChecks, runFixture } from '../selftest/fixture.js';

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
          process.stdout.write(formatChecks(checks, backend.name));
        }
        if (failed.length > 0) process.exitCode = 1;
      } finally {
        backend.dispose();
      }
    });
}
