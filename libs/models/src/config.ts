import { z } from 'zod';

/** Pooling of token states into one segment vector (DESIGN.md §1.3). */
export const PoolingSchema = z.enum(['masked-mean', 'mean-all']);
export type Pooling = z.infer<typeof PoolingSchema>;

/**
 * OF-VM-Net: one transformer segment encoder per modality (DESIGN.md §1.3). Defaults are the
 * reference-code values except `pooling` (ours: `masked-mean`; the reference averages all `maxLen`
 * positions, padding included: `mean-all`).
 */
export const OfVmNetConfigSchema = z
  .object({
    kind: z.literal('of-vm-net').default('of-vm-net'),
    /** Video feature dim (ResNet/I3D 2048, CLIP 512). */
    videoDim: z.number().int().positive(),
    /** Audio feature dim (VGGish 128). */
    audioDim: z.number().int().positive().default(128),
    /** E: model and embedding width. */
    embedDim: z.number().int().positive().default(32),
    heads: z.number().int().positive().default(4),
    layers: z.number().int().nonnegative().default(4),
    /** F: feed-forward width. */
    ffnDim: z.number().int().positive().default(2048),
    dropout: z.number().min(0).lt(1).default(0.1),
    /** Maximum tokens per segment (L); positions are sinusoidal over [0, maxLen). */
    maxLen: z.number().int().positive().default(200),
    layerNormEps: z.number().positive().default(1e-5),
    pooling: PoolingSchema.default('masked-mean'),
    /**
     * PyTorch's nn.TransformerEncoder deep-copies one initialised layer, so every layer starts with the
     * same weights; `true` reproduces that, `false` initialises each layer independently.
     */
    identicalLayerInit: z.boolean().default(true),
    /**
     * Masked-mean packing: sequences are sorted by length and padded only within up to this many
     * groups for attention (exact; a speed knob only).
     */
    maxAttentionGroups: z.number().int().positive().default(12),
  })
  .strict()
  .refine((c) => c.embedDim % c.heads === 0, { message: 'embedDim must be divisible by heads', path: ['heads'] });
export type OfVmNetConfig = z.infer<typeof OfVmNetConfigSchema>;
export type OfVmNetConfigInput = z.input<typeof OfVmNetConfigSchema>;

/** One hidden layer of a VM-Net branch: fc → (BN) → ReLU → dropout. */
export const VmNetLayerSchema = z.object({
  units: z.number().int().positive(),
  batchNorm: z.boolean().default(false),
});

/**
 * VM-Net (reference-code version, DESIGN.md §1.4). Music (audio) branch fc 2048 → BN → ReLU → dropout →
 * fc 1024 → ReLU → dropout → fc 512 → BN → L2; video branch fc 2048 → BN → ReLU → dropout → fc 512 → BN → L2.
 */
export const VmNetConfigSchema = z
  .object({
    kind: z.literal('vm-net').default('vm-net'),
    videoDim: z.number().int().positive(),
    audioDim: z.number().int().positive().default(128),
    embedDim: z.number().int().positive().default(512),
    audioHidden: z.array(VmNetLayerSchema).default([
      { units: 2048, batchNorm: true },
      { units: 1024, batchNorm: false },
    ]),
    videoHidden: z.array(VmNetLayerSchema).default([{ units: 2048, batchNorm: true }]),
    /** Batch norm on the output layer before L2 normalisation. */
    outputBatchNorm: z.boolean().default(true),
    /** Dropout rate (reference: keep_prob 0.9). */
    dropout: z.number().min(0).lt(1).default(0.1),
    /** Batch-norm epsilon and moving-average momentum (TF defaults 1e-3, 0.99). */
    batchNormEps: z.number().positive().default(1e-3),
    batchNormMomentum: z.number().min(0).lt(1).default(0.99),
  })
  .strict();
export type VmNetConfig = z.infer<typeof VmNetConfigSchema>;
export type VmNetConfigInput = z.input<typeof VmNetConfigSchema>;

export const ModelConfigSchema = z.union([OfVmNetConfigSchema, VmNetConfigSchema]);
export type ModelConfig = OfVmNetConfig | VmNetConfig;
