/**
 * @file What a WebGPU adapter offers beyond float32 on the plain ALUs: half precision
 * (`shader-f16`), subgroups, and subgroup matrices (the GPU's matrix units), with Dawn's defaults
 * and with the toggles that unlock them on NVIDIA. Dawn hides `shader-f16` on NVIDIA's Vulkan
 * driver behind `vulkan_enable_f16_on_nvidia`, and the experimental subgroup matrices (which need
 * VK_KHR_cooperative_matrix) behind `use_vulkan_memory_model` and `allow_unsafe_apis`; onnxruntime's
 * WebGPU context turns on the same. The kernels use float32 only so far: this is the measurement
 * that says what a faster path could use. The caller passes Dawn in (dawn.ts's `dawnInstance`),
 * so that the backend's folder has one module that needs Node.
 */

/** The Dawn toggles that expose NVIDIA's f16 arithmetic and matrix units (each exists in the bundled Dawn). */
export const matrixUnitToggles = ['allow_unsafe_apis', 'vulkan_enable_f16_on_nvidia', 'use_vulkan_memory_model'] as const;
export const matrixUnitFlags = [`enable-dawn-features=${matrixUnitToggles.join(',')}`];

/** The features that decide the arithmetic a training step can use. */
export const arithmeticFeatures = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'] as const;

/** One subgroup-matrix shape the adapter multiplies natively (WebGPU's GPUSubgroupMatrixConfig). */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

export interface AdapterFeatures {
  /** The flags Dawn was created with ([] for its defaults). */
  flags: string[];
  adapter: string;
  /** Every feature offered, sorted. */
  features: string[];
  /** Which of `arithmeticFeatures` are offered. */
  arithmetic: Record<(typeof arithmeticFeatures)[number], boolean>;
  subgroupMatrixConfigs: SubgroupMatrixConfig[];
}

/** A Dawn instance created with these flags (dawn.ts's `dawnInstance` in Node). */
export type DawnInstance = (flags: string[]) => GPU;

/** What the first adapter offers when Dawn is created with `flags`; undefined when there is no adapter. */
export async function adapterFeatures(dawn: DawnInstance, flags: string[]): Promise<AdapterFeatures | undefined> {
  const adapter = await dawn(flags).requestAdapter();
  if (!adapter) return undefined;
  const features = [...adapter.features].sort();
  const info = adapter.info as GPUAdapterInfo & { subgroupMatrixConfigs?: Iterable<SubgroupMatrixConfig> };
  const { vendor, architecture, device, description } = info;
  return {
    flags,
    adapter: [vendor, architecture, device, description].filter(Boolean).join(' ') || 'unknown adapter',
    features,
    arithmetic: Object.fromEntries(arithmeticFeatures.map((f) => [f, features.includes(f)])) as AdapterFeatures['arithmetic'],
    subgroupMatrixConfigs: [...(info.subgroupMatrixConfigs ?? [])].map(({ componentType, resultComponentType, M, N, K }) => ({ componentType, resultComponentType, M, N, K })),
  };
}

/** The adapter's features with Dawn's defaults and with `matrixUnitFlags`. */
export async function probeArithmetic(dawn: DawnInstance): Promise<{ defaults: AdapterFeatures; toggled: AdapterFeatures } | undefined> {
  const defaults = await adapterFeatures(dawn, []);
  const toggled = await adapterFeatures(dawn, matrixUnitFlags);
  return defaults && toggled ? { defaults, toggled } : undefined;
}

/** Lines for a person: each arithmetic feature with and without the toggles, and the matrix shapes. */
export function formatArithmetic({ defaults, toggled }: { defaults: AdapterFeatures; toggled: AdapterFeatures }): string {
  const yes = (b: boolean) => (b ? 'offered' : 'not offered');
  const lines = [`adapter: ${defaults.adapter}`];
  for (const f of arithmeticFeatures) lines.push(`${f}: ${yes(defaults.arithmetic[f])} by default, ${yes(toggled.arithmetic[f])} with ${matrixUnitToggles.join(', ')}`);
  const shapes = toggled.subgroupMatrixConfigs.map((c) => `${c.componentType}->${c.resultComponentType} ${c.M}x${c.N}x${c.K}`);
  lines.push(`subgroup matrix shapes: ${shapes.length > 0 ? shapes.join(', ') : 'none'}`);
  lines.push(`all features (defaults): ${defaults.features.join(' ')}`);
  const added = toggled.features.filter((f) => !defaults.features.includes(f));
  lines.push(`added by the toggles: ${added.length > 0 ? added.join(' ') : 'none'}`);
  lines.push('the kernels run float32 on the plain ALUs (no f16 or subgroup-matrix kernels yet)');
  return lines.join('\n');
}
