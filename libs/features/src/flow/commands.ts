import * as path from 'path';
import { type VmrCommand, InvalidArgumentError, printResult, withJson } from '@vmr/core';
import { readImage } from '../media/decode';
import { analyzeVideo } from './trajectory';
import { flowBetweenImages, meanFlowMagnitude } from './farneback';
import { writeFlo } from './flo';

interface FlowArgs {
  video?: string;
  pair?: string[];
  out?: string;
  'max-seconds'?: number;
  json: boolean;
}

/** `vmr flow <video> [--json]` and `vmr flow --pair a.png b.png --out flow.flo`. */
export const flowCommand: VmrCommand = {
  command: 'flow [video]',
  describe: 'Optical-flow trajectory of a video (Farnebäck, DESIGN.md §1.1), or dense flow of one image pair',
  builder: (y) =>
    withJson(y)
      .positional('video', { type: 'string', describe: 'video file' })
      .option('pair', { type: 'string', array: true, describe: 'two images: dense flow from the first to the second' })
      .option('out', { type: 'string', describe: 'with --pair: write the flow field as Middlebury .flo' })
      .option('max-seconds', { type: 'number', describe: 'only the first S seconds of the video' })
      .example('$0 flow clip.mp4 --json', 'print {"fps", "trajectory"}')
      .example('$0 flow --pair frame10.png frame11.png --out flow.flo', 'dense flow of an image pair'),
  handler: async (args: Record<string, unknown>) => {
    const argv = args as unknown as FlowArgs;
    if (argv.pair) {
      if (argv.pair.length !== 2) throw new InvalidArgumentError(`--pair needs exactly two images, got ${argv.pair.length}`);
      if (argv.video) throw new InvalidArgumentError('give either a video or --pair, not both');
      const [a, b] = await Promise.all(argv.pair.map((p) => readImage(p)));
      const flow = await flowBetweenImages(a, b);
      if (argv.out) writeFlo(argv.out, flow);
      const result = { width: flow.width, height: flow.height, meanMagnitude: meanFlowMagnitude(flow), out: argv.out ? path.resolve(argv.out) : null };
      printResult(argv.json, result, () => `${flow.width}x${flow.height} flow, mean magnitude ${result.meanMagnitude.toFixed(4)} px${argv.out ? `, written to ${argv.out}` : ''}`);
      return;
    }
    if (!argv.video) throw new InvalidArgumentError('give a video file, or --pair a.png b.png');
    const a = await analyzeVideo(argv.video, { maxSeconds: argv['max-seconds'] });
    printResult(argv.json, { fps: a.flowFps, trajectory: a.trajectory, flowEngine: a.flowEngine }, () =>
      `${argv.video}: ${a.trajectory.length} samples at ${a.flowFps} fps (native ${a.nativeFps.toFixed(3)}; flow: ${a.flowEngine}); mean ${(a.trajectory.reduce((s, x) => s + x, 0) / a.trajectory.length).toFixed(4)} px\n` +
      a.trajectory.map((v) => v.toFixed(4)).join(' '),
    );
  },
};

export const flowCommands: VmrCommand[] = [flowCommand];
