/**
 * `vmr` — the one command-line entry of VMR Lab. Subcommands are contributed by the apps and libs
 * (each package exports `commands: VmrCommand[]` from its public index) and listed in the command
 * manifest (bin/commands.ts), so that only the package of the command being run is loaded:
 * `vmr --help` loads none, `vmr runs list` only @vmr/tracking.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { reportCliError, type VmrCommand } from '@vmr/core';
import { commandName, manifest, type CommandEntry } from './commands';

/**
 * The commands to register for this invocation: the real command modules of the packages behind the
 * command named on the line (the first word that is a manifest name), and stand-ins carrying the
 * manifest's name and description for every other command (enough for `vmr --help` and for yargs'
 * "did you mean"). A word that is no manifest name but looks like a command loads every package, so a
 * command a package exports but the manifest lacks still runs (tools/test/cli-manifest.spec.ts fails
 * on such a gap).
 */
async function commandsFor(argv: string[]): Promise<VmrCommand[]> {
  const names = new Set(manifest.map((e) => commandName(e)));
  const words = argv.filter((a) => !a.startsWith('-'));
  const chosen = words.find((w) => names.has(w));
  const unknown = chosen === undefined && words.length > 0 && /^[a-z][a-z0-9-]*$/.test(words[0]);
  const loaded = new Map<CommandEntry['load'], VmrCommand[]>();
  for (const e of manifest) if ((unknown || commandName(e) === chosen) && !loaded.has(e.load)) loaded.set(e.load, e.load().commands);
  const out: VmrCommand[] = [];
  const standIns = new Set<string>();
  for (const e of manifest) {
    const name = commandName(e);
    const cmds = loaded.get(e.load);
    if (cmds) {
      for (const c of cmds) if (commandName(c) === name && !out.includes(c)) out.push(c);
    } else if (!standIns.has(name)) {
      standIns.add(name);
      out.push({ command: e.command, describe: e.describe, builder: (y: Argv) => y, handler: () => undefined });
    }
  }
  // Commands a loaded package exports that the manifest does not list (see the fallback above).
  for (const cmds of loaded.values()) for (const c of cmds) if (!names.has(commandName(c)) && !out.includes(c)) out.push(c);
  return out;
}

/**
 * Packages may contribute subcommands to the same parent (e.g. `vmr report tables` from the evaluator,
 * `vmr report sweep` from the sweeper): parent commands with the same name are merged into one whose
 * builder runs every contributor's builder (each registers its own subcommands).
 */
function mergeSameNamed(cmds: VmrCommand[]): VmrCommand[] {
  const byName = new Map<string, VmrCommand[]>();
  const order: string[] = [];
  for (const c of cmds) {
    const name = commandName(c);
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
  for (const c of mergeSameNamed(await commandsFor(argv))) cli = cli.command(c);
  try {
    await cli.parseAsync();
  } catch (e) {
    process.exitCode = reportCliError(e, json);
  }
}

void main();
