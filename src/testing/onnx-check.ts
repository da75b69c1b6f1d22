/**
 * @file Debian's onnx.checker on an exported model (tests only): the check with full_check, and
 * what the file declares (opset, inputs, outputs, the node types, the metadata).
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';

/** Debian's python3-onnx, when installed; CI installs it (.ci/run), so there a missing one fails. */
export function pythonOnnx(t: { skip(reason: string): void }): boolean {
  if (spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0) return true;
  if (process.env.CI) assert.fail('python3-onnx is not installed: CI must install it');
  t.skip('python3-onnx not installed (apt-get install python3-onnx)');
  return false;
}

const checkScript = `
import json, sys, onnx
onnx.checker.check_model(sys.argv[1], full_check=True)
m = onnx.load(sys.argv[1])
dims = lambda v: [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]
print(json.dumps({
  "opset": m.opset_import[0].version,
  "inputs": {v.name: dims(v) for v in m.graph.input},
  "outputs": {v.name: dims(v) for v in m.graph.output},
  "ops": sorted({n.op_type for n in m.graph.node}),
  "metadata": {p.key: p.value for p in m.metadata_props},
}))
`;

export interface OnnxReport {
  opset: number;
  inputs: Record<string, Array<string | number>>;
  outputs: Record<string, Array<string | number>>;
  ops: string[];
  metadata: Record<string, string>;
}

/** Runs onnx.checker (full_check) on `path`, failing the test with its message when it refuses the file. */
export function checkOnnx(path: string): OnnxReport {
  const result = spawnSync('/usr/bin/python3', ['-c', checkScript, path], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as OnnxReport;
}
