import { Rng, ConfigError, InvalidArgumentError } from '@vmr/core';
import { tf, linear, dropout } from '@vmr/core/tf';
import { VmNetConfigSchema, type VmNetConfig, type VmNetConfigInput } from './config';
import { ParamSet, addGlorotLinear, mixSeed } from './params';
import { l2Normalize } from './segment-encoder';

/** Time-averaged clip features: video `[B, Dv]`, audio `[B, Da]`. */
export interface ClipBatch {
  video: tf.Tensor;
  audio: tf.Tensor;
}

/** L2-normalised clip embeddings `[B, embedDim]`. */
export interface ClipEmbeddings {
  video: tf.Tensor2D;
  audio: tf.Tensor2D;
}

export interface VmNet {
  readonly kind: 'vm-net';
  readonly config: VmNetConfig;
  readonly seed: number;
  readonly params: ParamSet;
  forwardCount: number;
  /**
   * Training mode uses batch statistics and updates the moving averages (momentum
   * `batchNormMomentum`); evaluation mode uses the moving statistics and no dropout.
   */
  forward(batch: ClipBatch, options: { training: boolean; dropoutSeed?: number }): ClipEmbeddings;
  dispose(): void;
}

export function parseVmNetConfig(config: VmNetConfigInput): VmNetConfig {
  const r = VmNetConfigSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`invalid VM-Net config at '${issue.path.join('.')}': ${issue.message}`, {
      details: { path: issue.path.join('.'), issues: r.error.issues },
    });
  }
  return r.data;
}

interface LayerSpec {
  name: string;
  units: number;
  batchNorm: boolean;
  relu: boolean;
}

function branchLayers(prefix: string, hidden: Array<{ units: number; batchNorm: boolean }>, out: number, outBn: boolean): LayerSpec[] {
  const ls: LayerSpec[] = hidden.map((h, i) => ({ name: `${prefix}.fc${i}`, units: h.units, batchNorm: h.batchNorm, relu: true }));
  ls.push({ name: `${prefix}.fc${hidden.length}`, units: out, batchNorm: outBn, relu: false });
  return ls;
}

/** Create a VM-Net (two MLP branches) with TF-reference initialisation (glorot normal, zero bias). */
export function createVmNet(configInput: VmNetConfigInput, seed: number): VmNet {
  const config = parseVmNetConfig(configInput);
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`model seed must be an integer, got ${seed}`);
  const rng = new Rng(seed);
  const params = new ParamSet();
  const branches = {
    audio: branchLayers('audio', config.audioHidden, config.embedDim, config.outputBatchNorm),
    video: branchLayers('video', config.videoHidden, config.embedDim, config.outputBatchNorm),
  };
  for (const [modality, layers] of Object.entries(branches)) {
    let fanIn = modality === 'audio' ? config.audioDim : config.videoDim;
    for (const l of layers) {
      addGlorotLinear(params, rng, l.name, fanIn, l.units);
      if (l.batchNorm) {
        params.add(`${l.name}.bn.gamma`, tf.ones([l.units]));
        params.add(`${l.name}.bn.beta`, tf.zeros([l.units]));
        params.add(`${l.name}.bn.movingMean`, tf.zeros([l.units]), false);
        params.add(`${l.name}.bn.movingVariance`, tf.ones([l.units]), false);
      }
      fanIn = l.units;
    }
  }

  const runBranch = (x: tf.Tensor, layers: LayerSpec[], training: boolean, seedBase: number): tf.Tensor => {
    let h = x;
    layers.forEach((l, i) => {
      h = linear(h, params.get(`${l.name}.weight`), params.get(`${l.name}.bias`));
      if (l.batchNorm) {
        const gamma = params.get(`${l.name}.bn.gamma`);
        const beta = params.get(`${l.name}.bn.beta`);
        const mm = params.get(`${l.name}.bn.movingMean`);
        const mv = params.get(`${l.name}.bn.movingVariance`);
        let mean: tf.Tensor;
        let variance: tf.Tensor;
        if (training) {
          const m = tf.moments(h, 0);
          mean = m.mean;
          variance = m.variance;
          const k = config.batchNormMomentum;
          const newMean = tf.add(tf.mul(mm, k), tf.mul(tf.clone(mean), 1 - k));
          const newVar = tf.add(tf.mul(mv, k), tf.mul(tf.clone(variance), 1 - k));
          mm.assign(newMean);
          mv.assign(newVar);
        } else {
          mean = mm;
          variance = mv;
        }
        h = tf.add(tf.mul(tf.mul(tf.sub(h, mean), tf.rsqrt(tf.add(variance, config.batchNormEps))), gamma), beta);
      }
      if (l.relu) {
        h = tf.relu(h);
        if (training && config.dropout > 0) h = dropout(h, config.dropout, mixSeed(seedBase, i));
      }
    });
    return l2Normalize(h);
  };

  const model: VmNet = {
    kind: 'vm-net',
    config,
    seed,
    params,
    forwardCount: 0,
    forward(batch, options) {
      const { video, audio } = batch;
      if (video.rank !== 2 || audio.rank !== 2 || video.shape[0] !== audio.shape[0]) {
        throw new InvalidArgumentError(`VM-Net batch must be video [B, Dv] and audio [B, Da]; got [${video.shape}] and [${audio.shape}]`);
      }
      if (video.shape[1] !== config.videoDim) throw new InvalidArgumentError(`batch video dim ${video.shape[1]} ≠ model videoDim ${config.videoDim}`);
      if (audio.shape[1] !== config.audioDim) throw new InvalidArgumentError(`batch audio dim ${audio.shape[1]} ≠ model audioDim ${config.audioDim}`);
      if (options.training && video.shape[0] < 2) throw new InvalidArgumentError('VM-Net training needs a batch of at least 2 clips (batch norm)');
      let ds = options.dropoutSeed;
      if (options.training && ds === undefined) {
        ds = mixSeed(seed, model.forwardCount);
        model.forwardCount += 1;
      }
      return {
        video: runBranch(video, branches.video, options.training, mixSeed(ds ?? 0, 1)) as tf.Tensor2D,
        audio: runBranch(audio, branches.audio, options.training, mixSeed(ds ?? 0, 2)) as tf.Tensor2D,
      };
    },
    dispose() {
      params.dispose();
    },
  };
  return model;
}
