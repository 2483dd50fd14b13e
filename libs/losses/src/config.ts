import { z } from 'zod';

const nonNeg = z.number().min(0);

/**
 * OF-VM-Net loss (DESIGN.md §1.4). `paper`: six hinge terms λ1…λ6 with hardest-k mining per term;
 * `vmr-code`: the reference code's three-term loss.
 */
export const OfLossConfigSchema = z
  .object({
    protocol: z.enum(['paper', 'vmr-code']).default('paper'),
    lambdas: z
      .object({ l1: nonNeg.default(1), l2: nonNeg.default(1), l3: nonNeg.default(1), l4: nonNeg.default(1), l5: nonNeg.default(1), l6: nonNeg.default(1) })
      .strict()
      .default({}),
    /** Most-violated triplets kept per term per batch (paper: 10). */
    topK: z.number().int().positive().default(10),
    /** Hinge margin (paper: 0). */
    margin: z.number().min(0).default(0),
    /** How a term combines its mined triplets (paper: Σ). */
    reduction: z.enum(['sum', 'mean']).default('sum'),
    vmrCode: z
      .object({
        /** Hardest positives / negatives in the batch-global GT term. */
        gtTopK: z.number().int().positive().default(16),
        /** Random optical-flow triplets per OF term. */
        ofSamples: z.number().int().positive().default(16),
        /** TripletMarginLoss margin (Euclidean distance). */
        margin: z.number().min(0).default(0.1),
        /** Weights of (GT, OF top, OF bottom). */
        weights: z.tuple([nonNeg, nonNeg, nonNeg]).default([0.33, 0.33, 0.33]),
      })
      .strict()
      .default({}),
  })
  .strict();
export type OfLossConfig = z.infer<typeof OfLossConfigSchema>;
export type OfLossConfigInput = z.input<typeof OfLossConfigSchema>;

/**
 * VM-Net loss: Loss = w.mv·L(m→v) + w.vm·L(v→m) + w.sm·S(m) + w.sv·S(v), cosine distance, K hardest
 * negatives per anchor, margin 0.5 (original VM-Net paper: 0.1).
 */
export const VmNetLossConfigSchema = z
  .object({
    margin: z.number().min(0).default(0.5),
    topK: z.number().int().positive().default(10),
    /** Samples (the first K of the batch) used by the structure term. */
    structureK: z.number().int().min(2).default(10),
    weights: z
      .object({ mv: nonNeg.default(3), vm: nonNeg.default(1), sm: nonNeg.default(0.2), sv: nonNeg.default(0.2) })
      .strict()
      .default({}),
  })
  .strict();
export type VmNetLossConfig = z.infer<typeof VmNetLossConfigSchema>;
export type VmNetLossConfigInput = z.input<typeof VmNetLossConfigSchema>;
