/**
 * HTTP routes of the live parts: terminals (open, list, close) and .pcap downloads
 * of running captures. Mounted after the token check.
 */
import express from 'express';
import type { Request, Response, NextFunction } from 'express';
import { ifnameProblem, MAX_MESSAGE_BYTES, nameProblem } from '@nslab/model';
import type { PacketService } from '../packets/service';
import type { TerminalManager } from '../terminal/index';
import { TerminalError } from '../terminal/index';
import type { Classroom } from '../classroom/classroom';
import { QuotaError } from '../classroom/classroom';
import { CgroupError } from '../classroom/cgroups';
import { kernelLab, ownLab, ownText, principalOf } from '../classroom/scope';
import { LabError } from '../labs/service';

/** HTTP status of each terminal error (see terminal/manager.ts). */
const TERMINAL_STATUS: Record<TerminalError['code'], number> = {
  'bad-name': 400, 'not-found': 404, 'no-namespace': 404, 'no-host-node': 404, limit: 429, 'not-contained': 409, closed: 503, command: 500, spawn: 500,
};

function checkName(value: string, what: 'lab' | 'node', res: Response): boolean {
  const problem = nameProblem(value, what);
  if (problem) res.status(400).json({ error: problem });
  return !problem;
}

/** The kernel's name of the lab the request's principal named, or undefined with a 400 (or 404) sent. */
function labOf(req: Request, res: Response): string | undefined {
  try {
    return kernelLab(principalOf(res.locals), param(req, 'lab'));
  } catch (err) {
    if (!(err instanceof LabError)) throw err;
    // A lab not the principal's (a viewer's other lab) is 404; a wrong name 400.
    res.status(err.code === 'not-found' ? 404 : 400).json({ error: err.message });
    return undefined;
  }
}

/** A route parameter as one string. */
function param(req: Request, name: string): string {
  const v = req.params[name];
  return typeof v === 'string' ? v : '';
}

function seconds(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** Adds the terminal and capture routes. */
export function mountLiveRoutes(app: express.Express, terminals: TerminalManager, packets: PacketService, classroom?: Classroom): void {
  const json = express.json({ limit: MAX_MESSAGE_BYTES });

  app.post('/api/labs/:lab/terminals', json, async (req: Request, res: Response, next: NextFunction) => {
    try {
      const lab = labOf(req, res);
      const body = (req.body ?? {}) as { node?: unknown; cols?: unknown; rows?: unknown };
      const node = typeof body.node === 'string' ? body.node : '';
      if (lab === undefined || !checkName(node, 'node', res)) return;
      const principal = principalOf(res.locals);
      classroom?.admitTerminal(principal);
      // A trainee's shell joins the trainee's cgroups before it runs; the instructor's has no limits.
      const cgroupProcs = classroom?.shellCgroups(principal) ?? [];
      // And runs contained in the trainee's user, pid, mount and cgroup namespaces (classroom/contain.ts).
      const user = classroom?.shellUser(principal);
      const size = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);
      const cols = size(body.cols);
      const rows = size(body.rows);
      const opened = await terminals.open({ lab, node, ...(cols ? { cols } : {}), ...(rows ? { rows } : {}), ...(cgroupProcs.length > 0 ? { cgroupProcs } : {}), ...(user ? { user } : {}) });
      res.status(201).json(opened);
    } catch (err) {
      if (err instanceof TerminalError) res.status(TERMINAL_STATUS[err.code]).json({ error: ownText(principalOf(res.locals), err.message), code: err.code });
      else if (err instanceof QuotaError) res.status(429).json({ error: err.message, code: 'limit' });
      else if (err instanceof CgroupError) res.status(500).json({ error: `${err.message}: the terminal was not opened, tell the instructor`, code: 'spawn' });
      else next(err);
    }
  });

  app.get('/api/labs/:lab/terminals', (req, res) => {
    const lab = labOf(req, res);
    if (lab !== undefined) res.json({ terminals: terminals.list(lab).map((t) => ({ ...t, lab: param(req, 'lab') })) });
  });

  app.delete('/api/terminals/:id', async (req, res, next) => {
    try {
      // Another trainee's terminal is as unknown as one that never was.
      const id = param(req, 'id');
      const lab = terminals.get(id)?.identity.lab;
      if (lab !== undefined && ownLab(principalOf(res.locals), lab) === undefined) {
        res.status(404).json({ error: `there is no terminal ${id}`, code: 'not-found' });
        return;
      }
      await terminals.close(id);
      res.status(204).end();
    } catch (err) {
      if (err instanceof TerminalError) res.status(TERMINAL_STATUS[err.code]).json({ error: err.message, code: err.code });
      else next(err);
    }
  });

  app.get('/api/labs/:lab/pcap', (req, res) => {
    const lab = labOf(req, res);
    const node = typeof req.query['node'] === 'string' ? req.query['node'] : '';
    if (lab === undefined || !checkName(node, 'node', res)) return;
    const iface = typeof req.query['iface'] === 'string' && req.query['iface'] !== '' ? req.query['iface'] : undefined;
    if (iface !== undefined && ifnameProblem(iface)) {
      res.status(400).json({ error: ifnameProblem(iface) });
      return;
    }
    const since = seconds(req.query['since']);
    const until = seconds(req.query['until']);
    // pcapng by default: it names each packet's interface; .pcap for tools that want the classic format.
    const format = req.query['format'] ?? 'pcapng';
    if (format !== 'pcapng' && format !== 'pcap') {
      res.status(400).json({ error: 'format must be pcapng (with interface names) or pcap' });
      return;
    }
    const bytes = packets.exportPcap(lab, node, { ...(iface ? { iface } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}) }, format);
    if (!bytes) {
      res.status(404).json({ error: `nothing is being captured in ${lab}:${node}: open the packet view of the lab first, then download` });
      return;
    }
    const type = format === 'pcapng' ? 'application/x-pcapng' : 'application/vnd.tcpdump.pcap';
    res.type(type).attachment(`${lab}-${node}${iface ? `-${iface}` : ''}.${format}`).send(Buffer.from(bytes));
  });
}
