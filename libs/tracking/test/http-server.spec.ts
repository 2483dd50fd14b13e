/**
 * The tracking server as a real process: load from 8 client processes, SIGKILL of the server mid-load,
 * a killed client, and the HTTP-level error contract (401, 413, 400, 404, path traversal).
 */
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import axios from 'axios';
import { SqliteTracker, TrackingServer } from '../src';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const WORKER = path.join(__dirname, 'helpers', 'log-worker.ts');
const TSX = require.resolve('tsx/cjs');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

interface Proc {
  child: ChildProcess;
  out: () => string;
  done: Promise<number | null>;
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<void>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, ['--require', TSX, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i].re.test(out)) waiters.splice(i, 1)[0].resolve();
  };
  child.stdout!.on('data', (d) => {
    out += d;
    check();
  });
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) process.stderr.write(`process ${args.join(' ')} stderr:\n${err}\n`);
      resolve(code);
    }),
  );
  return {
    child,
    out: () => out,
    done,
    waitFor: (re, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in:\n${out}\n${err}`)), timeoutMs);
        waiters.push({ re, resolve: () => (clearTimeout(timer), resolve()) });
        check();
      }),
  };
}

function startServer(db: string, port: number, heartbeatTimeoutSeconds = 60): Proc {
  return start([path.join(__dirname, 'helpers', 'serve.ts'), db, String(port), String(heartbeatTimeoutSeconds)]);
}

function tmpDb(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-http-')), 'runs.db');
}

describe('tracking server under load and faults (real processes)', () => {
  it('8 client processes × 5,000 points through the server → exactly 40,000 points', async () => {
    const db = tmpDb();
    const port = await freePort();
    const server = startServer(db, port);
    await server.waitFor(/listening on/);
    const url = `http://127.0.0.1:${port}`;
    const t0 = Date.now();
    const workers = Array.from({ length: 8 }, () => start([WORKER, url, 'load', '5000', '500']));
    expect(await Promise.all(workers.map((w) => w.done))).toEqual(Array(8).fill(0));
    const secs = (Date.now() - t0) / 1000;
    server.child.kill('SIGTERM');
    expect(await server.done).toBe(0);
    const t = new SqliteTracker(db, { heartbeatIntervalMs: 0 });
    try {
      expect(t.counts().metrics).toBe(40000);
      const runs = await t.searchRuns({ experiment: 'load' });
      expect(runs).toHaveLength(8);
      expect(runs.every((r) => r.status === 'finished')).toBe(true);
      process.stdout.write(`8 × 5,000 points through the server: ${Math.round(40000 / secs)} points/s including process start-up\n`);
    } finally {
      await t.close();
    }
  });

  it('server SIGKILLed mid-load and restarted: clients retry; nothing lost, nothing duplicated', async () => {
    const db = tmpDb();
    const port = await freePort();
    let server = startServer(db, port);
    await server.waitFor(/listening on/);
    const url = `http://127.0.0.1:${port}`;
    const workers = Array.from({ length: 3 }, () => start([WORKER, url, 'fault', '20000', '200']));
    await Promise.all(workers.map((w) => w.waitFor(/batch 10\n/)));
    server.child.kill('SIGKILL');
    await server.done;
    await new Promise((r) => setTimeout(r, 500));
    server = startServer(db, port);
    await server.waitFor(/listening on/);
    expect(await Promise.all(workers.map((w) => w.done))).toEqual([0, 0, 0]);
    server.child.kill('SIGTERM');
    await server.done;
    const t = new SqliteTracker(db, { heartbeatIntervalMs: 0 });
    try {
      const runs = await t.searchRuns({ experiment: 'fault' });
      expect(runs).toHaveLength(3);
      for (const r of runs) {
        expect(r.status).toBe('finished');
        const hist = await t.metricHistory(r.id, 'loss');
        expect(hist).toHaveLength(20000);
        hist.forEach((p, i) => expect(p.step).toBe(i)); // each step exactly once
      }
    } finally {
      await t.close();
    }
  });

  it('a client killed mid-run leaves a run the server marks failed', async () => {
    const db = tmpDb();
    const port = await freePort();
    const server = startServer(db, port, 1);
    await server.waitFor(/listening on/);
    const w = start([WORKER, `http://127.0.0.1:${port}`, 'dies', '1000', '100', 'hang']);
    await w.waitFor(/hanging/);
    const runId = /run ([0-9a-f]{32})/.exec(w.out())![1];
    w.child.kill('SIGKILL');
    await w.done;
    const deadline = Date.now() + 15_000;
    let status = 'RUNNING';
    while (Date.now() < deadline && status === 'RUNNING') {
      await new Promise((r) => setTimeout(r, 300));
      status = (await axios.get(`http://127.0.0.1:${port}/api/2.0/mlflow/runs/get`, { params: { run_id: runId } })).data.run.info.status;
    }
    expect(status).toBe('FAILED');
    const t = new SqliteTracker(db, { heartbeatIntervalMs: 0, reapStaleRuns: false });
    try {
      expect((await t.metricHistory(runId, 'loss')).length).toBe(1000);
    } finally {
      await t.close();
      server.child.kill('SIGTERM');
      await server.done;
    }
  });
});

describe('tracking server HTTP contract', () => {
  let server: TrackingServer;
  let url: string;
  const TOKEN = 'test-token-123';
  const api = (p: string) => `${url}/api/2.0/mlflow/${p}`;
  const auth = { headers: { Authorization: `Bearer ${TOKEN}` }, validateStatus: () => true };

  beforeAll(async () => {
    server = new TrackingServer({ db: tmpDb(), port: 0, token: TOKEN, maxBodyBytes: 64 * 1024, maxArtifactBytes: 1024 });
    url = await server.listen();
  });
  afterAll(async () => {
    await server.close();
  });

  it('rejects requests without the right token (401, MLflow error shape)', async () => {
    const none = await axios.get(api('experiments/search'), { validateStatus: () => true });
    expect(none.status).toBe(401);
    expect(none.data).toMatchObject({ error_code: 'UNAUTHENTICATED' });
    const wrong = await axios.get(api('experiments/search'), { headers: { Authorization: 'Bearer nope' }, validateStatus: () => true });
    expect(wrong.status).toBe(401);
  });

  it('refuses to bind a non-loopback address without a token', () => {
    expect(() => new TrackingServer({ db: tmpDb(), host: '0.0.0.0' })).toThrow(/refusing to bind 0\.0\.0\.0 without a token/);
  });

  it('oversized bodies → 413; malformed JSON and wrong types → 400 with error_code and message', async () => {
    const exp = await axios.post(api('experiments/create'), { name: 'http' }, auth);
    expect(exp.status).toBe(200);
    const run = await axios.post(api('runs/create'), { experiment_id: exp.data.experiment_id }, auth);
    const runId = run.data.run.info.run_id as string;
    const big = await axios.post(api('runs/log-batch'), { run_id: runId, tags: [{ key: 'x', value: 'y'.repeat(100_000) }] }, auth);
    expect(big.status).toBe(413);
    expect(big.data.error_code).toBe('REQUEST_LIMIT_EXCEEDED');
    const malformed = await axios.post(api('runs/log-batch'), '{"run_id": ', { ...auth, headers: { ...auth.headers, 'Content-Type': 'application/json' }, transformRequest: [(d: unknown) => d] });
    expect(malformed.status).toBe(400);
    expect(malformed.data.error_code).toBe('MALFORMED_REQUEST');
    const wrongType = await axios.post(api('runs/log-metric'), { run_id: runId, key: 'm', value: 'high', timestamp: 1 }, auth);
    expect(wrongType.status).toBe(400);
    expect(wrongType.data).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(wrongType.data.message).toMatch(/non-numeric value "high"/);
    const badStep = await axios.post(api('runs/log-metric'), { run_id: runId, key: 'm', value: 1, step: 'x' }, auth);
    expect(badStep.status).toBe(400);
    const tooMany = await axios.post(api('runs/log-batch'), { run_id: runId, params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: '1' })) }, auth);
    expect(tooMany.status).toBe(400);
    expect(tooMany.data.message).toMatch(/101 params \(max 100\)/);
    const hist = await axios.get(api('metrics/get-history'), { ...auth, params: { run_id: runId, metric_key: 'm' } });
    expect(hist.data.metrics).toEqual([]); // nothing was written by the rejected requests
  });

  it('unknown run ids → 404 RESOURCE_DOES_NOT_EXIST; unknown endpoints → 404', async () => {
    const r = await axios.get(api('runs/get'), { ...auth, params: { run_id: 'a'.repeat(32) } });
    expect(r.status).toBe(404);
    expect(r.data.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const m = await axios.post(api('runs/log-metric'), { run_id: 'b'.repeat(32), key: 'k', value: 1, timestamp: 1 }, auth);
    expect(m.status).toBe(404);
    const e = await axios.get(api('nope/nothing'), auth);
    expect(e.status).toBe(404);
  });

  it('artifact paths with traversal are rejected; oversized artifacts → 413', async () => {
    const exp = await axios.post(api('experiments/create'), { name: 'art' }, auth);
    const run = await axios.post(api('runs/create'), { experiment_id: exp.data.experiment_id }, auth);
    const runId = run.data.run.info.run_id as string;
    const base = `${url}/api/2.0/mlflow-artifacts/artifacts/${exp.data.experiment_id}/${runId}/artifacts`;
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', 'a%2F..%2F..%2Fb', '.%2Fx', 'a%2F%2Fb', '..%5Cwin']) {
      const r = await axios.put(`${base}/${bad}`, Buffer.from('x'), auth);
      expect([400, 404]).toContain(r.status);
      if (r.status === 400) expect(r.data.message).toMatch(/artifact path/);
    }
    const ok = await axios.put(`${base}/model/w.bin`, Buffer.from('weights'), auth);
    expect(ok.status).toBe(200);
    const back = await axios.get(`${base}/model/w.bin`, { ...auth, responseType: 'arraybuffer' });
    expect(Buffer.from(back.data).toString()).toBe('weights');
    const big = await axios.put(`${base}/big.bin`, Buffer.alloc(4096), auth);
    expect(big.status).toBe(413);
  });

  it('search speaks the MLflow filter subset and paginates', async () => {
    const exp = await axios.post(api('experiments/create'), { name: 'search' }, auth);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = await axios.post(api('runs/create'), { experiment_id: exp.data.experiment_id, run_name: `r${i}` }, auth);
      const id = run.data.run.info.run_id as string;
      ids.push(id);
      await axios.post(api('runs/log-batch'), { run_id: id, metrics: [{ key: 'r1', value: i / 10, timestamp: 1, step: 0 }], params: [{ key: 'model', value: i % 2 ? 'vm-net' : 'of-vm-net' }] }, auth);
    }
    const body = { experiment_ids: [exp.data.experiment_id], filter: "params.model = 'of-vm-net' AND metrics.r1 > 0.1", order_by: ['metrics.r1 DESC'], max_results: 1 };
    const p1 = await axios.post(api('runs/search'), body, auth);
    expect(p1.status).toBe(200);
    expect(p1.data.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([ids[4]]);
    const p2 = await axios.post(api('runs/search'), { ...body, page_token: p1.data.next_page_token }, auth);
    expect(p2.data.runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([ids[2]]);
    expect(p2.data.next_page_token).toBeUndefined();
    const bad = await axios.post(api('runs/search'), { filter: 'params.model LIKE x' }, auth);
    expect(bad.status).toBe(400);
  });
});
