/**
 * @file Builds the network a configuration names: the one place that knows every architecture.
 */
import type { Backend } from '../core/backend.js';
import { AirbenchNet } from './airbench.js';
import type { Network, NetworkConfig } from './network.js';
import { ResNet9 } from './resnet9.js';

/** A freshly initialised network; `seed` draws its initial weights. */
export function createNetwork(backend: Backend, config: NetworkConfig, seed = 0): Network {
  const { architecture, ...rest } = config;
  switch (architecture) {
    case 'resnet9':
      return new ResNet9(backend, rest, seed);
    case 'airbench':
      return new AirbenchNet(backend, rest, seed);
  }
}
