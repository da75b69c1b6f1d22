/**
 * @file DavidNet's convolutions as the benchmarks time them, derived from ResNet-9's stage table
 * so that no benchmark keeps its own copy of the architecture. Run it to print them as JSON:
 * that is how the PyTorch peer (cpu/conv_torch.py) gets the same layers.
 *
 *   node dist/bench/layers.js
 */
import { pathToFileURL } from 'node:url';
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) console.log(JSON.stringify(davidNetLayers));
