/**
 * `vmr` — the one command-line entry of VMR Lab. Subcommands are contributed by the apps and libs:
 * each package exports `commands: VmrCommand[]` from its public index.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { reportCliError, type VmrCommand } from '@vmr/core';
import { commands as trackingCommands } from '@vmr/tracking';
import { commands as trainerCommands } from '@vmr/trainer';
import { commands as evaluatorCommands } from '@vmr/evaluator';
import { commands as sweeperCommands } from '@vmr/sweeper';
import { commands as segmentationCommands } from '@vmr/segmentation';
import { commands as metricsCommands } from '@vmr/metrics';
import { commands as featureCommands } from '@vmr/features';
import { commands as dataCommands } from '@vmr/data';

const all: VmrCommand[] = [...trackingCommands, ...trainerCommands, ...evaluatorCommands, ...sweeperCommands, ...segmentationCommands, ...metricsCommands, ...featureCommands, ...dataCommands];

/**
 * Packages may contribute subcommands to the same parent (e.g. `vmr report tables` from the evaluator,
 * `vmr report sweep` from the sweeper): parent commands with the same name are merged into one whose
 * builder runs every contributor's builder (each registers its own subcommands).
 */
function mergeSameNamed(cmds: VmrCommand[]): VmrCommand[] {
  const byName = new Map<string, VmrCommand[]>();
  const order: string[] = [];
  for (const c of cmds) {
    const name = String(Array.isArray(c.command) ? c.command[0] : c.command ?? '').split(' ')[0];
    if (!byName.has(name)) order.push(name);
    byName.set(name, [...(byName.get(name) ?? []), c]);
  }
  return order.map((name) => {
    const group = byName.get(name)!;
    if (group.length === 1) return group[0];
    return {
      ...group[0],
      describe: [...new Set(group.map((g) => g.describe).filter(Boolean))].join('; '),
      builder: (y: Argv) => {
        let out = y;
        for (const g of group) if (typeof g.builder === 'function') out = (g.builder(out) as Argv | undefined) ?? out;
        return out;
      },
    } as VmrCommand;
  });
}

async function main(): Promise<void> {
  const argv = hideBin(process.argv);
  const json = argv.includes('--json');
  let cli = yargs(argv)
    .scriptName('vmr')
    .usage('$0 <command> [options]\n\nVMR Lab: video-to-music retrieval experiments (OF-VM-Net, VM-Net).')
    .option('quiet', { type: 'boolean', default: false, global: true, describe: 'no progress bars' })
    .middleware((args) => {
      if (args.quiet) process.env.VMR_QUIET = '1';
    })
    .strict()
    .demandCommand(1, 'Give a command; `vmr --help` lists them.')
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .epilog('Every command has --help with examples. Set VMR_DEBUG=1 to see stack traces.')
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`vmr: ${msg}\nRun with --help for usage.\n`);
      process.exit(2);
    });
  for (const c of mergeSameNamed(all)) cli = cli.command(c);
  try {
    await cli.parseAsync();
  } catch (e) {
    process.exitCode = reportCliError(e, json);
  }
}

void main();
