/**
 * @vmr/models — OF-VM-Net (per-modality transformer segment encoders) and VM-Net (MLP branches),
 * Adam with PyTorch semantics, training-step helper, single-file checkpoints. DESIGN.md §1.3–§1.5.
 */
export {
  PoolingSchema,
  type Pooling,
  OfVmNetConfigSchema,
  type OfVmNetConfig,
  type OfVmNetConfigInput,
  VmNetConfigSchema,
  VmNetLayerSchema,
  type VmNetConfig,
  type VmNetConfigInput,
  ModelConfigSchema,
  type ModelConfig,
} from './config';
export { ParamSet, mixSeed } from './params';
export { planPacking, planCost, type PackPlan, type AttentionGroup } from './packing';
export { sinusoidalPositions, l2Normalize } from './segment-encoder';
export {
  createOfVmNet,
  parseOfVmNetConfig,
  clipEmbeddings,
  type OfVmNet,
  type SegmentBatch,
  type HostTensor,
  type SegmentEmbeddings,
  type ForwardOptions,
} from './of-vm-net';
export { createVmNet, parseVmNetConfig, type VmNet, type ClipBatch, type ClipEmbeddings } from './vm-net';
export { Adam, AdamConfigSchema, type AdamConfig, type AdamState, trainStep, type LossOutput, type StepResult } from './adam';
export { trainStepOfVmNet, type OfVmNetStepOptions } from './chunked-step';
export { saveCheckpoint, loadCheckpoint, restoreFromCheckpoint, createModel, type Model, type Checkpoint } from './checkpoint';
export { ReplicaPool, type ReplicaPoolOptions, type ReplicaGradients } from './replicas/pool';
