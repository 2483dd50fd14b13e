import { type VmrCommand, InvalidArgumentError, printResult, withJson } from '@vmr/core';
import { checkSegmentUnits, importVmrLayout } from './vmr-layout';

export const importCommand: VmrCommand = {
  command: 'import <layout> <dir>',
  describe: "Import precomputed features into a dataset (layout: vmr-layout, the reference code's folders)",
  builder: (y) =>
    withJson(y)
      .positional('layout', { choices: ['vmr-layout'], describe: 'source layout' })
      .positional('dir', { type: 'string', describe: 'source directory' })
      .option('out', { type: 'string', demandOption: true, describe: 'dataset directory to create' })
      .option('flow-fps', { type: 'number', default: 3, describe: 'sample rate of flow/<id>.npy' })
      .option('segment-units', { type: 'string', default: 'auto', describe: 'units of ranks.csv segments: seconds | samples | auto' })
      .option('overwrite', { type: 'boolean', default: false, describe: 'replace an existing dataset' })
      .example('$0 import vmr-layout ~/HIMV --out data/himv', 'HIMV features from the reference code'),
  handler: async (a: Record<string, unknown>) => {
    if (a.layout !== 'vmr-layout') throw new InvalidArgumentError(`unknown layout ${String(a.layout)}`);
    const s = importVmrLayout({
      dir: a.dir as string,
      out: a.out as string,
      flowFps: a['flow-fps'] as number,
      segmentUnits: checkSegmentUnits(String(a['segment-units'])),
      overwrite: a.overwrite as boolean,
    });
    printResult(a.json as boolean, s, () =>
      [
        `${s.out}: ${s.clips} clips imported (${s.extractors.map((e) => `${e.name} ${e.dim}-d`).join(', ')}), ${s.segments} segment rows, splits train ${s.splits.train} / val ${s.splits.val} / test ${s.splits.test}`,
        ...s.failed.map((f) => `  FAILED ${f.source}: ${f.message}`),
      ].join('\n'),
    );
  },
};
