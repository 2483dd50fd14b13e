import { InvalidArgumentError, UnsupportedError } from '@vmr/core';
import { BUILTIN_VIDEO_DIM } from './builtin-video';
import { BUILTIN_AUDIO_DIM, BUILTIN_AUDIO_SR } from './builtin-audio';

export type ExtractorModality = 'video' | 'audio';
/**
 * `builtin`: no weights; `package-weights`: weights shipped in an npm package; `pretrained`: a model
 * fetched by name (Hugging Face repo, URL) or given as local files, cached (see pretrained.ts).
 */
export type ExtractorKind = 'builtin' | 'package-weights' | 'pretrained';

export interface ExtractorSpec {
  name: string;
  modality: ExtractorModality;
  /** Feature width D. */
  dim: number;
  /** Rows per second. */
  fps: number;
  kind: ExtractorKind;
  description: string;
  /** Whether this build can compute it. */
  implemented: boolean;
}

export const EXTRACTORS: Readonly<Record<string, ExtractorSpec>> = Object.freeze({
  'builtin-video': {
    name: 'builtin-video', modality: 'video', dim: BUILTIN_VIDEO_DIM, fps: 1, kind: 'builtin', implemented: true,
    description: 'colour, grey histogram, gradient and Farnebäck flow statistics of the 320x240 flow frames, averaged per second (see BUILTIN_VIDEO_COLUMNS)',
  },
  'builtin-audio': {
    name: 'builtin-audio', modality: 'audio', dim: BUILTIN_AUDIO_DIM, fps: 1, kind: 'builtin', implemented: true,
    description: `log-mel (64 bands) means/stds, band flux and onset/energy/spectral statistics per second at ${BUILTIN_AUDIO_SR} Hz`,
  },
  mobilenetv2: {
    name: 'mobilenetv2', modality: 'video', dim: 1280, fps: 1, kind: 'package-weights', implemented: true,
    description: 'MobileNetV2 penultimate layer (weights shipped in the nsfwjs npm package), 1 frame per second',
  },
  resnet: { name: 'resnet', modality: 'video', dim: 2048, fps: 1, kind: 'pretrained', implemented: true, description: 'ResNet-50 pooled features (transformers.js), torchvision ImageNet pre-processing (resize 256, crop 224), 1 frame per second' },
  clip: { name: 'clip', modality: 'video', dim: 512, fps: 1, kind: 'pretrained', implemented: true, description: 'CLIP ViT-B/32 image embeddings (transformers.js), CLIP pre-processing (bicubic resize 224, crop 224), 1 frame per second' },
  i3d: { name: 'i3d', modality: 'video', dim: 2048, fps: 1, kind: 'pretrained', implemented: true, description: 'I3D flow ‖ rgb (1024 + 1024, onnxruntime-node): 64-frame stacks at 25 fps, one per second' },
  vggish: { name: 'vggish', modality: 'audio', dim: 128, fps: 1, kind: 'pretrained', implemented: true, description: 'VGGish embeddings (onnxruntime-node) of 0.96 s 16 kHz log-mel examples, one per second' },
});

export function listExtractors(modality?: ExtractorModality): ExtractorSpec[] {
  return Object.values(EXTRACTORS).filter((e) => !modality || e.modality === modality);
}

export function getExtractor(name: string, modality?: ExtractorModality): ExtractorSpec {
  const e = EXTRACTORS[name];
  if (!e || (modality && e.modality !== modality)) {
    const names = listExtractors(modality).map((x) => x.name);
    throw new InvalidArgumentError(`unknown ${modality ?? ''} extractor "${name}"; available: ${names.join(', ')}`.replace('  ', ' '), { details: { name } });
  }
  return e;
}

/**
 * Resolve extractor names for a run, checking up front what can be checked without loading a model:
 * unknown names, names listed twice, and pretrained extractors without a default download that were
 * given no `--model NAME=SOURCE` (`sources[name]`). Models are made available by `resolveExtractor`.
 */
export function resolveExtractors(names: readonly string[], modality: ExtractorModality, sources: Readonly<Record<string, string>> = {}): ExtractorSpec[] {
  const out: ExtractorSpec[] = [];
  for (const name of names) {
    const e = getExtractor(name, modality);
    if (e.kind === 'pretrained' && !sources[name] && (name === 'vggish' || name === 'i3d')) {
      throw new InvalidArgumentError(
        `extractor ${name} has no default model download: pass --model ${name}=<URL, Hugging Face repo or local ${name === 'i3d' ? 'folder with i3d_rgb.onnx and i3d_flow.onnx' : 'vggish.onnx'}> (see libs/features/README.md)`,
        { details: { name } },
      );
    }
    if (e.kind !== 'pretrained' && sources[name]) throw new InvalidArgumentError(`extractor ${name} takes no model: drop --model ${name}=...`, { details: { name } });
    if (!e.implemented) throw new UnsupportedError(`extractor ${name} cannot be computed by this build`, { details: { name } });
    if (out.some((x) => x.name === name)) throw new InvalidArgumentError(`extractor ${name} listed twice`);
    out.push(e);
  }
  return out;
}
