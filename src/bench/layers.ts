/**
 * @file The 3x3 convolutions the benchmarks time, derived from the networks' own definitions
 * (ResNet-9's stage table; the airbench network's widths and whitening) so that no benchmark keeps
 * its own copy of an architecture. Run it to print them as JSON: that is how the PyTorch peer
 * (cpu/conv_torch.py) gets the same layers.
 *
 *   node dist/bench/layers.js [davidnet|airbench]
 */
import { pathToFileURL } from 'node:url';
import { airbenchWidths, whiteningKernel, whiteningWidth } from '../nn/airbench.js';
import { resnet9Stages } from '../nn/resnet9.js';

export interface ConvLayer {
  name: string;
  /** How many times the layer occurs in the network (the residual convs come in pairs). */
  count: number;
  /** Side of the square input, in pixels. */
  h: number;
  cin: number;
  cout: number;
}

/** Every distinct convolution of a ResNet-9, in network order, for inputs `side` pixels square. */
function convLayers(inChannels: number, width: number, side: number): ConvLayer[] {
  const layers: ConvLayer[] = [];
  let cin = inChannels;
  for (const stage of resnet9Stages) {
    const cout = stage.widthFactor * width;
    layers.push({ name: stage.name, count: 1, h: side, cin, cout });
    if (stage.pool) side = Math.floor(side / 2);
    if (stage.residual) layers.push({ name: `${stage.name}.res`, count: 2, h: side, cin: cout, cout });
    cin = cout;
  }
  return layers;
}

/** DavidNet as Page trained it on CIFAR-10: width 64, 3x32x32 inputs. */
export const davidNetLayers = convLayers(3, 64, 32);

/** The airbench network's 3x3 convolutions (after the 2x2 whitening), each group's two, in order. */
function airbenchLayers(inChannels: number, width: number, side: number): ConvLayer[] {
  const layers: ConvLayer[] = [];
  let cin = whiteningWidth(inChannels);
  side -= whiteningKernel - 1;
  airbenchWidths(width).forEach((cout, g) => {
    layers.push({ name: `group${g + 1}.conv1`, count: 1, h: side, cin, cout });
    side = Math.floor(side / 2);
    layers.push({ name: `group${g + 1}.conv2`, count: 1, h: side, cin: cout, cout });
    cin = cout;
  });
  return layers;
}

/** The fast recipe's network on CIFAR-10: first width 64, 3x32x32 inputs. */
export const airbenchNetLayers = airbenchLayers(3, 64, 32);

export const benchNetworks = { davidnet: davidNetLayers, airbench: airbenchNetLayers } as const;
export type BenchNetwork = keyof typeof benchNetworks;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const name = (process.argv[2] ?? 'davidnet') as BenchNetwork;
  if (!(name in benchNetworks)) throw new Error(`layers.js: unknown network '${name}' (davidnet or airbench)`);
  console.log(JSON.stringify(benchNetworks[name]));
}
