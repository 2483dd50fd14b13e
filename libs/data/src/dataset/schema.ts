import { z } from 'zod';

/** Clip ids are file-name safe: they name `<id>.npy` files in every feature folder. */
export const CLIP_ID_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/; // YouTube ids may start with - or _
/** Extractor and peak-variant names are folder names. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const DATASET_FORMAT = 'vmr-dataset';
export const DATASET_VERSION = 1;

export const extractorInfoSchema = z
  .object({
    name: z.string().regex(NAME_PATTERN, 'extractor name must be a safe folder name'),
    modality: z.enum(['video', 'audio']),
    /** Feature width D. */
    dim: z.number().int().positive(),
    /** Rows per second (1 for every per-second extractor). */
    fps: z.number().positive(),
    /** Where the numbers come from: algorithm, weights file + sha256, package version, or "synthetic". */
    provenance: z.string().min(1),
    /**
     * Machine-comparable provenance (@vmr/features `ExtractorProvenance`: extractor, model id, revision,
     * file sha256s, pre-processing); compare two with `assertSameExtractor`.
     */
    provenanceRecord: z.record(z.unknown()).optional(),
    /** True for stand-in views of a synthetic dataset (reports must say so). */
    synthetic: z.boolean().default(false),
  })
  .strict();
export type ExtractorInfo = z.infer<typeof extractorInfoSchema>;
export type ExtractorInfoInput = z.input<typeof extractorInfoSchema>;

export const clipSourceSchema = z
  .object({
    /** Path as given at ingestion/import time. */
    path: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    sizeBytes: z.number().int().nonnegative(),
  })
  .strict();

export const clipEntrySchema = z
  .object({
    id: z.string().regex(CLIP_ID_PATTERN, 'clip id must match [A-Za-z0-9_-][A-Za-z0-9._-]*'),
    /** `video`: a clip with video (and normally its audio); `music`: an audio-only gallery track. */
    kind: z.enum(['video', 'music']),
    durationSec: z.number().nonnegative(),
    /** T: rows of this clip's per-second feature matrices. */
    seconds: z.number().int().positive(),
    /** Length of flow/<id>.npy (video clips). */
    flowLength: z.number().int().nonnegative().optional(),
    nativeFps: z.number().positive().optional(),
    hasAudio: z.boolean(),
    source: clipSourceSchema.optional(),
    /** Extra facts (codec, resolution, synthetic truth…); free-form. */
    meta: z.record(z.unknown()).optional(),
  })
  .strict();
export type ClipEntry = z.infer<typeof clipEntrySchema>;
export type ClipEntryInput = z.input<typeof clipEntrySchema>;

export const FAILURE_REASONS = [
  'not-found',
  'corrupt',
  'truncated',
  'unreadable-codec',
  'no-video',
  'no-audio',
  'too-short',
  'silent',
  'error',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export const failedEntrySchema = z
  .object({
    source: z.string(),
    id: z.string().optional(),
    reason: z.enum(FAILURE_REASONS),
    /** `failed`: nothing was written; `skipped`: deliberately left out (e.g. too short). */
    status: z.enum(['failed', 'skipped']),
    message: z.string(),
  })
  .strict();
export type FailedEntry = z.infer<typeof failedEntrySchema>;

export const peakVariantSchema = z
  .object({
    video: z.boolean(),
    audio: z.boolean(),
    /** How the peaks were computed. */
    description: z.string(),
  })
  .strict();

export const datasetManifestSchema = z
  .object({
    format: z.literal(DATASET_FORMAT),
    version: z.literal(DATASET_VERSION),
    name: z.string().min(1),
    kind: z.enum(['synthetic', 'media', 'imported']),
    createdAt: z.string(),
    updatedAt: z.string(),
    /** Sample rate of flow/<id>.npy (3 for the paper; imported data may differ). */
    flowFps: z.number().positive(),
    extractors: z.array(extractorInfoSchema),
    clips: z.array(clipEntrySchema),
    failed: z.array(failedEntrySchema).default([]),
    /** Peak variants present under peaks/<variant>/{video,audio}. */
    peaks: z.record(peakVariantSchema).default({}),
    /** segments.csv parameters when the file is present. */
    segments: z
      .object({ file: z.literal('segments.csv'), params: z.record(z.unknown()), skipped: z.array(z.object({ id: z.string(), reason: z.string() })).default([]) })
      .strict()
      .optional(),
    /** Clip counts per split when splits/*.txt are present. */
    splits: z.object({ train: z.number().int(), val: z.number().int(), test: z.number().int() }).strict().optional(),
    /** Free-form provenance (tool versions, command line, generator config…). */
    provenance: z.record(z.unknown()).default({}),
  })
  .strict();
export type DatasetManifest = z.infer<typeof datasetManifestSchema>;

export type Modality = 'video' | 'audio';
export type SplitName = 'train' | 'val' | 'test';
export const SPLIT_NAMES: readonly SplitName[] = ['train', 'val', 'test'];
