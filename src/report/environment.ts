/**
 * @file What a report says about the machine a run used.
 */
import { cpus } from 'node:os';
import type { EnvironmentInfo } from './html.js';

/** The CPU and Node version of this process, plus what the caller knows (backend, adapter, package versions). */
export function describeEnvironment(backend: string, versions: Record<string, string> = {}, device?: string): EnvironmentInfo {
  const cores = cpus();
  const cpu = `${cores[0]?.model.trim() ?? 'unknown CPU'} (${cores.length} logical cores)`;
  return { cpu, backend, ...(device === undefined ? {} : { device }), versions: { node: process.version, ...versions } };
}
