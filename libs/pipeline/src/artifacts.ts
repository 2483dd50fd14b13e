/** Artifact paths a training run writes (the trainer) and reads back (the evaluator, resume). */
export const TRAIN_ARTIFACTS = {
  config: 'config.json',
  latest: 'checkpoints/latest.ckpt',
  final: 'checkpoints/final.ckpt',
  epoch: (e: number) => `checkpoints/epoch-${String(e).padStart(4, '0')}.ckpt`,
} as const;
