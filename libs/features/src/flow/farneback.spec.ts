import * as fs from 'fs';
import * as path from 'path';
import { readImage } from '../media/decode';
import { flowBetweenImages, meanFlowMagnitude, FarnebackFlow } from './farneback';
import { endpointError, readFlo } from './flo';
import { sharedPath } from '@vmr/core';

const MEDIA = sharedPath('media', 'flow');
const FIX = JSON.parse(fs.readFileSync(sharedPath('fixtures', 'flow_middlebury.json'), 'utf8'));

describe('Farnebäck flow (OpenCV.js) on Middlebury (Baker et al., IJCV 2011)', () => {
  it.each(['RubberWhale', 'Venus'])('%s: AEPE vs ground truth equals native OpenCV 4.6 within 2 %%', async (seq) => {
    const a = await readImage(path.join(MEDIA, seq, 'frame10.png'));
    const b = await readImage(path.join(MEDIA, seq, 'frame11.png'));
    const flow = await flowBetweenImages(a, b);
    const gt = readFlo(path.join(MEDIA, seq, 'flow10.flo'));
    const e = endpointError(flow, gt);
    const ref = FIX.sequences[seq];
    expect(e.nKnown).toBe(ref.n_known);
    expect(Math.abs(e.aepe - ref.aepe) / ref.aepe).toBeLessThan(0.02);
    expect(Math.abs(e.rmsEpe - ref.rms_epe) / ref.rms_epe).toBeLessThan(0.02);
    expect(Math.abs(meanFlowMagnitude(flow) - ref.mean_flow_magnitude_cv2) / ref.mean_flow_magnitude_cv2).toBeLessThan(0.02);
    // and far better than predicting zero flow
    expect(e.aepe).toBeLessThan(0.75 * ref.zero_flow_aepe);
  });

  it('gives ~zero flow for identical frames and ~2 px for a texture shifted by 2 px', async () => {
    const fb = await FarnebackFlow.create();
    try {
      const w = 96;
      const h = 64;
      const tex = (dx: number): Uint8Array => {
        const d = new Uint8Array(w * h);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) d[y * w + x] = Math.round(127 + 60 * Math.sin((x - dx) / 3) * Math.cos(y / 4));
        return d;
      };
      const a = { width: w, height: h, data: tex(0) };
      expect(meanFlowMagnitude(fb.compute(a, a))).toBeLessThan(0.01); // exactly 0 only up to border effects
      const f = fb.compute(a, { width: w, height: h, data: tex(2) });
      // interior pixels move right by 2 px
      let su = 0;
      let n = 0;
      for (let y = 16; y < h - 16; y++) for (let x = 16; x < w - 16; x++) {
        su += f.data[2 * (y * w + x)];
        n++;
      }
      expect(su / n).toBeGreaterThan(1.8);
      expect(su / n).toBeLessThan(2.2);
    } finally {
      fb.dispose();
    }
  });
});
