/**
 * A small multi-host lab for tests, in Linux network namespaces made here: a "head" namespace with a
 * bridge (10.213.0.1/24) and N "node" namespaces (10.213.0.2, .3, …), each joined to the bridge by its
 * own veth pair. No namespace has a route outside, and none is linked to the machine's own network, so
 * the only way a node reaches the head is over the veth: a loopback address inside a node is that node.
 * `stop()` kills every process left in the namespaces and deletes them (also after a failed test).
 * Needs root and iproute2; throws with the reason otherwise — it never skips.
 */
import { execFileSync, spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import { VMR, sleep } from '../helpers';

export interface Ns {
  name: string;
  /** This namespace's address on the lab network. */
  addr: string;
}

export interface NetLab {
  head: Ns;
  nodes: Ns[];
  /** Spawn a command inside a namespace (the child's pid is the command's own: `ip netns exec` execs it). */
  spawnIn(ns: Ns, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess & { out: { stdout: string; stderr: string } };
  /** `vmr …` inside a namespace. */
  vmrIn(ns: Ns, args: string[], env?: NodeJS.ProcessEnv): ChildProcess & { out: { stdout: string; stderr: string } };
  /** Pids of every process in a namespace. */
  pids(ns: Ns): number[];
  /** Command lines of the processes in a namespace. */
  commands(ns: Ns): { pid: number; cmd: string }[];
  stop(): Promise<void>;
}

function ip(args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(err.stderr ?? err.message).trim()}`);
  }
}

export async function startNetLab(nodes = 2): Promise<NetLab> {
  if (process.getuid?.() !== 0) throw new Error('the multi-host test creates network namespaces (ip netns add), which needs root; run the suite as root (CI does)');
  if (!fs.existsSync('/usr/sbin/ip') && !fs.existsSync('/sbin/ip') && !fs.existsSync('/usr/bin/ip')) throw new Error('the multi-host test needs `ip` (Debian package iproute2); run .ci/system-deps as root');
  const tag = `vmr${process.pid % 100000}`;
  const head: Ns = { name: `${tag}-head`, addr: '10.213.0.1' };
  const nodeList: Ns[] = Array.from({ length: nodes }, (_, i) => ({ name: `${tag}-node${i + 1}`, addr: `10.213.0.${i + 2}` }));
  const all = [head, ...nodeList];
  const pids = (ns: Ns): number[] => {
    try {
      return ip(['netns', 'pids', ns.name])
        .split('\n')
        .map((l) => Number(l.trim()))
        .filter((n) => n > 0);
    } catch {
      return [];
    }
  };
  const stop = async () => {
    for (const ns of all) {
      for (const pid of pids(ns)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    await sleep(200);
    for (const ns of all) {
      try {
        ip(['netns', 'del', ns.name]);
      } catch {
        /* never made */
      }
    }
  };
  try {
    for (const ns of all) {
      ip(['netns', 'add', ns.name]);
      ip(['-n', ns.name, 'link', 'set', 'lo', 'up']);
    }
    ip(['-n', head.name, 'link', 'add', 'br0', 'type', 'bridge']);
    ip(['-n', head.name, 'addr', 'add', `${head.addr}/24`, 'dev', 'br0']);
    ip(['-n', head.name, 'link', 'set', 'br0', 'up']);
    nodeList.forEach((n, i) => {
      const hostSide = `v${i + 1}`;
      ip(['link', 'add', hostSide, 'netns', head.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', n.name]);
      ip(['-n', head.name, 'link', 'set', hostSide, 'master', 'br0', 'up']);
      ip(['-n', n.name, 'addr', 'add', `${n.addr}/24`, 'dev', 'eth0']);
      ip(['-n', n.name, 'link', 'set', 'eth0', 'up']);
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const spawnIn = (ns: Ns, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
    const child = spawn('ip', ['netns', 'exec', ns.name, cmd, ...args], { env: { ...process.env, VMR_QUIET: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] }) as ChildProcess & { out: { stdout: string; stderr: string } };
    child.out = { stdout: '', stderr: '' };
    child.stdout!.on('data', (d) => (child.out.stdout += d));
    child.stderr!.on('data', (d) => (child.out.stderr += d));
    return child;
  };
  return {
    head,
    nodes: nodeList,
    spawnIn,
    vmrIn: (ns, args, env) => spawnIn(ns, process.execPath, [VMR, ...args], env),
    pids,
    commands: (ns) =>
      pids(ns).map((pid) => {
        let cmd = '';
        try {
          cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
        } catch {
          /* exited */
        }
        return { pid, cmd };
      }),
    stop,
  };
}
