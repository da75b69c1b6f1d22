#!/usr/bin/env node
// Thin launcher so that `npx kilosecond` works from a checkout after `npm ci` (which builds dist/).
import '../dist/cli/main.js';
