import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { SqliteTracker, TrackingServer } from '@vmr/tracking';
import type { SweepRunResult } from './coordinator';
import { experimentTables } from './experiment';

describe('experimentTables (vmr experiment run / quickstart tables)', () => {
  it("tabulates exactly the sweep's training runs, from the store file and through a tracking server alike", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vmr-exp-tables-'));
    const db = path.join(dir, 'runs.db');
    const t = new SqliteTracker(db, { heartbeatIntervalMs: 0 });
    const trainIds: string[] = [];
    // Three seeds of one configuration; the third training run is not a trial of this sweep.
    for (const [seed, r1] of [[0, 0.2], [1, 0.4], [2, 0.9]] as const) {
      const train = await t.startRun({ experiment: 'exp', seed, protocol: 'paper', tags: { 'vmr.kind': 'train' } });
      await t.logParams(train.id, { model: 'vm-net', features: 'clip', seed, 'dataset.name': 'syn' });
      await t.endRun(train.id, 'finished');
      const ev = await t.startRun({ experiment: 'exp', parentId: train.id, protocol: 'paper', tags: { 'vmr.kind': 'eval' } });
      await t.logParams(ev.id, { 'eval.dataset.name': 'syn', 'eval.split': 'test' });
      await t.logMetrics(ev.id, [{ key: 'eval.r1', value: r1 }]);
      await t.endRun(ev.id, 'finished');
      trainIds.push(train.id);
    }
    await t.close();
    const server = new TrackingServer({ db, port: 0 });
    const url = await server.listen();
    try {
      const r = { experiment: 'exp', trialList: trainIds.slice(0, 2).map((id, i) => ({ key: `k${i}`, index: i, label: `seed ${i}`, status: 'finished', trainRunId: id })) } as unknown as SweepRunResult;
      const local = await experimentTables(r, { store: db });
      const served = await experimentTables(r, { trackingUri: url });
      expect(served).toEqual(local);
      expect(local).toHaveLength(1);
      expect(local[0].rows).toHaveLength(1);
      expect(local[0].rows[0].runs).toBe(2); // seeds 0 and 1 only
      expect(local[0].rows[0].cells.r1?.mean).toBeCloseTo(0.3, 12);
      expect(await experimentTables({ ...r, trialList: [] }, { trackingUri: url })).toEqual([]);
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
