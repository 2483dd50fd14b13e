import { execFileSync } from 'child_process';
import * as path from 'path';
import { repoRoot, sharedPath } from '@vmr/core';

const ROOT = repoRoot();
const SAMPLE = sharedPath('media', 'onsets', 'sample.wav'); // madmom test data, CC-BY-NC-SA-4.0

describe('vmr onsets', () => {
  it('prints {"onsets": [seconds…]} for a WAV file (librosa defaults at 22.05 kHz)', () => {
    const out = execFileSync(process.execPath, [path.join(ROOT, 'bin/vmr.js'), 'onsets', SAMPLE, '--json'], { encoding: 'utf8' });
    const j = JSON.parse(out) as { onsets: number[]; sampleRate: number };
    expect(j.sampleRate).toBe(22050);
    expect(j.onsets).toHaveLength(15);
    // first annotated onset is 0.0943 s; every time is a whole number of 512-sample hops at 22,050 Hz
    expect(Math.abs(j.onsets[0] - 0.0943)).toBeLessThan(0.05);
    for (const t of j.onsets) expect(Math.abs(t * 22050 / 512 - Math.round(t * 22050 / 512))).toBeLessThan(1e-9);
  });
});
