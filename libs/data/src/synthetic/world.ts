import { Rng } from '@vmr/core';
import type { SynthBlock, SynthConfig, SynthView } from './config';

/**
 * The fixed "world" of the synthetic benchmark: for every feature block, the linear maps from the
 * latent factors to feature dimensions. They come from a constant seed (not the dataset seed), so every
 * synthetic dataset — any seed, either preset — speaks the same feature language, like real ResNet
 * features computed by one network; `domainShift` rotates the style maps towards a second fixed set.
 */
export const WORLD_SEED = 'vmr-synthetic-world/v1';

/** Number of motion / energy descriptor components per second (see `motionDescriptor`). */
export const MOTION_DESCRIPTOR_DIM = 3;

/** Linear maps of one block, row-major `[dim, ·]`. */
export interface BlockMaps {
  name: string;
  dim: number;
  /** [dim, k]: style → features, entries N(0, 1/k), domain-shifted. */
  style: Float32Array;
  /** [dim, 3]: motion descriptor → features, entries N(0, 1/3). */
  motion: Float32Array;
  /** [dim, k]: per-clip nuisance → features, entries N(0, 1/k). */
  nuisance: Float32Array;
  /** [dim]: per-dimension mean, N(0, 0.5²). */
  offset: Float32Array;
}

export interface ViewMaps {
  name: string;
  dim: number;
  blocks: BlockMaps[];
}

function gaussian(rng: Rng, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.normal(0, std);
  return out;
}

function blockMaps(block: SynthBlock, viewName: string, k: number, shift: number): BlockMaps {
  const root = new Rng(WORLD_SEED).fork(`${viewName}/${block.name}/${block.dim}`);
  const sStd = 1 / Math.sqrt(k);
  const base = gaussian(root.fork(`style/${k}`), block.dim * k, sStd);
  let style = base;
  if (shift > 0) {
    const other = gaussian(root.fork(`style-shifted/${k}`), block.dim * k, sStd);
    const theta = (shift * Math.PI) / 2;
    const c = Math.cos(theta);
    const s = Math.sin(theta);
    style = new Float32Array(base.length);
    for (let i = 0; i < base.length; i++) style[i] = c * base[i] + s * other[i];
  }
  return {
    name: block.name,
    dim: block.dim,
    style,
    motion: gaussian(root.fork('motion'), block.dim * MOTION_DESCRIPTOR_DIM, 1 / Math.sqrt(MOTION_DESCRIPTOR_DIM)),
    nuisance: gaussian(root.fork(`nuisance/${k}`), block.dim * k, sStd),
    offset: gaussian(root.fork('offset'), block.dim, 0.5),
  };
}

function viewMaps(view: SynthView, k: number, shift: number): ViewMaps {
  const blocks = view.blocks.map((b) => blockMaps(b, view.name, k, shift));
  return { name: view.name, dim: blocks.reduce((s, b) => s + b.dim, 0), blocks };
}

/** The maps of every video view and of the audio view (computed once per dataset). */
export interface WorldMaps {
  views: ViewMaps[];
  audio: ViewMaps;
}

export function buildWorld(config: SynthConfig): WorldMaps {
  return {
    views: config.views.map((v) => viewMaps(v, config.styleDim, config.domainShift)),
    audio: viewMaps(config.audio, config.styleDim, config.domainShift),
  };
}
