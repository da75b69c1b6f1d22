/**
 * @file What a run records about the machine it used (summary.json, the report).
 */
import { createRequire } from 'node:module';
import { cpus } from 'node:os';

export interface EnvironmentInfo {
  cpu: string;
  /** 'cpu' or 'webgpu', with the adapter when there is one. */
  backend: string;
  device?: string;
  /** e.g. { kilosecond: '0.1.0', node: 'v20.20.2', dawn: '...' } */
  versions: Record<string, string>;
}

export const kilosecondVersion = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** The CPU and Node version of this process, plus what the caller knows (backend, adapter, package versions). */
export function describeEnvironment(backend: string, versions: Record<string, string> = {}, device?: string): EnvironmentInfo {
  const cores = cpus();
  const cpu = `${cores[0]?.model.trim() ?? 'unknown CPU'} (${cores.length} logical cores)`;
  return { cpu, backend, ...(device === undefined ? {} : { device }), versions: { node: process.version, ...versions } };
}
