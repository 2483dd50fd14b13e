import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConflictError, InvalidArgumentError, NotFoundError, Rng, writeJsonAtomic } from '@vmr/core';
import { RUN_KIND_TAG, type Tracker } from '@vmr/tracking';
import type { ListeningTest, SystemName } from './test-set';

/** Tag value of human-evaluation (listening-test) runs. */
export const LISTEN_KIND = 'listen';
/** The test definition (items, candidates, similarities, AV-Align) logged with the run. */
export const LISTEN_TEST_ARTIFACT = 'listening-test.json';
/** Param key prefix of a judgment: `judgment/<rater>/<item>` (params are immutable: one judgment per item per rater). */
export const JUDGMENT_PREFIX = 'judgment/';

const RATER_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** One rater's judgment of one item, as stored. */
export interface Judgment {
  rater: string;
  item: number;
  video: string;
  /** Candidate tracks in the order the rater saw them (slot 0 first). */
  shown: string[];
  /** Systems behind each shown slot. */
  shownSystems: SystemName[][];
  /** Chosen slot (0-based). */
  choice: number;
  chosenTrack: string;
  chosenSystems: SystemName[];
  /** Optional 1–5 rating of how well the chosen soundtrack fits. */
  rating?: number;
  /** Submission time (ms since the epoch). */
  time: number;
}

export function checkRater(rater: unknown): string {
  if (typeof rater !== 'string' || !RATER_RE.test(rater)) throw new InvalidArgumentError(`rater id must be 1–64 letters, digits, '_' or '-', got ${JSON.stringify(rater)}`);
  return rater;
}

/** Key of a test definition: same runs, gallery, split, truth flag and items → same run (resumable). */
export function testKey(t: ListeningTest): string {
  const items = t.items.map((i) => [i.video, i.candidates.map((c) => c.track)]);
  return createHash('sha256').update(JSON.stringify({ runs: t.runs, gallery: t.gallery.path, split: t.gallery.split, truth: t.truth, items })).digest('hex').slice(0, 16);
}

/** Parse stored judgment params of a run. */
export function judgmentsFromParams(params: Record<string, string>): Judgment[] {
  return Object.entries(params)
    .filter(([k]) => k.startsWith(JUDGMENT_PREFIX))
    .map(([, v]) => JSON.parse(v) as Judgment)
    .sort((a, b) => a.time - b.time || a.rater.localeCompare(b.rater) || a.item - b.item);
}

/**
 * A listening test bound to its human-evaluation run in the store. Every judgment is written to the store
 * when it is submitted (a crash loses none); serving the same test again continues the same run.
 */
export class ListeningSession {
  private constructor(
    readonly tracker: Tracker,
    readonly runId: string,
    readonly test: ListeningTest,
    readonly resumed: boolean,
  ) {}

  /** Find the run of this test (same key) or start one in the experiment of run A. */
  static async open(tracker: Tracker, test: ListeningTest): Promise<ListeningSession> {
    const key = testKey(test);
    const existing = await tracker.searchRuns({ experiment: test.experiment, tags: { [RUN_KIND_TAG]: LISTEN_KIND, 'listen.key': key } });
    if (existing.length > 0) {
      const run = existing[0];
      if (run.status !== 'running') await tracker.setStatus(run.id, 'running');
      return new ListeningSession(tracker, run.id, test, true);
    }
    const run = await tracker.startRun({
      experiment: test.experiment,
      name: `listen/${test.runs.A.slice(0, 8)}-vs-${test.runs.B.slice(0, 8)}/${test.gallery.name}`,
      seed: test.seed,
      tags: { [RUN_KIND_TAG]: LISTEN_KIND, 'listen.key': key, dataset: test.gallery.name, split: test.gallery.split },
    });
    await tracker.logParams(run.id, {
      'listen.runA': test.runs.A,
      'listen.runB': test.runs.B,
      'listen.gallery.path': test.gallery.path,
      'listen.gallery.name': test.gallery.name,
      'listen.gallery.split': test.gallery.split,
      'listen.gallery.size': test.gallery.size,
      'listen.truth': test.truth,
      'listen.items': test.items.length,
      'listen.skipped': test.skipped.length,
      'listen.order': 'per rater and item: seeded permutation of the candidates (rng seed "<run id>/<rater>/<item>")',
    });
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-listen-'));
    try {
      const f = path.join(tmp, LISTEN_TEST_ARTIFACT);
      writeJsonAtomic(f, test);
      await tracker.logArtifact(run.id, f, LISTEN_TEST_ARTIFACT);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return new ListeningSession(tracker, run.id, test, false);
  }

  /** The slot order a rater sees for an item: candidate indices, slot 0 first (stable across reloads). */
  shownOrder(rater: string, item: number): number[] {
    const n = this.test.items[item].candidates.length;
    return new Rng(`${this.runId}/${rater}/${item}`).permutation(n);
  }

  async judgments(rater?: string): Promise<Judgment[]> {
    const run = await this.tracker.getRun(this.runId);
    const all = judgmentsFromParams(run.params);
    return rater === undefined ? all : all.filter((j) => j.rater === rater);
  }

  /**
   * Store one judgment (committed before this returns).
   * @throws ConflictError when the rater already judged the item; InvalidArgumentError for a bad slot/rating.
   */
  async submit(raterIn: unknown, itemIn: unknown, choiceIn: unknown, ratingIn?: unknown): Promise<Judgment> {
    const rater = checkRater(raterIn);
    const item = Number(itemIn);
    if (!Number.isInteger(item) || item < 0 || item >= this.test.items.length) throw new NotFoundError(`item ${String(itemIn)} does not exist (0…${this.test.items.length - 1})`);
    const it = this.test.items[item];
    const choice = Number(choiceIn);
    if (!Number.isInteger(choice) || choice < 0 || choice >= it.candidates.length) throw new InvalidArgumentError(`choice must be a slot 0…${it.candidates.length - 1}, got ${String(choiceIn)}`);
    let rating: number | undefined;
    if (ratingIn !== undefined && ratingIn !== null && ratingIn !== '') {
      rating = Number(ratingIn);
      if (!Number.isInteger(rating) || rating < 1 || rating > 5) throw new InvalidArgumentError(`rating must be an integer 1–5, got ${String(ratingIn)}`);
    }
    const key = `${JUDGMENT_PREFIX}${rater}/${item}`;
    const run = await this.tracker.getRun(this.runId);
    if (run.params[key] !== undefined) throw new ConflictError(`rater ${rater} already judged item ${item}`);
    const order = this.shownOrder(rater, item);
    const shown = order.map((i) => it.candidates[i]);
    const j: Judgment = {
      rater,
      item,
      video: it.video,
      shown: shown.map((c) => c.track),
      shownSystems: shown.map((c) => c.systems),
      choice,
      chosenTrack: shown[choice].track,
      chosenSystems: shown[choice].systems,
      ...(rating !== undefined ? { rating } : {}),
      time: Date.now(),
    };
    try {
      await this.tracker.logParams(this.runId, { [key]: JSON.stringify(j) });
    } catch (e) {
      if (e instanceof ConflictError) throw new ConflictError(`rater ${rater} already judged item ${item}`);
      throw e;
    }
    return j;
  }

  async heartbeat(): Promise<void> {
    await this.tracker.heartbeat(this.runId);
  }

  async finish(): Promise<void> {
    await this.tracker.endRun(this.runId, 'finished');
  }
}
