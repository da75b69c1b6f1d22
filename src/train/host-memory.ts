/**
 * @file How much memory a run on this machine may still take (Node): what Linux reports as
 * available (MemAvailable: free memory and the caches it can drop), within the container's
 * limit where there is one, and within the limit the user asked for (`maxMemoryGb`).
 */
import { freemem } from 'node:os';
import { UserError, msg, setting } from '../core/errors.js';
import type { MemoryAvailable, MemoryProbe } from './memory-plan.js';

/** The probe the planner reads (memory-plan.ts); `maxMemoryGb` caps the whole process's resident memory. */
export function hostMemory(maxMemoryGb?: number): MemoryProbe {
  if (maxMemoryGb !== undefined && !(maxMemoryGb > 0)) throw new UserError(msg`${setting('maxMemoryGb', maxMemoryGb)}: give the most memory the run may hold, in GB (for example 4)`);
  // The cgroup's limit (0, or a huge number, where there is none): a container's memory can be less than the machine's.
  const limit = process.constrainedMemory?.() ?? 0;
  const caps = [
    ...(limit > 0 && limit < Number.MAX_SAFE_INTEGER ? [{ bytes: limit, source: 'the container\'s memory limit' }] : []),
    ...(maxMemoryGb !== undefined ? [{ bytes: maxMemoryGb * 2 ** 30, source: `the limit of ${maxMemoryGb} GB asked` }] : []),
  ];
  return {
    available(): MemoryAvailable {
      const rss = process.memoryUsage.rss();
      return [{ bytes: freemem(), source: 'this machine\'s free memory' }, ...caps.map((c) => ({ bytes: c.bytes - rss, source: c.source }))]
        .reduce((a, b) => (b.bytes < a.bytes ? b : a));
    },
  };
}
