/**
 * @file The whitening layer's weights: a k x k convolution whose filters are the principal axes of
 * the training images' k x k patches, each scaled to unit variance, and their negations (so
 * that a following ReLU-like activation keeps both signs). For RGB and k = 2: 12 axes, 24 filters.
 *
 * The patch statistics are second moments of the (already normalised) pixels, as in airbench's
 * description; the eigenvectors come from a cyclic Jacobi solver, exact enough for a 12x12 (or
 * 4x4 for greyscale) symmetric matrix and free of dependencies.
 */

/** NHWC images in [n][h][w][c] order, as the loader hands them over. */
export interface ImageBatch {
  data: Float32Array;
  n: number;
  h: number;
  w: number;
  c: number;
}

/**
 * The second-moment matrix E[p p^T] of every k x k patch (stride 1, inside the image), each patch
 * flattened in the weights' (ky, kx, channel) order. Returns a (k k c) x (k k c) matrix, row-major.
 */
export function patchSecondMoments(images: ImageBatch, k: number): Float64Array {
  const { data, n, h, w, c } = images;
  const d = k * k * c;
  const sums = new Float64Array(d * d);
  const patch = new Float64Array(d);
  for (let image = 0; image < n; image++) {
    for (let y = 0; y + k <= h; y++) {
      for (let x = 0; x + k <= w; x++) {
        let i = 0;
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const base = ((image * h + y + ky) * w + x + kx) * c;
            for (let ch = 0; ch < c; ch++) patch[i++] = data[base + ch]!;
          }
        }
        for (let a = 0; a < d; a++) {
          const pa = patch[a]!;
          for (let b = a; b < d; b++) sums[a * d + b] += pa * patch[b]!;
        }
      }
    }
  }
  const count = n * (h - k + 1) * (w - k + 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      sums[a * d + b] /= count;
      sums[b * d + a] = sums[a * d + b]!;
    }
  }
  return sums;
}

export interface Eigen {
  /** Eigenvalues, largest first. */
  values: Float64Array;
  /** Eigenvector j in row j (row-major d x d), unit length, in the order of `values`. */
  vectors: Float64Array;
}

/** Eigenvalues and eigenvectors of a symmetric d x d matrix (row-major) by cyclic Jacobi rotations. */
export function symmetricEigen(matrix: Float64Array, d: number): Eigen {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  const offDiagonal = (): number => {
    let sum = 0;
    for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) sum += a[p * d + q]! ** 2;
    return sum;
  };
  const scale = a.reduce((s, x) => s + x * x, 0);
  for (let sweep = 0; sweep < 100 && offDiagonal() > 1e-30 * scale; sweep++) {
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q]!;
        if (apq === 0) continue;
        // The rotation by theta in the (p, q) plane that zeroes a[p][q].
        const tau = (a[q * d + q]! - a[p * d + p]!) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const cos = 1 / Math.sqrt(1 + t * t);
        const sin = t * cos;
        for (let k = 0; k < d; k++) {
          const akp = a[k * d + p]!;
          const akq = a[k * d + q]!;
          a[k * d + p] = cos * akp - sin * akq;
          a[k * d + q] = sin * akp + cos * akq;
        }
        for (let k = 0; k < d; k++) {
          const apk = a[p * d + k]!;
          const aqk = a[q * d + k]!;
          a[p * d + k] = cos * apk - sin * aqk;
          a[q * d + k] = sin * apk + cos * aqk;
        }
        for (let k = 0; k < d; k++) {
          const vkp = v[k * d + p]!;
          const vkq = v[k * d + q]!;
          v[k * d + p] = cos * vkp - sin * vkq;
          v[k * d + q] = sin * vkp + cos * vkq;
        }
      }
    }
  }
  // Column j of v is the eigenvector of a[j][j]; order them largest first, one per row.
  const order = Array.from({ length: d }, (_, j) => j).sort((i, j) => a[j * d + j]! - a[i * d + i]!);
  const values = Float64Array.from(order, (j) => a[j * d + j]!);
  const vectors = new Float64Array(d * d);
  order.forEach((j, row) => {
    for (let k = 0; k < d; k++) vectors[row * d + k] = v[k * d + j]!;
  });
  return { values, vectors };
}

/**
 * The whitening convolution's weights, HWIO [k][k][c][2 k k c]: output channel j < k k c is
 * eigenvector j / sqrt(eigenvalue j + eps) (largest eigenvalue first), channel k k c + j its
 * negation. In float64: the model rounds them once, when they become its (float32) parameter.
 */
export function whiteningWeights(images: ImageBatch, k: number, eps: number): Float64Array {
  const d = k * k * images.c;
  const { values, vectors } = symmetricEigen(patchSecondMoments(images, k), d);
  const out = 2 * d;
  const weights = new Float64Array(d * out);
  for (let j = 0; j < d; j++) {
    const scale = 1 / Math.sqrt(Math.max(values[j]!, 0) + eps);
    // Row i of the HWIO weights is the patch element (ky, kx, channel) = i, as the patches are flattened.
    for (let i = 0; i < d; i++) {
      const value = vectors[j * d + i]! * scale;
      weights[i * out + j] = value;
      weights[i * out + d + j] = -value;
    }
  }
  return weights;
}
