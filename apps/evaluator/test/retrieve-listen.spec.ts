/// <reference lib="dom" />
/**
 * `vmr retrieve` and `vmr listen` end to end through the real CLI (node bin/vmr.js), a real run store,
 * real ffmpeg and a real browser: SYNTHETIC media clips (`vmr synth-media`) → `vmr ingest` → two tiny
 * `vmr train` runs → retrieve a held-out clip (top-k JSON reproducible, previews checked with ffprobe,
 * bad inputs one line each) → `vmr listen serve` opened in headless Debian Chromium (play, vote, reload,
 * resume), token checks, stored judgments and `vmr listen report` counts. Screenshots go to
 * .test-artifacts/retrieve-listen/ at the repository root.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { chromium, type Browser } from 'playwright-core';
import { repoRoot } from '@vmr/core';
import { ffmpegBinaries } from '@vmr/features';
import { SqliteTracker } from '@vmr/tracking';

const CHROMIUM = process.env.VMR_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(repoRoot(), '.test-artifacts', 'retrieve-listen');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-retrieve-'));
const media = path.join(root, 'media');
const ds = path.join(root, 'ds');
const store = path.join(root, 'runs.db');
const cache = path.join(root, 'cache');

function vmr(args: string[], timeout = 240_000): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), ...args], { encoding: 'utf8', env: { ...process.env, VMR_QUIET: '1' }, timeout });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function withEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

function ok(args: string[]): string {
  const r = vmr(args);
  if (r.status !== 0) throw new Error(`vmr ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const trainYaml = (model: string) => `
experiment: retrieve-e2e
dataset: ${ds}
features: builtin-video
audioFeatures: builtin-audio
model: ${model}
trainSplit: train
valSplit: none
segmentation: { segments: 2, minSegmentSeconds: 3, jumpSeconds: 1, maxSegmentSeconds: 11, padLength: 11 }
ofVmNet: { layers: 1, ffnDim: 16, embedDim: 8, heads: 2 }
vmNet: { embedDim: 16, audioHidden: [{ units: 16, batchNorm: true }], videoHidden: [{ units: 16, batchNorm: true }] }
batchSize: 4
epochs: 2
lr: 0.003
seed: 3
backend: cpu
checkpointEvery: 2
`;

function ffprobe(file: string): { streams: Array<{ codec_type: string; duration?: string }>; format: { duration: string } } {
  const r = spawnSync(ffmpegBinaries().ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type,duration:format=duration', '-of', 'json', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffprobe ${file}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

let runA = '';
let runB = '';
let heldOut = '';
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian chromium (.ci/system-deps does) or set VMR_CHROMIUM`);
  ok(['synth-media', '--clips', '8', '--seed', '1', '--min-duration', '9', '--max-duration', '11', '--regimes', '3', '--out', root]);
  ok(['ingest', media, '--out', ds, '--workers', '2']);
  const test = fs.readFileSync(path.join(ds, 'splits', 'test.txt'), 'utf8').trim().split('\n');
  expect(test.length).toBeGreaterThanOrEqual(1);
  heldOut = path.join(media, `${test[0]}.mp4`);
  expect(fs.readFileSync(path.join(ds, 'splits', 'train.txt'), 'utf8')).not.toContain(test[0]);
  for (const [model, set] of [
    ['of-vm-net', (id: string) => (runA = id)],
    ['vm-net', (id: string) => (runB = id)],
  ] as const) {
    const cfg = path.join(root, `${model}.yaml`);
    fs.writeFileSync(cfg, trainYaml(model));
    set((JSON.parse(ok(['train', '-c', cfg, '--store', store, '--json'])) as { runId: string }).runId);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
}, 420_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Top {
  rank: number;
  id: string;
  similarity: number;
  avAlign: number | null;
  ownTrack: boolean;
  preview?: string;
}
interface Result {
  runId: string;
  gallery: { kind: string; size: number; segmentation: string };
  queries: Array<{ video: string; cached: boolean; durationSec: number; ownTrackRank: number | null; top: Top[]; original?: string }>;
  out: { dir: string; page: string } | null;
}

describe('vmr retrieve (real CLI, real ffmpeg)', () => {
  it('ranks the gallery for a held-out clip: top-k JSON reproducible from the cache, previews with one video and one audio stream of the video\'s duration', async () => {
    const out = path.join(root, 'out');
    const args = ['retrieve', heldOut, '--run', runA.slice(0, 8), '--gallery', ds, '-k', '3', '--store', store, '--cache', cache, '--json'];
    const first = JSON.parse(ok([...args, '--out', out])) as Result;
    const second = JSON.parse(ok(args)) as Result;
    expect(first.runId).toBe(runA);
    expect(first.gallery).toMatchObject({ kind: 'dataset', size: 8, segmentation: 'own-clip' });
    const [q1, q2] = [first.queries[0], second.queries[0]];
    expect(q1.cached).toBe(false);
    expect(q2.cached).toBe(true);
    expect(q1.top).toHaveLength(3);
    const { preview: _preview, ...firstTop } = q1.top[0];
    expect(q2.top[0]).toEqual(firstTop); // same id, similarity (bit for bit), AV-Align, own-track mark
    expect(q2.top.map((c) => c.id)).toEqual(q1.top.map((c) => c.id));
    for (let i = 1; i < q1.top.length; i++) expect(q1.top[i].similarity).toBeLessThanOrEqual(q1.top[i - 1].similarity);
    for (const c of q1.top) if (c.avAlign !== null) expect(c.avAlign).toBeGreaterThanOrEqual(0);
    // training clips are marked (the gallery is the run's dataset); the held-out clip is not one
    const trainIds = fs.readFileSync(path.join(ds, 'splits', 'train.txt'), 'utf8').trim().split('\n');
    expect((q1 as unknown as { seenInTraining: boolean }).seenInTraining).toBe(false);
    for (const c of q1.top) expect((c as Top & { seenInTraining: boolean }).seenInTraining).toBe(trainIds.includes(c.id));
    // the held-out clip's own track is in the gallery (all split): its rank is reported, and marked when in the top k
    expect(q1.ownTrackRank).not.toBeNull();
    expect(q1.top.some((c) => c.ownTrack)).toBe(q1.ownTrackRank! <= 3);
    // previews: the video muxed with each candidate, one video + one audio stream, the video's duration
    expect(q1.original).toBeDefined();
    const videoDuration = Number(ffprobe(heldOut).streams.find((s) => s.codec_type === 'video')!.duration);
    expect(Math.abs(videoDuration - q1.durationSec)).toBeLessThan(0.5);
    for (const rel of [q1.original!, ...q1.top.map((c) => c.preview!)]) {
      const p = ffprobe(path.join(out, rel));
      expect(p.streams.map((s) => s.codec_type).sort()).toEqual(['audio', 'video']);
      expect(Math.abs(Number(p.format.duration) - videoDuration)).toBeLessThan(0.1);
      for (const s of p.streams) expect(Math.abs(Number(s.duration) - videoDuration)).toBeLessThan(0.1);
    }
    // the page links the previews relatively and plays in a browser
    const html = fs.readFileSync(first.out!.page, 'utf8');
    for (const c of q1.top) expect(html).toContain(`src="${c.preview}"`);
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const external: string[] = [];
    await ctx.route('**/*', (r) => (r.request().url().startsWith('file:') ? r.continue() : (external.push(r.request().url()), r.abort())));
    const page = await ctx.newPage();
    await page.goto(`file://${first.out!.page}`);
    expect(await page.locator('tr.cand').count()).toBe(3);
    const played = await page.evaluate(async () => {
      const v = document.querySelector('tr.cand video') as HTMLVideoElement;
      await v.play();
      await new Promise((r) => setTimeout(r, 600));
      return { t: v.currentTime, d: v.duration, err: v.error?.message ?? null };
    });
    expect(played.err).toBeNull();
    expect(played.t).toBeGreaterThan(0);
    expect(Math.abs(played.d - videoDuration)).toBeLessThan(0.1);
    expect(external).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'retrieve-page.png'), fullPage: true });
    await ctx.close();
  }, 180_000);

  it('ranks music files given directly, cut to the video and its segments', () => {
    // the held-out clip (cached by the test above) and one more file
    const other = fs.readdirSync(media).filter((f) => f.endsWith('.mp4')).map((f) => path.join(media, f)).find((f) => f !== heldOut)!;
    const files = [heldOut, other];
    const r = JSON.parse(ok(['retrieve', heldOut, '--run', runA, '--gallery', ...files, '-k', '2', '--store', store, '--cache', cache, '--json'])) as Result & {
      gallery: { skipped: Array<{ id: string }> };
    };
    expect(r.gallery.kind).toBe('files');
    expect(r.gallery.segmentation).toBe('query-boundaries');
    expect(r.gallery.size).toBe(2);
    const usable = 2 - r.gallery.skipped.length;
    expect(usable).toBeGreaterThanOrEqual(1); // the held-out clip's own track is as long as the video
    expect(r.queries[0].top).toHaveLength(usable);
    expect(r.queries[0].ownTrackRank).not.toBeNull();
  }, 120_000);

  it('bad input: one line naming the file or run and the flag, exit 1', async () => {
    const bad = path.join(root, 'broken.mp4');
    fs.writeFileSync(bad, 'not a video at all');
    const silent = path.join(root, 'silent.mp4');
    const mk = spawnSync(ffmpegBinaries().ffmpeg, ['-v', 'error', '-y', '-i', heldOut, '-an', '-c:v', 'copy', silent]);
    expect(mk.status).toBe(0);
    const empty = path.join(root, 'empty-gallery');
    fs.mkdirSync(empty);
    // runs without a checkpoint / needing features new media cannot provide: written through the Tracker API
    const t = new SqliteTracker(store, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
    const a = await t.getRun(runA);
    const cfg = JSON.parse(fs.readFileSync(await t.artifactFile(runA, 'config.json'), 'utf8')) as { config: Record<string, unknown> };
    const noCk = await t.startRun({ experiment: 'retrieve-e2e-bad', name: 'no-checkpoint', tags: { 'vmr.kind': 'train' } });
    const cfgFile = path.join(root, 'config.json');
    fs.writeFileSync(cfgFile, JSON.stringify(cfg));
    await t.logArtifact(noCk.id, cfgFile, 'config.json');
    await t.endRun(noCk.id, 'killed');
    const resnet = await t.startRun({ experiment: 'retrieve-e2e-bad', name: 'resnet', tags: { 'vmr.kind': 'train' } });
    const rcfg = path.join(root, 'resnet.json');
    fs.writeFileSync(rcfg, JSON.stringify({ config: { ...cfg.config, features: 'resnet', dataset: path.join(root, 'nowhere') } }));
    await t.logArtifact(resnet.id, rcfg, 'config.json');
    await t.logArtifact(resnet.id, await t.artifactFile(runA, 'checkpoints/final.ckpt'), 'checkpoints/final.ckpt');
    await t.endRun(resnet.id, 'finished');
    expect(a.status).toBe('finished');
    await t.close();

    const cases: Array<[string[], RegExp]> = [
      [[bad, '--run', runA, '--gallery', ds], new RegExp(`VIDEO ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `)],
      [[heldOut, '--run', runA, '--gallery', silent], /--gallery .*silent\.mp4: no audio stream/],
      [[heldOut, '--run', noCk.id, '--gallery', ds], new RegExp(`--run ${noCk.id}: run ${noCk.id} \\(killed\\) has no checkpoint`)],
      [[heldOut, '--run', runA, '--gallery', empty], /--gallery .*empty-gallery: no media files found \(an empty gallery\)/],
      // resnet is a pretrained extractor fetched by name: offline with an empty model cache, one line saying so
      [[heldOut, '--run', resnet.id, '--gallery', ds], /model for extractor resnet .* is not in the model cache .* offline mode is on \(--offline \/ VMR_OFFLINE=1\)/],
    ];
    const emptyModels = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-no-models-'));
    for (const [args, re] of cases) {
      const r = withEnv({ VMR_OFFLINE: '1', VMR_MODEL_CACHE: emptyModels }, () => vmr(['retrieve', ...args, '--store', store, '--cache', cache]));
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(re);
    }
  }, 180_000);
});

function startServe(args: string[]): Promise<{ proc: ChildProcess; url: string; stdout: () => string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [path.join(repoRoot(), 'bin', 'vmr.js'), 'listen', 'serve', ...args], { env: { ...process.env, VMR_QUIET: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\/\/[^ ?]+)/.exec(out);
      if (m) resolve({ proc, url: m[1], stdout: () => out });
    });
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    proc.on('exit', (code) => reject(new Error(`listen serve exited ${code}: ${err}`)));
  });
}

describe('vmr listen (real CLI server, real browser)', () => {
  it('plays, votes on every item, resumes after a reload and after a server crash; stored judgments and report counts match; bad tokens get 401 and store nothing', async () => {
    const TOKEN = 'listen-e2e-token';
    const clicks: Array<{ item: number; slot: number; rating: number }> = [];
    const serveArgs = ['--gallery', ds, '--split', 'all', '--truth', '--items', '4', '--port', '0', '--token', TOKEN, '--store', store, '--cache', cache];
    const { proc, url } = await startServe(['--runs', `${runA},${runB}`, ...serveArgs]);
    const killed = new Promise<NodeJS.Signals | null>((r) => proc.on('exit', (_c, sig) => r(sig)));
    let total = 0;
    try {
      // wrong / missing token: 401, nothing stored
      for (const headers of [{}, { Authorization: 'Bearer wrong' }] as Array<Record<string, string>>) {
        const res = await fetch(`${url}api/judgments`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify({ rater: 'mallory', item: 0, choice: 0 }) });
        expect(res.status).toBe(401);
      }
      expect((await fetch(`${url}?rater=mallory`)).status).toBe(401);
      expect((await fetch(`${url}media/0/0?rater=mallory&token=nope`)).status).toBe(401);

      const ctx = await browser.newContext({ viewport: { width: 1200, height: 800 } });
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${url}?token=${TOKEN}&rater=r1`);
      for (let step = 0; ; step++) {
        await page.waitForFunction(() => !document.getElementById('done')!.hidden || (!document.getElementById('test')!.hidden && !!document.getElementById('progress')!.textContent));
        if (await page.locator('#done').isVisible()) break;
        const progress = (await page.textContent('#progress'))!;
        const m = /Item (\d+) of (\d+)/.exec(progress)!;
        expect(Number(m[1])).toBe(step + 1); // resumes at the first unjudged item, also after the reload
        total = Number(m[2]);
        const item = Number(await page.getAttribute('#progress', 'data-item'));
        const cands = page.locator('.cand');
        const n = await cands.count();
        expect(n).toBeGreaterThanOrEqual(2);
        expect(await page.isDisabled('#submit')).toBe(true);
        for (let i = 0; i < n; i++) {
          await cands.nth(i).locator('button.play').click();
          await page.waitForSelector(`.cand[data-slot="${i}"].played`);
        }
        const slot = step % n;
        const rating = 1 + (step % 5);
        await cands.nth(slot).locator('input[type=radio]').check();
        await page.selectOption('#rating', String(rating));
        if (step === 0) await page.screenshot({ path: path.join(ARTIFACTS, 'listen-page.png'), fullPage: true });
        await page.click('#submit');
        clicks.push({ item, slot, rating });
        await page.waitForFunction((prev) => document.getElementById('progress')!.dataset.item !== String(prev) || !document.getElementById('done')!.hidden, item);
        if (step === 1) await page.reload();
      }
      expect(errors).toEqual([]);
      expect(clicks).toHaveLength(total);
      expect(total).toBeGreaterThanOrEqual(2);
      // a second rater through the same HTTP API (no browser): slot 0 on every item
      const auth = { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` };
      for (let item = 0; item < total; item++) {
        const res = await fetch(`${url}api/judgments`, { method: 'POST', headers: auth, body: JSON.stringify({ rater: 'r2', item, choice: 0 }) });
        expect(res.status).toBe(201);
      }
      const state = (await (await fetch(`${url}api/state?rater=r2`, { headers: auth })).json()) as { total: number; done: number; next: unknown };
      expect(state).toMatchObject({ total, done: total, next: null });
      // a re-vote is refused
      const again = await fetch(`${url}api/judgments`, { method: 'POST', headers: auth, body: JSON.stringify({ rater: 'r1', item: clicks[0].item, choice: 0 }) });
      expect(again.status).toBe(409);
      await ctx.close();
    } finally {
      proc.kill('SIGKILL'); // a crash: every judgment was committed when submitted
    }
    expect(await killed).toBe('SIGKILL');
    // serve the same test again (the experiment's two training runs = A, B): the same run resumes with every judgment
    const again = await startServe(['-e', 'retrieve-e2e', ...serveArgs]);
    const exited = new Promise<number | null>((r) => again.proc.on('exit', (c) => r(c)));
    try {
      expect(again.stdout()).toContain(`resumed, ${2 * total} judgments so far`);
      const st = (await (await fetch(`${again.url}api/state?rater=r1&token=${TOKEN}`)).json()) as { done: number; next: unknown };
      expect(st).toMatchObject({ done: total, next: null });
    } finally {
      again.proc.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    // stored judgments (real store): r1's as clicked in the browser, r2's through the API, nobody else's
    const t = new SqliteTracker(store, { reapStaleRuns: false, heartbeatIntervalMs: 0 });
    const listenRuns = await t.searchRuns({ tags: { 'vmr.kind': 'listen' } });
    expect(listenRuns).toHaveLength(1);
    const run = await t.getRun(listenRuns[0].id);
    expect(run.status).toBe('finished');
    const test = JSON.parse(fs.readFileSync(await t.artifactFile(run.id, 'listening-test.json'), 'utf8')) as { items: Array<{ candidates: Array<{ track: string; systems: string[] }> }> };
    await t.close();
    const N = test.items.length;
    type Stored = { rater: string; item: number; choice: number; rating?: number; shown: string[]; chosenTrack: string; chosenSystems: string[] };
    const judgments = Object.entries(run.params)
      .filter(([k]) => k.startsWith('judgment/'))
      .map(([k, v]) => ({ key: k, ...(JSON.parse(v) as Stored) }));
    expect(judgments).toHaveLength(2 * N);
    expect(new Set(judgments.map((j) => j.rater))).toEqual(new Set(['r1', 'r2']));
    let expectA = 0;
    let expectB = 0;
    const labels = new Map<string, string>();
    for (const j of judgments) {
      expect(j.key).toBe(`judgment/${j.rater}/${j.item}`);
      expect([...j.shown].sort()).toEqual(test.items[j.item].candidates.map((c) => c.track).sort());
      expect(j.chosenTrack).toBe(j.shown[j.choice]);
      if (j.rater === 'r1') {
        const click = clicks.find((c) => c.item === j.item)!;
        expect({ choice: j.choice, rating: j.rating }).toEqual({ choice: click.slot, rating: click.rating });
      } else {
        expect({ choice: j.choice, rating: j.rating }).toEqual({ choice: 0, rating: undefined });
      }
      const chosen = test.items[j.item].candidates.find((c) => c.track === j.chosenTrack)!;
      expect(j.chosenSystems).toEqual(chosen.systems);
      if (chosen.systems.includes('A')) expectA++;
      if (chosen.systems.includes('B')) expectB++;
      labels.set(`${j.rater}/${j.item}`, [...chosen.systems].sort().join('+'));
    }
    const agree = test.items.filter((_, i) => labels.get(`r1/${i}`) === labels.get(`r2/${i}`)).length;
    type Rep = {
      judgments: number;
      raters: string[];
      items: number;
      systems: Record<string, { chosen: number; n: number }>;
      agreement: { fleiss: { items: number; observed: number }; cohen: Array<{ raters: string[]; kappa: { items: number; observed: number } }> };
      correlation: { similarityA: { n: number } };
    };
    const rep = JSON.parse(ok(['listen', 'report', '--store', store, '--json'])) as Rep[];
    expect(rep).toHaveLength(1);
    expect(rep[0]).toMatchObject({ judgments: 2 * N, raters: ['r1', 'r2'], items: N });
    expect(rep[0].systems.A).toMatchObject({ chosen: expectA, n: 2 * N });
    expect(rep[0].systems.B).toMatchObject({ chosen: expectB, n: 2 * N });
    // agreement: both raters judged every item; observed agreement = share of items where they chose the same system(s)
    expect(rep[0].agreement.fleiss.items).toBe(N);
    expect(rep[0].agreement.fleiss.observed).toBeCloseTo(agree / N, 12);
    expect(rep[0].agreement.cohen).toHaveLength(1);
    expect(rep[0].agreement.cohen[0].kappa).toMatchObject({ items: N });
    expect(rep[0].agreement.cohen[0].kappa.observed).toBeCloseTo(agree / N, 12);
    const abJudgments = judgments.filter((j) => j.chosenSystems.includes('A') !== j.chosenSystems.includes('B')).length;
    expect(rep[0].correlation.similarityA.n).toBe(abJudgments);
    const human = ok(['listen', 'report', '--store', store]);
    expect(human).toContain(`${2 * N} judgments`);
    // the experiment's HTML report carries the listening test next to the metrics
    const page = path.join(path.dirname(store), 'listen-report.html');
    ok(['report', 'html', '-e', 'retrieve-e2e', '--store', store, '--out', page]);
    const html = fs.readFileSync(page, 'utf8');
    expect(html).toContain('id="listening-tests"');
    expect(html).toContain(`${expectA}/${2 * N}`);
  }, 360_000);
});
