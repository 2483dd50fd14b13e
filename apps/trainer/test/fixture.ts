import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { repoRoot } from '@vmr/core';
import { writeSyntheticDataset } from '@vmr/data';

/** A tiny synthetic dataset: 24 HIMV-like clips of 40–60 s, CLIP view only, segments.csv with S = 3. */
export function tinyDataset(dir: string, seed = 5, segments = 3): string {
  writeSyntheticDataset({
    out: dir,
    preset: 'himv-like',
    clips: 24,
    seed,
    views: ['clip'],
    overrides: { minDuration: 40, maxDuration: 60 },
    plan: { segments, maxSegmentSeconds: 60 },
  });
  return dir;
}

/** A tiny training config (OF-VM-Net, 1 layer, E = 8) as YAML. */
export function tinyConfigYaml(dataset: string, extra = ''): string {
  return [
    'experiment: tiny',
    `dataset: ${dataset}`,
    'features: clip',
    'model: of-vm-net',
    'ofVmNet: { layers: 1, ffnDim: 16, embedDim: 8, heads: 2 }',
    'vmNet: { embedDim: 16, audioHidden: [{ units: 16, batchNorm: true }], videoHidden: [{ units: 16, batchNorm: true }] }',
    'segmentation: { segments: 3, minSegmentSeconds: 10, maxSegmentSeconds: 60, padLength: 60 }',
    'batchSize: 6',
    'epochs: 4',
    'lr: 0.003',
    'backend: cpu',
    'checkpointEvery: 1',
    'validateEvery: 1',
    'valSplit: all',
    extra,
  ].join('\n');
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Run the real `vmr` CLI (bin/vmr.js) in a child process. */
export function vmr(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, VMR_QUIET: '1', ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
