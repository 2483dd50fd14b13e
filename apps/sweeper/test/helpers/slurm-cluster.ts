/**
 * A real single-node Slurm cluster for tests: munged + slurmctld + slurmd (Debian's packages) started
 * in the foreground with a generated slurm.conf in a temp dir, on free ports; `env` points the Slurm
 * client tools (sbatch, squeue, scancel, scontrol) at it. `stop()` ends the daemons and removes the dir,
 * also when a test failed. Needs root (slurmd runs jobs as the submitting user). Throws with the reason
 * when something is missing — it never skips.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { freePort, sleep } from '../helpers';

export interface SlurmCluster {
  /** Environment for processes that talk to this cluster (SLURM_CONF). */
  env: NodeJS.ProcessEnv;
  conf: string;
  dir: string;
  /** Run a Slurm client tool against this cluster. */
  tool(cmd: string, args: string[]): string;
  stop(): Promise<void>;
}

function need(bin: string, pkg: string): string {
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) if (fs.existsSync(path.join(d, bin))) return path.join(d, bin);
  throw new Error(`the Slurm test needs ${bin} (Debian package ${pkg}); run .ci/system-deps as root`);
}

export async function startSlurmCluster(): Promise<SlurmCluster> {
  if (process.getuid?.() !== 0) throw new Error('the Slurm test starts slurmd, which must run as root; run the suite as root (CI does)');
  const munged = need('munged', 'munge');
  const slurmctld = need('slurmctld', 'slurmctld');
  const slurmd = need('slurmd', 'slurmd');
  need('sbatch', 'slurm-client');
  // A short path: the munge socket path must fit in sockaddr_un.
  const dir = fs.mkdtempSync('/tmp/vmr-slurm-');
  fs.chmodSync(dir, 0o755);
  const procs: ChildProcess[] = [];
  const logs: Record<string, string> = {};
  let confPath: string | undefined;
  const stop = async () => {
    // End this cluster's jobs first (their slurmstepd and trial processes), then the daemons.
    if (confPath) {
      const env = { ...process.env, SLURM_CONF: confPath };
      try {
        execFileSync('scancel', ['--full', '--user', os.userInfo().username], { env, stdio: 'ignore', timeout: 15_000 });
        for (let i = 0; i < 40; i++) {
          if (execFileSync('squeue', ['-h', '-o', '%i'], { env, encoding: 'utf8', timeout: 15_000 }).trim() === '') break;
          await sleep(250);
        }
      } catch {
        /* the controller is gone already */
      }
    }
    for (const p of procs.reverse()) {
      if (p.exitCode === null && p.signalCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([gone, new Promise((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const start = (name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    logs[name] = '';
    p.stdout!.on('data', (d) => (logs[name] += d));
    p.stderr!.on('data', (d) => (logs[name] += d));
    procs.push(p);
    return p;
  };
  try {
    for (const d of ['munge', 'state', 'spool', 'log']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.chmodSync(path.join(dir, 'munge'), 0o711);
    const key = path.join(dir, 'munge', 'munge.key');
    fs.writeFileSync(key, require('crypto').randomBytes(1024));
    fs.chmodSync(key, 0o400);
    const sock = path.join(dir, 'munge', 'sock');
    start('munged', munged, ['-F', '-f', `--socket=${sock}`, `--key-file=${key}`, `--log-file=${path.join(dir, 'log', 'munged.log')}`, `--pid-file=${path.join(dir, 'munge', 'pid')}`, `--seed-file=${path.join(dir, 'munge', 'seed')}`], process.env);
    for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await sleep(100);
    if (!fs.existsSync(sock)) throw new Error(`munged did not start: ${logs.munged}`);
    const host = os.hostname().split('.')[0];
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const conf = path.join(dir, 'slurm.conf');
    confPath = conf;
    const cpus = Math.max(1, os.cpus().length);
    fs.writeFileSync(
      conf,
      [
        'ClusterName=vmrtest',
        `SlurmctldHost=${host}(127.0.0.1)`,
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        'SlurmUser=root',
        'SlurmdUser=root',
        'AuthType=auth/munge',
        `AuthInfo=socket=${sock}`,
        'CredType=cred/munge',
        `StateSaveLocation=${path.join(dir, 'state')}`,
        `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
        `SlurmctldPidFile=${path.join(dir, 'slurmctld.pid')}`,
        `SlurmdPidFile=${path.join(dir, 'slurmd.pid')}`,
        `SlurmctldLogFile=${path.join(dir, 'log', 'slurmctld.log')}`,
        `SlurmdLogFile=${path.join(dir, 'log', 'slurmd.log')}`,
        'ProctrackType=proctrack/linuxproc',
        'TaskPlugin=task/none',
        'JobAcctGatherType=jobacct_gather/none',
        'AccountingStorageType=accounting_storage/none',
        'MpiDefault=none',
        'SchedulerType=sched/builtin',
        'SelectType=select/cons_tres',
        'SelectTypeParameters=CR_Core',
        'ReturnToService=2',
        'MinJobAge=600',
        'KillWait=5',
        `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=1000 State=UNKNOWN`,
        `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
        '',
      ].join('\n'),
    );
    const env = { ...process.env, SLURM_CONF: conf };
    start('slurmctld', slurmctld, ['-D', '-i', '-f', conf], env);
    start('slurmd', slurmd, ['-D', '-f', conf], env);
    const tool = (cmd: string, args: string[]) => execFileSync(cmd, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let last = '';
    for (let i = 0; i < 120; i++) {
      try {
        last = tool('sinfo', ['-h', '-o', '%T']).trim();
        if (last === 'idle') break;
      } catch (e) {
        last = String(e);
      }
      for (const p of procs) if (p.exitCode !== null) throw new Error(`a Slurm daemon exited during start-up:\n${Object.values(logs).join('\n')}`);
      await sleep(250);
    }
    if (last !== 'idle') throw new Error(`the test Slurm node did not become idle (sinfo: ${last}):\n${Object.values(logs).join('\n')}`);
    return { env, conf, dir, tool, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
