/**
 * @file The bundled shaders are the .wgsl files as they are now: `npm run build` bundles them
 * before tsc, but tsc run alone after a shader was edited would keep the old text.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from '../../testing/paths.js';
import { shaderSources } from './shaders/sources.generated.js';

it('bundles every .wgsl file of shaders/, as it is on disk', () => {
  const dir = join(repoRoot, 'src', 'backends', 'webgpu', 'shaders');
  const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl')).sort();
  assert.deepEqual(Object.keys(shaderSources).sort(), files);
  for (const f of files) assert.equal(shaderSources[f], readFileSync(join(dir, f), 'utf8'), `${f} changed since scripts/bundle-shaders.mjs ran`);
});
