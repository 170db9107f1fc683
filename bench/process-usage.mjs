// CPU and memory of the processes under test, from /proc, sampled once a second. CPU is the
// utime + stime a process accumulated between two samples, as a share of one core; memory is VmRSS.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may hold spaces and parentheses: the fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), reapedTicks: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

function readMemory(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), shmem: kb('RssShmem') };
  } catch {
    return undefined;
  }
}

function allPids() {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The nats-server process listening on `port` (the -p/--port flag, 4222 when absent). */
export function findNatsPid(port) {
  for (const pid of allPids()) {
    const args = cmdline(pid);
    if (!args.length || !/(^|\/)nats-server$/.test(args[0])) continue;
    let p = 4222;
    for (let i = 1; i < args.length; i++) {
      const m = /^--?(?:p|port)(?:=(\d+))?$/.exec(args[i]);
      if (m) p = Number(m[1] ?? args[i + 1]);
    }
    if (p === port) return pid;
  }
  return undefined;
}

export function parentOf(pid) {
  return readStat(pid)?.ppid;
}

function childrenOf(parent) {
  const out = [];
  for (const pid of allPids()) if (readStat(pid)?.ppid === parent) out.push(pid);
  return out;
}

function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - f[4], total };
}

/**
 * Groups of processes sampled together. A group is a fixed pid (a node process) or a server
 * (`tree: true`): the pid and all its children, plus the CPU of children that exited meanwhile
 * (reaped into the parent's cutime/cstime), which is how PostgreSQL's short-lived workers count.
 */
export class ProcessUsage {
  constructor() {
    this.groups = new Map();
    this.samples = [];
    this.timer = undefined;
  }

  track(name, pid, options = {}) {
    if (pid) this.groups.set(name, { pid, tree: options.tree ?? false, sharedMemory: options.sharedMemory ?? false, labels: new Map() });
  }

  /**
   * Names the processes of a tree group (pid -> label), so that its CPU can be split: for PostgreSQL,
   * which client each backend serves. Labels stick to a pid until it is labelled again.
   */
  label(name, labels) {
    const g = this.groups.get(name);
    if (g) for (const [pid, label] of labels) g.labels.set(pid, label);
  }

  untrack(name) {
    this.groups.delete(name);
  }

  start(intervalMs = 1000) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  stop() {
    clearInterval(this.timer);
  }

  sample() {
    const at = Date.now();
    const groups = {};
    for (const [name, g] of this.groups) {
      const pids = g.tree ? [g.pid, ...childrenOf(g.pid)] : [g.pid];
      const ticks = new Map();
      let reaped = 0;
      let rssKb = 0;
      let anonKb = 0;
      let shmemKb = 0;
      for (const pid of pids) {
        const s = readStat(pid);
        const m = readMemory(pid);
        if (!s) continue;
        ticks.set(pid, s.ticks);
        if (pid === g.pid && g.tree) reaped = s.reapedTicks;
        if (m) {
          rssKb += m.rss;
          anonKb += m.anon;
          shmemKb = Math.max(shmemKb, m.shmem);
        }
      }
      // Shared memory (PostgreSQL's buffers) shows in the RSS of every process that touched it: count it once.
      const memoryMb = (g.sharedMemory ? anonKb + shmemKb : rssKb) / 1024;
      groups[name] = { ticks, reaped, memoryMb, alive: ticks.size > 0, labels: g.tree ? new Map(g.labels) : undefined };
    }
    this.samples.push({ at, machine: machineTicks(), groups });
  }

  /** Usage between two wall-clock times: CPU in % of one core, memory average and peak in MB. */
  window(fromMs, toMs) {
    const inside = this.samples.filter((s) => s.at >= fromMs - 500 && s.at <= toMs + 500);
    if (inside.length < 2) return { seconds: 0, cpu: {}, breakdown: {}, memoryMb: {}, machineBusyPercent: null };
    const first = inside[0];
    const last = inside[inside.length - 1];
    const seconds = (last.at - first.at) / 1000;
    const cpu = {};
    const memoryMb = {};
    const breakdown = {};
    const percent = (ticks) => round((ticks / TICKS / seconds) * 100);
    for (const name of Object.keys(last.groups)) {
      const a = first.groups[name];
      const b = last.groups[name];
      let ticks = 0;
      const byLabel = new Map();
      for (const [pid, t] of b.ticks) {
        const delta = t - (a?.ticks.get(pid) ?? 0);
        ticks += delta;
        if (b.labels) {
          const label = b.labels.get(pid) ?? (pid === this.groups.get(name)?.pid ? 'postmaster' : 'unlabelled');
          byLabel.set(label, (byLabel.get(label) ?? 0) + delta);
        }
      }
      if (a) {
        ticks += b.reaped - a.reaped;
        if (b.labels) byLabel.set('exited processes', b.reaped - a.reaped);
      }
      cpu[name] = percent(ticks);
      if (b.labels) breakdown[name] = Object.fromEntries([...byLabel].filter(([, t]) => t > 0).sort((x, y) => y[1] - x[1]).map(([label, t]) => [label, percent(t)]));
      const mem = inside.map((s) => s.groups[name]?.memoryMb).filter((m) => m !== undefined && m > 0);
      memoryMb[name] = mem.length ? { avg: round(mem.reduce((x, y) => x + y, 0) / mem.length), max: round(Math.max(...mem)) } : null;
    }
    const busy = last.machine.busy - first.machine.busy;
    const total = last.machine.total - first.machine.total;
    // Busy share of the whole machine, in % of one core (so 200 = both cores busy on a 2-core machine).
    const machineBusyPercent = total > 0 ? round((busy / total) * 100 * cores()) : null;
    return { seconds: round(seconds), cpu, breakdown, memoryMb, machineBusyPercent };
  }
}

/** Busy share of the whole machine over the next `ms`, in % of one core. */
export async function machineBusyOver(ms) {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  return b.total > a.total ? round(((b.busy - a.busy) / (b.total - a.total)) * 100 * cores()) : 0;
}

let coreCount;
function cores() {
  coreCount ??= readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  return coreCount;
}

function round(x) {
  return Math.round(x * 10) / 10;
}
