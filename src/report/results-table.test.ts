import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resultsTableJson, resultsTableMarkdown, type ResultRow } from './results-table.js';

const rows: ResultRow[] = [
  { dataset: 'MNIST', status: 'ok', epochs: 10, width: 64, totalSeconds: 412.3, phases: { preparation: 12.3, training: 380, evaluation: 20 }, imagesPerSecond: 1578.6, testAccuracy: 0.99312, peakRssMb: 2411.4 },
  { dataset: 'Fashion-MNIST', status: 'ok', epochs: 12, totalSeconds: 96, secondsPerEpoch: 7.5, testAccuracy: 0.9301 },
  { dataset: 'CIFAR-10', status: 'skipped', reason: 'not found in ./data | run `kilosecond download cifar10`' },
];

describe('resultsTableMarkdown', () => {
  const lines = resultsTableMarkdown(rows).trimEnd().split('\n');

  it('has a header, an alignment row and one row per dataset', () => {
    assert.equal(lines.length, 5);
    assert.equal(lines[0], '| dataset | width | epochs | test accuracy | total time | time per epoch | preparation | training | evaluation | images/s | peak RSS | status |');
    assert.equal(lines[1], '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  });

  it('derives the time per epoch, gives the phases, formats accuracy as a percentage', () => {
    assert.equal(lines[2], '| MNIST | 64 | 10 | 99.31% | 412 s | 41.2 s | 12.3 s | 380 s | 20.0 s | 1579 | 2411 MB | ok |');
    assert.equal(lines[3], '| Fashion-MNIST | – | 12 | 93.01% | 96.0 s | 7.5 s | – | – | – | – | – | ok |');
  });

  it('shows why a row was skipped, escaping the pipe', () => {
    assert.equal(lines[4], '| CIFAR-10 | – | – | – | – | – | – | – | – | – | – | skipped: not found in ./data \\| run `kilosecond download cifar10` |');
  });
});

describe('resultsTableJson', () => {
  it('round-trips the rows with the derived time per epoch', () => {
    const parsed = JSON.parse(resultsTableJson(rows)) as ResultRow[];
    assert.equal(parsed.length, 3);
    assert.equal(parsed[0]!.secondsPerEpoch, 412.3 / 10);
    assert.equal(parsed[1]!.secondsPerEpoch, 7.5);
    assert.deepEqual(parsed[2], rows[2]);
  });
});
