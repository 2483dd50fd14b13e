import type { Argv } from 'yargs';
import { ConfigError, printResult, type VmrCommand } from '@vmr/core';
import { withStore } from '@vmr/tracking';
import { loadTrainConfig } from '@vmr/pipeline';
import { resumeRun, trainRun, type TrainResult } from './train';

function fmt(x: number | undefined, digits = 4): string {
  return x === undefined || Number.isNaN(x) ? '—' : Number(x.toPrecision(digits)).toString();
}

/** Human summary of a training result. */
export function formatTrainResult(r: TrainResult): string {
  const lines = [
    `run ${r.runId} ${r.status}: ${r.config.model} on ${r.config.features} (seed ${r.config.seed}), ${r.steps} steps, ${r.epochsDone}/${r.config.epochs} epochs in ${r.seconds.toFixed(1)} s on ${r.backend}`,
    `final train loss ${fmt(r.finalLoss)}` +
      (r.val ? ` · validation R@1 ${fmt(r.val.r1, 3)} R@5 ${fmt(r.val.r5, 3)} R@10 ${fmt(r.val.r10, 3)} median rank ${fmt(r.val.medianRank, 3)}` : ''),
  ];
  if (r.resumeHint) lines.push(`checkpoint saved; continue with: ${r.resumeHint}`);
  else lines.push(`next: vmr eval --run ${r.runId.slice(0, 8)} --dataset ${r.config.dataset}`);
  return lines.join('\n');
}

const train: VmrCommand = {
  command: 'train',
  describe: 'train VM-Net or OF-VM-Net from a YAML config and log the run (params, loss terms, validation Recall@k, checkpoints)',
  builder: (y: Argv) =>
    withStore(y)
      .option('config', { alias: 'c', type: 'string', describe: 'YAML config (see experiments/*.yaml); keys are validated, unknown keys are errors' })
      .option('set', { type: 'string', array: true, describe: 'override a config key: key.path=value (value parsed as JSON when possible)' })
      .option('resume', { type: 'string', describe: 'continue a killed run (id or unique prefix) from its last checkpoint' })
      .option('interrupt-after-steps', { type: 'number', hidden: true, describe: 'testing: send SIGINT to this process after N steps' })
      .option('json', { type: 'boolean', default: false, describe: 'print the result as JSON' })
      .example('$0 train --config experiments/quickstart.yaml --set model=vm-net --set features=clip', 'train VM-Net on the CLIP view')
      .example('$0 train -c experiments/table1.yaml --set seed=1 --set loss.lambdas.l3=0', 'a λ3 ablation')
      .example('$0 train -c experiments/quickstart.yaml --set replicas=2', 'one OF-VM-Net run on 2 cores (exact data-parallel replicas)')
      .example('$0 train --resume 3f2a', 'continue a run that was interrupted (Ctrl-C saves a checkpoint)'),
  handler: async (a: Record<string, unknown>) => {
    const sets = (a.set as string[] | undefined) ?? [];
    const options = {
      trackingUri: a['tracking-uri'] as string | undefined,
      store: a.store as string | undefined,
      interruptAfterSteps: a['interrupt-after-steps'] as number | undefined,
    };
    let result: TrainResult;
    if (a.resume) {
      if (a.config || sets.length) throw new ConfigError('--resume continues a run with its own config; do not pass --config or --set with it');
      result = await resumeRun(String(a.resume), options);
    } else {
      if (!a.config && sets.length === 0) throw new ConfigError('give --config <yaml> (and optionally --set key=value), or --resume <run id>');
      result = await trainRun(loadTrainConfig(a.config as string | undefined, sets), options);
    }
    printResult(a.json as boolean, result, () => formatTrainResult(result));
    if (result.status === 'killed') process.exitCode = 130;
  },
};

export const trainerCommands: VmrCommand[] = [train];
