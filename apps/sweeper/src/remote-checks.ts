/**
 * What the distributed executors (BullMQ, Slurm) check before and while trials run elsewhere:
 * that the tracking URI handed to workers is reachable from another machine, that Redis and the
 * tracking server answer within seconds (not after minutes of silent retries), and — on the worker —
 * that the code version and the dataset paths a trial names exist there.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as os from 'os';
import { InvalidArgumentError, VmrError, errorMessage } from '@vmr/core';
import { HttpTracker } from '@vmr/tracking';
import type IORedisType from 'ioredis';
import { resolveCodeVersion } from './code-version';
import { TAGS, type TrialState } from './sweep-store';

/** A remote dependency (Redis, tracking server, Slurm) did not answer. */
export class UnreachableError extends VmrError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('IO_ERROR', message, options);
  }
}

/** True for localhost / 127.x / ::1 hosts. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\./.test(h) || h === '0.0.0.0';
}

/** The host of an http(s):// URI, or undefined for a store path. */
export function uriHost(uri: string): string | undefined {
  if (!/^https?:\/\//.test(uri)) return undefined;
  try {
    return new URL(uri).hostname;
  } catch {
    return undefined;
  }
}

/**
 * Fail within `timeoutMs` when nothing answers at the redis:// URL (the BullMQ client itself would
 * retry forever). `flag` names the CLI option in the message.
 */
export async function checkRedis(url: string, timeoutMs = 5000, flag = '--redis'): Promise<void> {
  // ioredis is loaded only when a Redis is checked (not by every `vmr` process that imports the sweeper).
  const IORedis = (require('ioredis') as { default: typeof IORedisType }).default;
  const client = new IORedis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  let lastError: unknown;
  client.on('error', (e) => (lastError = e));
  try {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)));
    try {
      await Promise.race([client.connect().then(() => client.ping()), deadline]);
    } finally {
      clearTimeout(timer);
    }
  } catch (e) {
    throw new UnreachableError(`${flag} ${url}: Redis is not reachable (${errorMessage(lastError ?? e)}); start redis-server there or fix the URL`);
  } finally {
    client.disconnect();
  }
}

/** Fail within about `timeoutMs` when the tracking server at `uri` does not answer (or refuses the token). */
export async function checkTrackingServer(uri: string, token: string | undefined, timeoutMs = 5000, flag = '--tracking-uri'): Promise<void> {
  if (!/^https?:\/\//.test(uri)) return;
  const t = new HttpTracker(uri, { token, retryBudgetMs: timeoutMs, timeoutMs, heartbeatIntervalMs: 0 });
  try {
    await t.listExperiments();
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw new InvalidArgumentError(`${flag} ${uri}: ${errorMessage(e)}`);
    throw new UnreachableError(`${flag} ${uri}: the tracking server is not reachable from ${hostLabel()} (${errorMessage(e)})`);
  } finally {
    await t.close().catch(() => undefined);
  }
}

export function hostLabel(): string {
  return `${os.hostname()}:${process.pid}`;
}

/**
 * The refusal when trials would be handed a loopback tracking URI although their workers may run on
 * other machines (where 127.0.0.1 is the worker itself).
 */
export function loopbackRefusal(executor: string, uri: string): InvalidArgumentError {
  return new InvalidArgumentError(
    `--executor ${executor}: trials would report to ${uri}, a loopback address that workers on other machines cannot reach. ` +
      `Pass --serve-host <this machine's address> --tracking-token <secret> (the sweep serves its store there), ` +
      `or --tracking-uri http://<address>:<port> of a running \`vmr tracking serve\`; ` +
      `--serve-host 127.0.0.1 when every worker runs on this machine`,
  );
}

/** Dataset paths a trial reads, as the coordinator names them: the training `dataset` and each evaluation dataset. */
export function trialDatasets(t: Pick<TrialState, 'tags'>): string[] {
  const out: string[] = [];
  try {
    const config = JSON.parse(t.tags[TAGS.config] ?? '{}') as Record<string, unknown>;
    if (typeof config.dataset === 'string') out.push(config.dataset);
  } catch {
    /* the trial process reports an unreadable config itself */
  }
  try {
    const evaluate = JSON.parse(t.tags[TAGS.evaluate] ?? '[]') as { dataset?: string }[];
    for (const e of evaluate) if (typeof e.dataset === 'string' && !out.includes(e.dataset)) out.push(e.dataset);
  } catch {
    /* idem */
  }
  return out;
}

/** A git commit (optionally `+dirty`): a code version a worker can compare with its own checkout. */
export function isGitVersion(v: string): boolean {
  return /^[0-9a-f]{40}(\+dirty)?$/.test(v);
}

/**
 * On a worker, before a trial starts: the datasets exist here, and (when the sweep's code version is a
 * git commit) this checkout is at the same commit. Returns the problem, or undefined.
 */
export function workerPreflight(job: { datasets?: string[]; codeVersion?: string; trialRunId: string }): string | undefined {
  // A dataset is a folder with dataset.json: an empty mount point (the share not mounted) counts as missing.
  const missing = (job.datasets ?? []).filter((d) => !fs.existsSync(path.join(d, 'dataset.json')));
  if (missing.length > 0) {
    return `trial ${job.trialRunId}: dataset path(s) ${missing.map((m) => `'${m}'`).join(', ')} do not exist on worker ${hostLabel()} (no dataset.json there); mount them at the same path on every worker (the spec's paths are resolved on the coordinator's machine)`;
  }
  if (job.codeVersion && isGitVersion(job.codeVersion) && !process.env.VMR_CODE_VERSION) {
    const mine = resolveCodeVersion('git');
    if (mine !== 'unknown' && mine !== job.codeVersion) {
      return `trial ${job.trialRunId}: the sweep was planned at code version ${job.codeVersion} but worker ${hostLabel()} runs ${mine}; check out the same commit there (or pin codeVersion in the spec)`;
    }
  }
  return undefined;
}

/**
 * A CLI safety net: after SIGINT/SIGTERM the command shuts down gracefully (the sweep stays resumable);
 * should that hang (a dependency gone), a second signal or 20 s later the process exits anyway.
 */
export function exitOnSecondSignal(what: string, graceMs = 20_000): void {
  let n = 0;
  const on = (sig: NodeJS.Signals) => {
    n++;
    const code = sig === 'SIGTERM' ? 143 : 130;
    if (n === 1) {
      process.stderr.write(`${what}: ${sig}: stopping (the sweep stays resumable: rerun the spec); again to exit at once\n`);
      setTimeout(() => process.exit(code), graceMs).unref();
    } else process.exit(code);
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
}
