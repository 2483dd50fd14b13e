import * as fs from 'fs';
import { InvalidArgumentError, NotFoundError, UnsupportedError } from '@vmr/core';
import { BUILTIN_VIDEO_DIM } from './builtin-video';
import { BUILTIN_AUDIO_DIM, BUILTIN_AUDIO_SR } from './builtin-audio';

export type ExtractorModality = 'video' | 'audio';
/** `builtin`: no weights; `package-weights`: weights shipped in an npm package; `model-file`: user-supplied model. */
export type ExtractorKind = 'builtin' | 'package-weights' | 'model-file';

export interface ExtractorSpec {
  name: string;
  modality: ExtractorModality;
  /** Feature width D. */
  dim: number;
  /** Rows per second. */
  fps: number;
  kind: ExtractorKind;
  description: string;
  /** Whether this build can compute it (model-file and mobilenetv2 extractors are follow-ups). */
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
  resnet: { name: 'resnet', modality: 'video', dim: 2048, fps: 1, kind: 'model-file', implemented: true, description: 'ResNet-101 pooled features from a user-supplied image model (TF.js model.json or NHWC .onnx), ImageNet normalisation, 1 frame per second' },
  clip: { name: 'clip', modality: 'video', dim: 512, fps: 1, kind: 'model-file', implemented: true, description: 'CLIP ViT-B/32 image embeddings from a user-supplied image model (TF.js model.json or NHWC .onnx), CLIP normalisation, 1 frame per second' },
  i3d: { name: 'i3d', modality: 'video', dim: 2048, fps: 1, kind: 'model-file', implemented: false, description: 'I3D flow ‖ rgb (1024 + 1024) from a user-supplied model file' },
  vggish: { name: 'vggish', modality: 'audio', dim: 128, fps: 1, kind: 'model-file', implemented: false, description: 'VGGish embeddings from a user-supplied model file' },
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
 * Resolve extractor names for a run, checking up front that each can be computed: unknown names,
 * a model-file extractor without its `modelPaths[name]`, or a path that does not exist are errors
 * naming the extractor and the path.
 */
export function resolveExtractors(names: readonly string[], modality: ExtractorModality, modelPaths: Readonly<Record<string, string>> = {}): ExtractorSpec[] {
  const out: ExtractorSpec[] = [];
  for (const name of names) {
    const e = getExtractor(name, modality);
    if (e.kind === 'model-file') {
      const p = modelPaths[name];
      if (!p) throw new InvalidArgumentError(`extractor ${name} needs a model file: pass --model ${name}=<path to model.json or .onnx>`, { details: { name } });
      if (!fs.existsSync(p)) throw new NotFoundError(`model file for extractor ${name} not found: ${p}`, { details: { name, path: p } });
    }
    if (!e.implemented) {
      throw new UnsupportedError(
        `extractor ${name} cannot be computed by vmr ingest yet (${name === 'i3d' ? 'I3D needs 25 fps RGB and optical-flow stacks' : 'VGGish needs its own 16 kHz log-mel example framing'}); ` +
          `import precomputed ${name} features with \`vmr import vmr-layout\`, or use builtin-${modality}`,
        { details: { name } },
      );
    }
    if (out.some((x) => x.name === name)) throw new InvalidArgumentError(`extractor ${name} listed twice`);
    out.push(e);
  }
  return out;
}
