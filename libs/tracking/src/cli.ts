import type { Argv } from 'yargs';
import { InvalidArgumentError, printResult, type VmrCommand } from '@vmr/core';
import { resolveTrackingUri, useTracker } from './store-location';
import { startTrackingServer } from './http/server';
import { compareTable, runDetailText, runsTable } from './format';
import { RUN_STATUSES, type RunDetail, type MetricFilter, type MetricOp, type OrderBy, type RunQuery, type RunStatus } from './types';
import { SqliteTracker } from './sqlite-tracker';
import type { Tracker } from './types';

/** `--store` / `--tracking-uri`, shared by every command that reads or writes runs. */
export function withStore<T>(y: Argv<T>): Argv<T & { store: string | undefined; 'tracking-uri': string | undefined }> {
  return y
    .option('store', {
      type: 'string',
      describe: 'run-store file (default: $VMR_STORE or ./vmr-runs/runs.db)',
    })
    .option('tracking-uri', {
      type: 'string',
      describe: 'http(s)://host:port of a tracking server, or a store path / file: URI (default: $VMR_TRACKING_URI, $MLFLOW_TRACKING_URI, else the local store)',
    }) as Argv<T & { store: string | undefined; 'tracking-uri': string | undefined }>;
}

function parseKeyValues(items: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const it of items ?? []) {
    const i = it.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`--${what} expects key=value, got '${it}'`);
    out[it.slice(0, i)] = it.slice(i + 1);
  }
  return out;
}

/** Parse `key>0.5`, `r1>=0.2`, `loss<1`… */
export function parseMetricFilter(s: string): MetricFilter {
  const m = /^([^<>=!]+?)\s*(>=|<=|!=|>|<|=)\s*(.+)$/.exec(s);
  if (!m) throw new InvalidArgumentError(`--metric expects KEY OP VALUE such as 'val.r1>0.2', got '${s}'`);
  const value = Number(m[3]);
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`--metric '${s}': '${m[3]}' is not a number`);
  return { key: m[1].trim(), op: m[2] as MetricOp, value };
}

/** Parse `metric.val.r1`, `param.lr`, `start_time`, with an optional ` desc` / ` asc`. */
export function parseOrderBy(s: string): OrderBy {
  const [field, dir] = s.trim().split(/\s+/);
  const desc = (dir ?? '').toLowerCase() === 'desc';
  if (dir && !['asc', 'desc'].includes(dir.toLowerCase())) throw new InvalidArgumentError(`--order-by '${s}': direction must be asc or desc`);
  if (field.startsWith('metric.')) return { kind: 'metric', key: field.slice(7), desc };
  if (field.startsWith('param.')) return { kind: 'param', key: field.slice(6), desc };
  return { kind: 'attribute', key: field.replace(/^attribute\./, ''), desc };
}

/** Open the tracker named by `--tracking-uri` / `--store` (and their env vars), run `fn`, close it. */
export async function withTracker<R>(a: Record<string, unknown>, fn: (t: Tracker) => Promise<R>): Promise<R> {
  return useTracker({ trackingUri: a['tracking-uri'] as string | undefined, store: a.store as string | undefined }, fn);
}

const list: VmrCommand = {
  command: 'list',
  describe: 'list runs (newest first) with their latest metrics',
  builder: (y: Argv) =>
    withStore(y)
      .option('experiment', { alias: 'e', type: 'string', array: true, describe: 'only runs of these experiments' })
      .option('status', { type: 'string', array: true, choices: RUN_STATUSES as unknown as string[], describe: 'only runs with these statuses' })
      .option('param', { type: 'string', array: true, describe: 'param filter key=value (repeatable, ANDed)' })
      .option('tag', { type: 'string', array: true, describe: 'tag filter key=value (repeatable, ANDed)' })
      .option('metric', { type: 'string', array: true, describe: "latest-metric filter such as 'val.r1>0.2' (repeatable, ANDed)" })
      .option('order-by', { type: 'string', array: true, describe: "'metric.KEY [asc|desc]', 'param.KEY', or an attribute (start_time, name, status, seed)" })
      .option('columns', { type: 'string', array: true, describe: 'metric keys to show as columns (default: up to 6 common ones)' })
      .option('top-level', { type: 'boolean', default: false, describe: 'hide child runs' })
      .option('limit', { type: 'number', default: 50 })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 runs list -e table1 --status finished', 'finished runs of experiment table1')
      .example("$0 runs list --param model=of-vm-net --metric 'eval.r1>0.1' --order-by 'metric.eval.r1 desc'", 'best OF-VM-Net runs by Recall@1')
      .example('$0 runs list --json | jq ".[0].id"', 'newest run id'),
  handler: async (a: Record<string, unknown>) => {
    const query: RunQuery = {
      experiment: a.experiment as string[] | undefined,
      status: a.status as RunStatus[] | undefined,
      params: parseKeyValues(a.param as string[] | undefined, 'param'),
      tags: parseKeyValues(a.tag as string[] | undefined, 'tag'),
      metrics: ((a.metric as string[] | undefined) ?? []).map(parseMetricFilter),
      orderBy: ((a['order-by'] as string[] | undefined) ?? []).map(parseOrderBy),
      parentId: a['top-level'] ? null : undefined,
      limit: a.limit as number,
    };
    await withTracker(a, async (t) => {
      const runs = await t.searchRuns(query);
      const metrics = new Map<string, Record<string, number>>();
      for (const r of runs) {
        const lm = await t.latestMetrics(r.id);
        metrics.set(r.id, Object.fromEntries(Object.values(lm).map((m) => [m.key, m.value])));
      }
      let cols = a.columns as string[] | undefined;
      if (!cols) {
        const counts = new Map<string, number>();
        for (const m of metrics.values()) for (const k of Object.keys(m)) counts.set(k, (counts.get(k) ?? 0) + 1);
        cols = [...counts.entries()].sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0])).slice(0, 6).map(([k]) => k);
      }
      printResult(a.json as boolean, runs.map((r) => ({ ...r, metrics: metrics.get(r.id) })), () => runsTable(runs, metrics, cols ?? []));
    });
  },
};

const show: VmrCommand = {
  command: 'show <run>',
  describe: 'show one run: attributes, params, tags, latest metrics, artifacts',
  builder: (y: Argv) =>
    withStore(y)
      .positional('run', { type: 'string', describe: 'run id (or a unique prefix)', demandOption: true })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .option('history', { type: 'string', describe: 'also print the full history of this metric key' })
      .example('$0 runs show 3f2a', 'a run by id prefix')
      .example('$0 runs show 3f2a --history train.loss --json', 'a metric history as JSON'),
  handler: async (a: Record<string, unknown>) => {
    await withTracker(a, async (t) => {
      const id = await t.resolveRunId(String(a.run));
      const run = await t.getRun(id);
      const history = a.history ? await t.metricHistory(id, String(a.history)) : undefined;
      printResult(a.json as boolean, history ? { ...run, history } : run, () => {
        let s = runDetailText(run);
        if (history) s += `\n${a.history} history (step: value)\n` + history.map((p) => `${p.step}: ${p.value}`).join('\n');
        return s;
      });
    });
  },
};

const compare: VmrCommand = {
  command: 'compare <runs..>',
  describe: 'compare runs side by side: params and latest metrics, differing rows marked *',
  builder: (y: Argv) =>
    withStore(y)
      .positional('runs', { type: 'string', array: true, describe: 'two or more run ids (or unique prefixes)' })
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 runs compare 3f2a 9bc1', 'two runs side by side'),
  handler: async (a: Record<string, unknown>) => {
    const ids = (a.runs as string[]) ?? [];
    if (ids.length < 2) throw new InvalidArgumentError('runs compare needs at least two run ids');
    await withTracker(a, async (t) => {
      const runs: RunDetail[] = [];
      for (const p of ids) runs.push(await t.getRun(await t.resolveRunId(p)));
      printResult(a.json as boolean, runs, () => compareTable(runs));
    });
  },
};

const runs: VmrCommand = {
  command: 'runs <command>',
  describe: 'look at the run store: list, show, compare runs',
  builder: (y: Argv) => y.command(list).command(show).command(compare).demandCommand(1),
  handler: () => undefined,
};

const smoke: VmrCommand = {
  command: 'smoke',
  describe: 'smoke job: open (create, migrate) the run store, log a short run into it, print where it lives',
  builder: (y: Argv) =>
    withStore(y)
      .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
      .example('$0 smoke', 'check the installation and the run store')
      .example('$0 smoke --store /tmp/test.db', 'use another store file'),
  handler: async (a: Record<string, unknown>) => {
    await withTracker(a, async (t) => {
      const run = await t.startRun({ experiment: 'smoke', name: 'smoke', tags: { kind: 'smoke' } });
      await t.logParams(run.id, { purpose: 'installation check' });
      await t.logMetrics(run.id, [1, 2, 3].map((step) => ({ key: 'smoke.value', value: step * step, step })));
      await t.endRun(run.id, 'finished');
      const local = t instanceof SqliteTracker;
      const counts = local ? t.counts() : undefined;
      const history = await t.metricHistory(run.id, 'smoke.value');
      printResult(a.json as boolean, { store: t.location, artifacts: local ? t.artifactsDir : undefined, runId: run.id, counts }, () =>
        [
          `run store: ${t.location}`,
          ...(local ? [`artifacts: ${t.artifactsDir}`] : []),
          `smoke run ${run.id} logged ${history.length} points and finished`,
          ...(counts ? [`store holds ${counts.experiments} experiments, ${counts.runs} runs, ${counts.metrics} metric points`] : []),
          `next: vmr runs list   |   vmr --help`,
        ].join('\n'),
      );
    });
  },
};

const serve: VmrCommand = {
  command: 'serve',
  describe: 'serve the run store over HTTP (MLflow REST subset) so many processes and machines log through one writer',
  builder: (y: Argv) =>
    y
      .option('db', { type: 'string', describe: 'run-store file (default: $VMR_STORE or ./vmr-runs/runs.db)' })
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'address to bind; anything but loopback requires --token' })
      .option('port', { type: 'number', default: 5000, describe: 'port (0 = pick a free one)' })
      .option('token', { type: 'string', describe: 'bearer token clients must send (default: $VMR_TRACKING_TOKEN)' })
      .option('heartbeat-timeout', { type: 'number', default: 60, describe: 'seconds without heartbeat (and pid gone) after which a running run is marked failed' })
      .option('verbose', { type: 'boolean', default: false, describe: 'log every request' })
      .example('$0 tracking serve', 'serve ./vmr-runs/runs.db on http://127.0.0.1:5000')
      .example('VMR_TRACKING_URI=http://127.0.0.1:5000 $0 runs list', 'use it from another shell')
      .example('$0 tracking serve --host 0.0.0.0 --token s3cret', 'serve other machines (token required)'),
  handler: async (a: Record<string, unknown>) => {
    const db = resolveTrackingUri({ store: a.db as string | undefined });
    const server = await startTrackingServer({
      db,
      host: a.host as string,
      port: a.port as number,
      token: (a.token as string | undefined) ?? process.env.VMR_TRACKING_TOKEN,
      heartbeatTimeoutMs: (a['heartbeat-timeout'] as number) * 1000,
      log: a.verbose ? (l) => process.stderr.write(l + '\n') : undefined,
    });
    process.stdout.write(`tracking server for ${db} listening on ${server.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        process.stderr.write(`${sig}: finishing in-flight requests…\n`);
        void server.close().then(resolve);
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
  },
};

const tracking: VmrCommand = {
  command: 'tracking <command>',
  describe: 'tracking server: serve the run store over HTTP',
  builder: (y: Argv) => y.command(serve).demandCommand(1),
  handler: () => undefined,
};

export const trackingCommands: VmrCommand[] = [runs, smoke, tracking];
