// tsc compiles only .ts: copy the other files the code reads at run time (WGSL shaders)
// from src/ into the same place under dist/.
import { cpSync, statSync } from 'node:fs';

cpSync('src', 'dist', {
  recursive: true,
  filter: (path) => statSync(path).isDirectory() || path.endsWith('.wgsl'),
});
