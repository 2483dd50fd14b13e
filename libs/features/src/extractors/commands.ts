import { type VmrCommand, InvalidArgumentError, createProgress, printResult, withJson } from '@vmr/core';
import { listExtractors } from './registry';
import { modelCacheDir, parseModelArgs } from './model-source';
import { type ExtractorProvenance, PRETRAINED_EXTRACTORS, isPretrainedExtractor, pretrainedDefaultSource, pretrainedModelFiles, resolveExtractor } from './pretrained';

/** `vmr models fetch` / `vmr models list`: get pretrained extractor models into the cache ahead of time. */
export const modelsCommand: VmrCommand = {
  command: 'models <action>',
  describe: 'Pretrained extractor models (clip, resnet, vggish, i3d): fetch into the cache, or list what is there',
  builder: (y) =>
    withJson(y)
      .positional('action', { choices: ['fetch', 'list'], describe: 'fetch: download (or check) models; list: extractors, sources and the cache' })
      .option('extractor', { type: 'string', array: true, describe: 'extractors to fetch (default: clip resnet, plus every --model name)' })
      .option('model', { type: 'string', array: true, describe: 'model source: name=SOURCE (Hugging Face repo org/name[@rev], URL, or local folder/file)' })
      .option('model-cache', { type: 'string', describe: 'model cache directory (default $VMR_MODEL_CACHE or ~/.cache/vmr/models)' })
      .option('offline', { type: 'boolean', describe: 'only check the cache; never download (also VMR_OFFLINE=1)' })
      .example('$0 models fetch', 'download the default CLIP ViT-B/32 and ResNet-50 exports once')
      .example('$0 models fetch --model vggish=https://example.org/vggish.onnx --model i3d=org/i3d-onnx', 'VGGish from a URL, I3D from a Hugging Face repo')
      .example('$0 models list --json', 'what each extractor needs and what is cached'),
  handler: async (a: Record<string, unknown>) => {
    const sources = parseModelArgs(a.model as string[] | undefined) ?? {};
    const cacheDir = (a['model-cache'] as string | undefined) ?? modelCacheDir();
    if (a.action === 'list') {
      const rows = listExtractors().map((e) => ({
        name: e.name,
        modality: e.modality,
        dim: e.dim,
        kind: e.kind,
        defaultSource: isPretrainedExtractor(e.name) ? pretrainedDefaultSource(e.name) ?? null : null,
        files: isPretrainedExtractor(e.name) ? pretrainedModelFiles(e.name) : [],
      }));
      printResult(a.json as boolean, { cacheDir, extractors: rows }, () =>
        [`model cache: ${cacheDir}`, ...rows.map((r) => `  ${r.name.padEnd(14)} ${r.modality} ${String(r.dim).padStart(4)}-d  ${r.kind}${r.kind === 'pretrained' ? `  default: ${r.defaultSource ?? '(none: --model needed)'}  files: ${r.files.join(', ')}` : ''}`)].join('\n'),
      );
      return;
    }
    const names = (a.extractor as string[] | undefined) ?? [...new Set(['clip', 'resnet', ...Object.keys(sources)])];
    const results: Array<{ name: string; dir?: string; provenance: ExtractorProvenance }> = [];
    for (const name of names) {
      if (!isPretrainedExtractor(name)) throw new InvalidArgumentError(`--extractor ${name}: not a pretrained extractor (${PRETRAINED_EXTRACTORS.join(', ')})`);
      const bars = new Map<string, ReturnType<typeof createProgress>>();
      try {
        const x = await resolveExtractor(name, {
          source: sources[name],
          cacheDir,
          offline: a.offline as boolean | undefined,
          onProgress: (f, done, total) => {
            let b = bars.get(f);
            if (!b) bars.set(f, (b = createProgress({ label: `${name} ${f}`, total: Math.max(1, total), unit: 'bytes', quiet: Boolean(a.json) })));
            b.update(done);
          },
        });
        results.push({ name, dir: x.modelDir, provenance: x.provenance });
      } finally {
        for (const b of bars.values()) b.stop();
      }
    }
    printResult(a.json as boolean, results, () =>
      results.map((r) => `${r.name}: ${r.provenance.model!.id}${r.provenance.model!.resolvedRevision ? ` (${r.provenance.model!.resolvedRevision})` : ''} → ${r.dir}\n${r.provenance.model!.files.map((f) => `  ${f.path}  ${f.sizeBytes} B  sha256:${f.sha256}`).join('\n')}`).join('\n'),
    );
  },
};
