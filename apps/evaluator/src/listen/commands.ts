import type { Argv } from 'yargs';
import { InvalidArgumentError, printResult, type VmrCommand } from '@vmr/core';
import { RUN_KIND_TAG, useTracker, withStore, type Tracker } from '@vmr/tracking';
import { SPLIT_CHOICES, type SplitChoice } from '@vmr/pipeline';
import { resolveCacheDir } from '../retrieve/media-cache';
import { formatListeningSummary, listeningSummaries } from './report';
import { checkListenBind, preparePreviews, startListenServer } from './server';
import { ListeningSession } from './session';
import { buildListeningTest } from './test-set';

async function pickRuns(tracker: Tracker, a: Record<string, unknown>): Promise<[string, string]> {
  if (a.runs !== undefined) {
    const ids = String(a.runs).split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.length !== 2) throw new InvalidArgumentError(`--runs takes two training runs A,B, got ${JSON.stringify(a.runs)}`);
    return [ids[0], ids[1]];
  }
  if (a.experiment === undefined) throw new InvalidArgumentError('give --runs A,B or --experiment NAME (an experiment with exactly two finished training runs)');
  const runs = await tracker.searchRuns({ experiment: String(a.experiment), status: 'finished', tags: { [RUN_KIND_TAG]: 'train' }, orderBy: [{ kind: 'attribute', key: 'start_time' }] });
  if (runs.length !== 2) {
    throw new InvalidArgumentError(
      `--experiment ${String(a.experiment)} has ${runs.length} finished training runs${runs.length ? ` (${runs.map((r) => `${r.id.slice(0, 8)} ${r.name}`).join(', ')})` : ''}; a listening test compares two: pass --runs A,B`,
    );
  }
  return [runs[0].id, runs[1].id];
}

const serve: VmrCommand = {
  command: 'serve',
  describe: 'serve a blind listening test: each video with the top-1 tracks of two runs (and optionally the true one) in random order; judgments are stored as a run',
  builder: (y: Argv) =>
    withStore(y)
      .option('runs', { type: 'string', describe: 'the two training runs to compare: A,B (ids or unique prefixes)' })
      .option('experiment', { alias: 'e', type: 'string', describe: 'an experiment with exactly two finished training runs (instead of --runs)' })
      .option('gallery', { type: 'string', demandOption: true, describe: 'ingested dataset directory whose videos and tracks are judged (its media files must exist)' })
      .option('split', { type: 'string', choices: SPLIT_CHOICES as unknown as string[], describe: 'split of the gallery (default test when present, else all)' })
      .option('truth', { type: 'boolean', default: false, describe: 'add each video\'s own track as a third candidate' })
      .option('items', { type: 'number', describe: 'at most this many items (a seeded sample)' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the item sample' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind; anything but loopback requires --token' })
      .option('port', { type: 'number', default: 5050, describe: 'port (0 = pick a free one)' })
      .option('token', { type: 'string', describe: 'token raters must carry (?token= in the link; default $VMR_LISTEN_TOKEN)' })
      .option('cache', { type: 'string', describe: 'where previews are written (default $VMR_CACHE_DIR, else ~/.cache/vmr)' })
      .example('$0 listen serve --runs 3f2a,9b1c --gallery data/my-media', 'compare two runs on the test split, on http://127.0.0.1:5050/')
      .example('$0 listen serve -e quick --gallery data/my-media --truth --host 0.0.0.0 --token s3cret', 'raters on other machines (link with ?token=s3cret)'),
  handler: async (a: Record<string, unknown>) => {
    const token = (a.token as string | undefined) ?? process.env.VMR_LISTEN_TOKEN;
    checkListenBind(a.host as string, token);
    const cacheDir = resolveCacheDir(a.cache as string | undefined);
    if (a.items !== undefined && !(Number.isInteger(a.items) && (a.items as number) >= 1)) throw new InvalidArgumentError(`--items must be a positive integer, got ${String(a.items)}`);
    await useTracker({ store: a.store as string | undefined, trackingUri: a['tracking-uri'] as string | undefined }, async (tracker) => {
      const runs = await pickRuns(tracker, a);
      const test = await buildListeningTest(tracker, {
        runs,
        gallery: String(a.gallery),
        split: a.split as SplitChoice | undefined,
        truth: a.truth as boolean,
        maxItems: a.items as number | undefined,
        seed: a.seed as number,
      });
      const session = await ListeningSession.open(tracker, test);
      await preparePreviews(session, cacheDir, !!a.quiet);
      const server = await startListenServer({ session, host: a.host as string, port: a.port as number, token, cacheDir, log: (l) => process.stderr.write(l + '\n') });
      const done = new Set((await session.judgments()).map((j) => `${j.rater}/${j.item}`)).size;
      process.stdout.write(
        `listening test ${session.runId} (${session.resumed ? `resumed, ${done} judgments so far` : 'new'}): ${test.items.length} items, ${test.skipped.length} videos skipped (same pick)\n` +
          `open ${server.url}${token ? '?token=<token>' : ''} — each judgment is stored when submitted; Ctrl-C stops\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          process.stderr.write(`${sig}: closing the listening test…\n`);
          void server.close().then(resolve);
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await session.finish();
    });
  },
};

const report: VmrCommand = {
  command: 'report',
  describe: 'listening-test results: preference rates with Wilson intervals, inter-rater agreement (Fleiss/Cohen κ), correlation with AV-Align and similarity differences',
  builder: (y: Argv) =>
    withStore(y)
      .option('run', { type: 'string', describe: 'one listening-test run (id or prefix)' })
      .option('experiment', { alias: 'e', type: 'string', array: true, describe: 'experiment name(s) (default: all)' })
      .option('json', { type: 'boolean', default: false, describe: 'print the summaries as JSON' })
      .example('$0 listen report -e quick', 'every listening test of an experiment')
      .example('$0 listen report --run 7c1d --json', 'one test as JSON'),
  handler: async (a: Record<string, unknown>) => {
    const s = await listeningSummaries({
      runId: a.run as string | undefined,
      experiment: a.experiment as string[] | undefined,
      store: a.store as string | undefined,
      trackingUri: a['tracking-uri'] as string | undefined,
    });
    printResult(a.json as boolean, s, () => (s.length ? s.map(formatListeningSummary).join('\n\n') : 'no listening tests in the store (start one with vmr listen serve)'));
  },
};

export const listenCommand: VmrCommand = {
  command: 'listen <command>',
  describe: 'blind listening tests of two runs\' picks (a small web app) and their report',
  builder: (y: Argv) => y.command(serve).command(report).demandCommand(1),
  handler: () => undefined,
};
