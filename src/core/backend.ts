/**
 * @file The backend interface: the only thing the engine knows about a device.
 *
 * A backend owns memory (opaque `DeviceBuffer`s holding float32 values) and a fixed set of
 * kernels. Everything above this file (tensors, autograd, layers, the trainer) is
 * backend-agnostic; everything below it (src/backends/*, native/) knows one device.
 *
 * Conventions every backend follows (the reference backend in src/backends/reference is the
 * executable specification; the conformance suite in src/backends/conformance.test.ts runs
 * every backend against it and against the PyTorch fixtures):
 *
 * - Activations are NHWC ("channels last"), contiguous. A [N,H,W,C] tensor is also a
 *   [rows = N*H*W, C] matrix, which is how batch norm sees it.
 * - 3x3 convolution weights are HWIO: [3][3][Cin][Cout]. The state dict converts to and from
 *   PyTorch's OIHW at the boundary (src/nn/state-dict.ts), never in the training loop.
 * - Kernels write their outputs completely (no accumulation into outputs) unless the method
 *   says "accumulates".
 * - Kernel launches may be asynchronous (WebGPU queues them); only `read` waits. Within one
 *   backend, kernels observe the results of kernels issued before them.
 * - Integer data (labels, class targets) travels as float32: exact up to 2^24.
 */

/** Opaque handle to `length` float32 values on a device. */
export interface DeviceBuffer {
  readonly length: number;
}

/** x [n, h, w, cin] convolved with w [3, 3, cin, cout], stride 1, zero padding 1 -> [n, h, w, cout]. */
export interface Conv3x3Shape {
  n: number;
  h: number;
  w: number;
  cin: number;
  cout: number;
}

/** Batch norm over a [rows, channels] view of an NHWC tensor. */
export interface BatchNormShape {
  rows: number;
  channels: number;
  eps: number;
  /** Apply ReLU after the affine transform (forward) / mask the gradient with it (backward). */
  relu: boolean;
}

/** x [n, h, w, c] -> [n, floor(h/2), floor(w/2), c], 2x2 window, stride 2. */
export interface Pool2x2Shape {
  n: number;
  h: number;
  w: number;
  c: number;
}

/** x [n, spatial, c] -> [n, c]: maximum over the `spatial` positions of each image. */
export interface GlobalPoolShape {
  n: number;
  spatial: number;
  c: number;
}

/** out [m, n] = op(a) [m, k] x op(b) [k, n]; op transposes when the flag is set. */
export interface MatmulShape {
  m: number;
  k: number;
  n: number;
  transA: boolean;
  transB: boolean;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

export interface Backend {
  readonly name: string;

  // ---- memory -------------------------------------------------------------------------------
  /** A buffer of `length` floats. Contents are undefined (backends recycle released buffers). */
  alloc(length: number): DeviceBuffer;
  /** Return a buffer to the backend's pool. Using it afterwards is a bug. */
  release(buf: DeviceBuffer): void;
  /** Copy host data into `buf` starting at element `offset` (default 0). */
  write(buf: DeviceBuffer, data: Float32Array, offset?: number): void;
  /** Copy a whole buffer back to the host. The only call that waits for queued work. */
  read(buf: DeviceBuffer): Promise<Float32Array>;
  /** Set every element to `value`. */
  fill(buf: DeviceBuffer, value: number): void;
  /** Copy `src` into `dst` (same length). */
  copy(src: DeviceBuffer, dst: DeviceBuffer): void;
  /** Bytes currently held by live (allocated, not released) buffers, and by the pool. */
  memoryStats(): { liveBytes: number; pooledBytes: number };
  /** Wait for all queued work (used by benchmarks; a no-op on synchronous backends). */
  sync(): Promise<void>;
  /** Free pooled memory and device resources. The backend is unusable afterwards. */
  dispose(): void;

  // ---- convolution --------------------------------------------------------------------------
  /** y = conv3x3(x, w). */
  conv3x3(x: DeviceBuffer, w: DeviceBuffer, y: DeviceBuffer, s: Conv3x3Shape): void;
  /** gx = dL/dx given gy = dL/dy (a 3x3 convolution with the flipped, transposed kernel). */
  conv3x3BackwardData(gy: DeviceBuffer, w: DeviceBuffer, gx: DeviceBuffer, s: Conv3x3Shape): void;
  /** gw [3,3,cin,cout] = dL/dw = sum over n,h,w of input patches times gy. */
  conv3x3BackwardFilter(x: DeviceBuffer, gy: DeviceBuffer, gw: DeviceBuffer, s: Conv3x3Shape): void;

  // ---- batch norm (+ optional fused ReLU) ----------------------------------------------------
  /**
   * Training mode. Computes the batch mean and biased variance per channel, writes
   * y = act(gamma * (x - mean) * invstd + beta) with invstd = 1/sqrt(var + eps), and saves
   * `mean` [C] and `invstd` [C] for the backward pass. Updates the running statistics in place
   * with PyTorch's convention: r = (1 - momentum) * r + momentum * batch, where the running
   * variance takes the unbiased batch variance (var * rows / (rows - 1)).
   */
  batchNormTrain(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer, y: DeviceBuffer,
    mean: DeviceBuffer, invstd: DeviceBuffer,
    runningMean: DeviceBuffer, runningVar: DeviceBuffer, momentum: number,
    s: BatchNormShape,
  ): void;
  /** Eval mode: y = act(gamma * (x - runningMean) / sqrt(runningVar + eps) + beta). */
  batchNormEval(
    x: DeviceBuffer, gamma: DeviceBuffer, beta: DeviceBuffer,
    runningMean: DeviceBuffer, runningVar: DeviceBuffer, y: DeviceBuffer, s: BatchNormShape,
  ): void;
  /**
   * Backward of batchNormTrain. `y` is the forward output (used for the ReLU mask when
   * s.relu); `gy` the incoming gradient. Writes gx [rows, C], ggamma [C], gbeta [C].
   * With g = gy masked by (y > 0) when relu, xhat = (x - mean) * invstd:
   *   gbeta = sum g, ggamma = sum g * xhat,
   *   gx = gamma * invstd * (g - gbeta / rows - xhat * ggamma / rows).
   */
  batchNormBackward(
    x: DeviceBuffer, y: DeviceBuffer, gy: DeviceBuffer, gamma: DeviceBuffer,
    mean: DeviceBuffer, invstd: DeviceBuffer,
    gx: DeviceBuffer, ggamma: DeviceBuffer, gbeta: DeviceBuffer, s: BatchNormShape,
  ): void;

  // ---- pooling ------------------------------------------------------------------------------
  maxPool2x2(x: DeviceBuffer, y: DeviceBuffer, s: Pool2x2Shape): void;
  /**
   * gx = gradient routed to the first maximum of each window (PyTorch's tie rule: scan order
   * row-major within the window); zero elsewhere, including the row/column dropped by floor.
   */
  maxPool2x2Backward(x: DeviceBuffer, gy: DeviceBuffer, gx: DeviceBuffer, s: Pool2x2Shape): void;
  globalMaxPool(x: DeviceBuffer, y: DeviceBuffer, s: GlobalPoolShape): void;
  /** gx [n, spatial, c]: gy routed to the first maximum per (image, channel), zero elsewhere. */
  globalMaxPoolBackward(x: DeviceBuffer, gy: DeviceBuffer, gx: DeviceBuffer, s: GlobalPoolShape): void;

  // ---- dense ----------------------------------------------------------------------------------
  matmul(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, s: MatmulShape): void;
  /** out = a + b, elementwise over `length` elements. */
  add(a: DeviceBuffer, b: DeviceBuffer, out: DeviceBuffer, length: number): void;
  /** out = a * alpha, elementwise. */
  scale(a: DeviceBuffer, alpha: number, out: DeviceBuffer, length: number): void;

  // ---- loss and metrics ---------------------------------------------------------------------
  /**
   * Softmax cross-entropy with label smoothing, mean over the batch.
   * logits [n, k], labels [n] (class indices as floats). Writes loss [1] and the softmax
   * probabilities `probs` [n, k] (saved for the backward pass). With smoothing s the target
   * distribution is (1 - s) * onehot + s / k, as in PyTorch.
   */
  crossEntropy(
    logits: DeviceBuffer, labels: DeviceBuffer, probs: DeviceBuffer, loss: DeviceBuffer,
    n: number, k: number, smoothing: number,
  ): void;
  /** glogits = gloss[0] * (probs - target) / n. */
  crossEntropyBackward(
    probs: DeviceBuffer, labels: DeviceBuffer, gloss: DeviceBuffer, glogits: DeviceBuffer,
    n: number, k: number, smoothing: number,
  ): void;
  /**
   * Accumulates into `stats` [2]: stats[0] += number of rows whose argmax (first maximum)
   * equals the label, stats[1] += sum over rows of the unsmoothed cross-entropy. Lets the
   * trainer count accuracy and loss on the device and read them back rarely.
   */
  accumulateMetrics(logits: DeviceBuffer, labels: DeviceBuffer, stats: DeviceBuffer, n: number, k: number): void;

  // ---- optimiser ----------------------------------------------------------------------------
  /**
   * One SGD step with PyTorch's semantics (torch.optim.SGD, dampening 0):
   *   g = grad + weightDecay * param
   *   velocity = momentum * velocity + g          (velocity starts at zero: pass a zeroed buffer)
   *   step = nesterov ? g + momentum * velocity : velocity
   *   param -= lr * step
   * Updates param and velocity in place.
   */
  sgdStep(param: DeviceBuffer, grad: DeviceBuffer, velocity: DeviceBuffer, length: number, h: SgdHyper): void;
}
