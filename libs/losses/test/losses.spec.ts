import { Rng, InvalidArgumentError, ConfigError } from '@vmr/core';
import { tf, selectBackend } from '@vmr/core/tf';
import { ofVmNetLoss, vmNetLoss, topKIndices, bottomKIndices, highLowSegments } from '../src';

/**
 * Hand-made embeddings, B = 2 clips × S = 2 segments, E = 2 (flat index = clip·2 + segment):
 *   v0 = (1, 0), v1 = (0, 1), v2 = (.6, .8), v3 = (.8, −.6)
 *   m0 = (.8, .6), m1 = (0, 1), m2 = (1, 0), m3 = (−.6, .8)
 * sim[a][n] = v_a·m_n = [[.8, 0, 1, −.6], [.6, 1, 0, .8], [.96, .8, .6, .28], [.28, −.6, .8, −.96]]
 * ranks: clip 0 = [1, 2] (high 0, low 1), clip 1 = [2, 1] (high 3, low 2).
 */
const V = [[1, 0], [0, 1], [0.6, 0.8], [0.8, -0.6]];
const M = [[0.8, 0.6], [0, 1], [1, 0], [-0.6, 0.8]];
const ranks = [1, 2, 2, 1];
const emb = () => ({ video: tf.tensor3d([V.slice(0, 2), V.slice(2)]), audio: tf.tensor3d([M.slice(0, 2), M.slice(2)]) });
const triples = (t: Array<{ anchor: number; positive: number; negative: number }>) => t.map((x) => [x.anchor, x.positive, x.negative]);

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('paper loss (λ1…λ6), hand-computed', () => {
  it('each term, its mined triplets and the weighted total', () => {
    tf.tidy(() => {
      const r = ofVmNetLoss(emb(), ranks, { topK: 2, lambdas: { l1: 1, l2: 2, l3: 3, l4: 4, l5: 5, l6: 6 } });
      const val = (k: string) => r.terms[k].dataSync()[0];
      // λ1: hinge v_a·m_n − v_a·m_a; largest: (a3,n2) .8+.96 = 1.76, (a3,n0) .28+.96 = 1.24
      expect(val('l1')).toBeCloseTo(3.0, 5);
      expect(triples(r.mined.l1)).toEqual([[3, 3, 2], [3, 3, 0]]);
      // λ2: hinge m_a·v_n − m_a·v_a; largest: (a3,n1) .8+.96 = 1.76, (a3,n2) .28+.96 = 1.24
      expect(val('l2')).toBeCloseTo(3.0, 5);
      expect(triples(r.mined.l2)).toEqual([[3, 3, 1], [3, 3, 2]]);
      // λ3 (v_i,high, m_j,high, m_j,low): (v3; m3, m2) .8+.96 = 1.76, (v0; m3, m2) 1+.6 = 1.6
      expect(val('l3')).toBeCloseTo(3.36, 5);
      expect(triples(r.mined.l3)).toEqual([[3, 3, 2], [0, 3, 2]]);
      // λ4 (m_i,high, v_j,high, v_j,low): (m3; v0, v1) .8+.6 = 1.4, (m3; v3, v2) .28+.96 = 1.24
      expect(val('l4')).toBeCloseTo(2.64, 5);
      expect(triples(r.mined.l4)).toEqual([[3, 0, 1], [3, 3, 2]]);
      // λ5 (v_i,high, v_j,high, v_k,low), j ≠ i: all violations negative (−.2, −.8, −1.4, −.8) → 0;
      // mined: (v0; v3, v2) −.2, then the −.8 tie resolved by index: (v0; v3, v1)
      expect(val('l5')).toBeCloseTo(0, 6);
      expect(triples(r.mined.l5)).toEqual([[0, 3, 2], [0, 3, 1]]);
      // λ6 (m_i,high, m_j,high, m_k,low): m0·m3 = 0; (m0; m3, m2) .8, (m3; m0, m1) .8
      expect(val('l6')).toBeCloseTo(1.6, 5);
      expect(triples(r.mined.l6)).toEqual([[0, 3, 2], [3, 0, 1]]);
      expect(r.total.dataSync()[0]).toBeCloseTo(3 + 6 + 3 * 3.36 + 4 * 2.64 + 0 + 6 * 1.6, 4);
    });
  });

  it('margin shifts every hinge; topK 1 keeps the single most violated; mean reduction divides by k', () => {
    tf.tidy(() => {
      const r = ofVmNetLoss(emb(), ranks, { topK: 1, margin: 0.5 });
      expect(r.terms.l1.dataSync()[0]).toBeCloseTo(2.26, 5);
      expect(r.terms.l5.dataSync()[0]).toBeCloseTo(0.3, 5); // −.2 + .5
      const m = ofVmNetLoss(emb(), ranks, { topK: 2, reduction: 'mean' });
      expect(m.terms.l3.dataSync()[0]).toBeCloseTo(1.68, 5);
    });
  });

  it('matches a brute-force reference on random embeddings, and its gradient matches finite differences', () => {
    const B = 4;
    const S = 3;
    const E = 5;
    const rng = new Rng(3);
    const raw = Array.from({ length: 2 * B * S * E }, () => rng.normal());
    const unit = (x: number[]) => {
      const n = Math.hypot(...x);
      return x.map((v) => v / n);
    };
    const rows = (off: number) => Array.from({ length: B * S }, (_, i) => unit(raw.slice(off + i * E, off + (i + 1) * E)));
    const Vr = rows(0);
    const Mr = rows(B * S * E);
    const rk = Array.from({ length: B }, () => rng.permutation(S).map((p) => p + 1)).flat();
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
    const { high, low } = highLowSegments(rk, B, S);
    const k = 5;
    const margin = 0.05;
    const topSum = (vals: number[]) => vals.sort((a, b) => b - a).slice(0, k).reduce((s, x) => s + Math.max(0, x), 0);
    const N = B * S;
    const e1: number[] = [];
    const e2: number[] = [];
    for (let a = 0; a < N; a++) {
      for (let n = 0; n < N; n++) {
        if (n === a) continue;
        e1.push(margin + dot(Vr[a], Mr[n]) - dot(Vr[a], Mr[a]));
        e2.push(margin + dot(Mr[a], Vr[n]) - dot(Mr[a], Vr[a]));
      }
    }
    const e3: number[] = [];
    const e4: number[] = [];
    const e5: number[] = [];
    const e6: number[] = [];
    for (let i = 0; i < B; i++) {
      for (let j = 0; j < B; j++) {
        e3.push(margin + dot(Vr[high[i]], Mr[low[j]]) - dot(Vr[high[i]], Mr[high[j]]));
        e4.push(margin + dot(Mr[high[i]], Vr[low[j]]) - dot(Mr[high[i]], Vr[high[j]]));
        if (j === i) continue;
        for (let q = 0; q < B; q++) {
          e5.push(margin + dot(Vr[high[i]], Vr[low[q]]) - dot(Vr[high[i]], Vr[high[j]]));
          e6.push(margin + dot(Mr[high[i]], Mr[low[q]]) - dot(Mr[high[i]], Mr[high[j]]));
        }
      }
    }
    const expected = [e1, e2, e3, e4, e5, e6].map(topSum);
    const v = tf.tensor3d(Vr.flat(), [B, S, E]);
    const m = tf.tensor3d(Mr.flat(), [B, S, E]);
    tf.tidy(() => {
      const r = ofVmNetLoss({ video: v, audio: m }, rk, { topK: k, margin });
      ['l1', 'l2', 'l3', 'l4', 'l5', 'l6'].forEach((name, i) => expect(r.terms[name].dataSync()[0]).toBeCloseTo(expected[i], 4));
    });
    // gradient w.r.t. the embeddings (random values: no hinge or mining tie within ±h)
    const f = (vv: tf.Tensor, mm: tf.Tensor) => ofVmNetLoss({ video: vv as tf.Tensor3D, audio: mm as tf.Tensor3D }, rk, { topK: k, margin }).total;
    const [gv, gm] = tf.grads(f)([v, m]);
    const h = 1e-3;
    for (const [t, g, which] of [[v, gv, 0], [m, gm, 1]] as const) {
      const base = t.dataSync();
      const ga = g.dataSync();
      for (let idx = 0; idx < base.length; idx += 7) {
        const at = (d: number) => {
          const x = base.slice();
          x[idx] += d;
          const p = tf.tensor3d(x, [B, S, E]);
          const out = which === 0 ? f(p, m) : f(v, p);
          return out.dataSync()[0];
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(fd - ga[idx])).toBeLessThan(5e-3 + 1e-2 * Math.abs(ga[idx]));
      }
    }
  });

  it('validates ranks and config', () => {
    expect(() => ofVmNetLoss(emb(), [1, 2, 3], {})).toThrow(InvalidArgumentError);
    expect(() => ofVmNetLoss(emb(), [1, NaN, 1, 2], {})).toThrow(/must be finite/);
    expect(() => ofVmNetLoss(emb(), ranks, { topK: 0 })).toThrow(ConfigError);
    expect(() => ofVmNetLoss(emb(), ranks, { protocol: 'vmr-code' })).toThrow(/options.rng/);
  });
});

describe('vmr-code loss protocol', () => {
  it('GT term: hardest positives × hardest negatives, batch-global (hand-computed)', () => {
    tf.tidy(() => {
      const r1 = ofVmNetLoss(emb(), ranks, { protocol: 'vmr-code', vmrCode: { gtTopK: 1 } }, { rng: new Rng(1) });
      // hardest positive: v3·m3 = −.96; hardest negative: v0·m2 = 1 → max(0, 1 + .96)
      expect(r1.terms.gt.dataSync()[0]).toBeCloseTo(1.96, 5);
      const r2 = ofVmNetLoss(emb(), ranks, { protocol: 'vmr-code', vmrCode: { gtTopK: 2 } }, { rng: new Rng(1) });
      // positives −.96, .6; negatives 1, .96 → mean(1.96, 1.92, .4, .36) = 1.16
      expect(r2.terms.gt.dataSync()[0]).toBeCloseTo(1.16, 5);
    });
  });

  it('OF terms: Euclidean triplet margin loss over the sampled (top, top, bottom) / (bottom, bottom, top) triplets, both modalities', () => {
    tf.tidy(() => {
      const r = ofVmNetLoss(emb(), ranks, { protocol: 'vmr-code', vmrCode: { ofSamples: 6, margin: 0.1, weights: [1, 2, 3] } }, { rng: new Rng(7) });
      const d = (x: number[], y: number[]) => Math.hypot(...x.map((v, i) => v - y[i] + 1e-6));
      const expectTerm = (list: Array<{ anchor: number; positive: number; negative: number }>) =>
        list.reduce((s, t) => s + [V, M].reduce((q, X) => q + Math.max(0, d(X[t.anchor], X[t.positive]) - d(X[t.anchor], X[t.negative]) + 0.1), 0), 0);
      expect(r.mined.ofTop).toHaveLength(6);
      for (const t of r.mined.ofTop) {
        expect([0, 3]).toContain(t.anchor); // high segments
        expect([0, 3]).toContain(t.positive);
        expect([1, 2]).toContain(t.negative); // low segments
      }
      for (const t of r.mined.ofBottom) {
        expect([1, 2]).toContain(t.anchor);
        expect([0, 3]).toContain(t.negative);
      }
      expect(r.terms.ofTop.dataSync()[0]).toBeCloseTo(expectTerm(r.mined.ofTop), 4);
      expect(r.terms.ofBottom.dataSync()[0]).toBeCloseTo(expectTerm(r.mined.ofBottom), 4);
      const total = r.terms.gt.dataSync()[0] + 2 * r.terms.ofTop.dataSync()[0] + 3 * r.terms.ofBottom.dataSync()[0];
      expect(r.total.dataSync()[0]).toBeCloseTo(total, 4);
      // same rng seed → same triplets
      const again = ofVmNetLoss(emb(), ranks, { protocol: 'vmr-code', vmrCode: { ofSamples: 6 } }, { rng: new Rng(7) });
      expect(again.mined.ofTop).toEqual(r.mined.ofTop);
    });
  });
});

describe('VM-Net loss, hand-computed', () => {
  // music x0 = (1,0), x1 = (0,1), x2 = (.6,.8); video y0 = (.8,.6), y1 = (0,1), y2 = (1,0)
  // s = x·yᵀ = [[.8, 0, 1], [.6, 1, 0], [.96, .8, .6]]
  let X: tf.Tensor2D, Y: tf.Tensor2D, rawAudio: tf.Tensor2D, rawVideo: tf.Tensor2D;
  beforeAll(() => {
    X = tf.tensor2d([[1, 0], [0, 1], [0.6, 0.8]]);
    Y = tf.tensor2d([[0.8, 0.6], [0, 1], [1, 0]]);
    rawAudio = tf.tensor2d([[2, 0], [0, 3], [0.6, 0.8]]); // same directions as X → S(m) = 0
    rawVideo = tf.tensor2d([[0.8, 0.6], [1, 0], [0, 1]]); // neighbour order differs from Y's
  });

  it('cross-modal terms with the hardest negative, structure term and weighted total', () => {
    tf.tidy(() => {
      const r = vmNetLoss({ video: Y, audio: X }, { video: rawVideo, audio: rawAudio }, { topK: 1, structureK: 3 });
      // L(m→v): rows: max(0,.5−.8+1) = .7, max(0,.5−1+.6) = .1, max(0,.5−.6+.96) = .86 → mean 1.66/3
      expect(r.terms.mv.dataSync()[0]).toBeCloseTo(1.66 / 3, 5);
      // L(v→m): columns: .5−.8+.96 = .66, .5−1+.8 = .3, .5−.6+1 = .9 → mean 1.86/3
      expect(r.terms.vm.dataSync()[0]).toBeCloseTo(0.62, 5);
      expect(r.terms.sm.dataSync()[0]).toBeCloseTo(0, 6);
      // S(v): only (i=0, j=1 vs 2) flips: coeff = −1 − (+1) = −2, d_emb[0,2] − d_emb[0,1] = −.8 + .6 = −.2
      // → 0.4 over 3·2 pairs
      expect(r.terms.sv.dataSync()[0]).toBeCloseTo(0.4 / 6, 5);
      expect(r.total.dataSync()[0]).toBeCloseTo(3 * (1.66 / 3) + 0.62 + 0.2 * (0.4 / 6), 5);
    });
  });

  it('K hardest negatives are averaged; margin is configuration', () => {
    tf.tidy(() => {
      const r = vmNetLoss({ video: Y, audio: X }, { video: rawVideo, audio: rawAudio }, { topK: 2, margin: 0.1, structureK: 3 });
      // rows with both negatives: x0: max(0,.1−.8+1)=.3, max(0,.1−.8+0)=0; x1: .1−1+.6 → 0, 0; x2: .1−.6+.96=.46, .1−.6+.8=.3
      expect(r.terms.mv.dataSync()[0]).toBeCloseTo((0.3 + 0.46 + 0.3) / 6, 5);
    });
  });

  it('mining helpers: ties by index; high/low segments from ranks', () => {
    expect(topKIndices([1, 3, 3, 2], 2)).toEqual([1, 2]);
    expect(topKIndices([1, 3, 3, 2], 9, (i) => i !== 1)).toEqual([2, 3, 0]);
    expect(highLowSegments([2, 1, 3, 1, 1, 2], 2, 3)).toEqual({ high: [1, 3], low: [2, 5] });
  });

  it('top-k / bottom-k selection equals a full stable sort (random values with ties, filters, k beyond n; the insertion pass up to k = 32, a sort above)', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = rng.int(1, 400);
      const vals = Array.from({ length: n }, () => Math.round(rng.normal() * 4) / 4); // many ties
      const allowed = (i: number) => i % 7 !== trial % 7;
      const idx = Array.from({ length: n }, (_, i) => i).filter(allowed);
      for (const k of [0, 1, 10, 32, 33, n + 3, 1_000_000]) {
        const desc = [...idx].sort((a, b) => vals[b] - vals[a] || a - b).slice(0, k);
        const asc = [...idx].sort((a, b) => vals[a] - vals[b] || a - b).slice(0, k);
        expect(topKIndices(vals, k, allowed)).toEqual(desc);
        expect(bottomKIndices(vals, k, allowed)).toEqual(asc);
      }
    }
  });
});
