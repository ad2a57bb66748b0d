/**
 * The HTTP side: the JSON API over labs (a Bearer token, or a signed URL for a download), the
 * bundled examples, and the built web app (served without the token: the page reads the token
 * from its one-time `?token=` address and keeps it in sessionStorage, see auth.ts). Errors are
 * JSON `{error, problems?}`.
 */
import express from 'express';
import type { NextFunction, Request, Response } from 'express';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { exportScript, MAX_MESSAGE_BYTES, nameProblem, toYaml } from '@nslab/model';
import { historyProblem, type HistoryStore, type LabHistory } from '../history';
import type { LabFeed } from '../live/feed';
import { LabError, LabService } from '../labs';
import type { HostPolicy } from './auth';
import { bearerToken, signatureValid, signPath, tokenMatches } from './auth';

/** What the HTTP app needs. */
export interface ApiDeps {
  token: string;
  hosts: HostPolicy;
  labs: LabService;
  feed: LabFeed;
  /** Each lab's command log and undo history, as the page last sent them. */
  history: HistoryStore;
  webDir: string;
  version: string;
  /** Extra routes (terminals, captures) mounted after auth. */
  extend?: (app: express.Express) => void;
}

/** The paths a signed URL may open: downloads only, never a change. */
const SIGNABLE = /^\/api\/labs\/[a-z0-9-]{1,24}\/(?:pcap|export)$/;

const STATUS: Record<LabError['code'], number> = { invalid: 400, 'not-found': 404, conflict: 409, kernel: 500 };

/** Builds the express app. */
export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  // DNS rebinding: a page on another name that resolves here must not reach the API.
  app.use((req, res, next) => {
    if (!deps.hosts.hostAllowed(req.headers.host)) {
      res.status(403).json({ error: `host "${req.headers.host ?? ''}" is not this server's name; open the URL nslab printed` });
      return;
    }
    next();
  });

  // The API needs the token; a download link may carry a signature made with it instead (signed URLs).
  app.use('/api', (req, res, next) => {
    if (tokenMatches(bearerToken(req), deps.token)) return next();
    if (req.method === 'GET' && SIGNABLE.test(`${req.baseUrl}${req.path}`) && signatureValid(deps.token, req)) return next();
    res.status(401).json({ error: 'the token was refused: open the URL printed by nslab serve, or send Authorization: Bearer TOKEN' });
  });

  app.use('/api', express.json({ limit: MAX_MESSAGE_BYTES }), express.text({ type: ['application/yaml', 'application/x-yaml', 'text/*'], limit: MAX_MESSAGE_BYTES }));

  // A short-lived URL for a download that a plain link fetches (the browser sends no header with it).
  app.post('/api/signed-url', (req, res) => {
    const path = (req.body as { path?: unknown } | undefined)?.path;
    const pathname = typeof path === 'string' && path.startsWith('/') && !path.startsWith('//') ? path.split('?')[0] ?? '' : '';
    if (!SIGNABLE.test(pathname)) {
      res.status(400).json({ error: 'only a download path (/api/labs/LAB/pcap or /api/labs/LAB/export, with its query) can be signed' });
      return;
    }
    res.json({ url: signPath(deps.token, path as string) });
  });

  app.get('/api/version', (_req, res) => { res.json({ server: deps.version }); });
  app.get('/api/labs', (_req, res) => { res.json({ labs: deps.feed.labs().map((l) => ({ name: l.name, nodes: l.nodes.length })) }); });
  app.get('/api/examples', async (_req, res, next) => {
    try { res.json({ examples: await deps.labs.examples() }); } catch (e) { next(e); }
  });
  app.get('/api/labs/:lab', async (req, res, next) => {
    try { res.json(await deps.labs.get(req.params.lab)); } catch (e) { next(e); }
  });
  app.get('/api/labs/:lab/export', async (req, res, next) => {
    try {
      const topology = await deps.labs.get(req.params.lab);
      const format = req.query['format'] ?? 'yaml';
      if (format === 'script') res.type('text/x-shellscript').attachment(`${topology.name}.sh`).send(exportScript(topology));
      else if (format === 'yaml') res.type('application/yaml').attachment(`${topology.name}.yaml`).send(toYaml(topology, await deps.labs.meta(topology.name)));
      else throw new LabError('invalid', `format must be yaml or script, not "${String(format)}"`);
    } catch (e) { next(e); }
  });
  app.put('/api/labs/:lab', async (req, res, next) => {
    try {
      const body: unknown = req.body;
      if (body === undefined || (typeof body === 'object' && body !== null && Object.keys(body).length === 0 && typeof body !== 'string')) {
        throw new LabError('invalid', 'send the topology as the body (Content-Type: application/yaml or application/json)');
      }
      const dryRun = req.query['dryRun'] === '1' || req.query['dryRun'] === 'true';
      const result = await deps.labs.apply(body, { dryRun, expectName: req.params.lab });
      // Listed again before answering, so that a GET /api/labs after this answer sees the change.
      if (!dryRun) await deps.feed.refreshLabs().catch(() => undefined);
      res.json({ lab: result.lab, dryRun, ran: result.ran, ops: result.ops, warnings: result.warnings });
    } catch (e) { next(e); }
  });
  app.delete('/api/labs/:lab', async (req, res, next) => {
    try {
      const removed = await deps.labs.destroy(req.params.lab);
      await deps.feed.refreshLabs().catch(() => undefined); // as after PUT: the answer comes after the list has changed
      res.json({ lab: req.params.lab, removed });
    } catch (e) { next(e); }
  });

  // The page's command log and undo history of a lab (history.ts): kept here so a reload keeps them.
  app.get('/api/labs/:lab/history', (req, res, next) => {
    try {
      const problem = nameProblem(req.params.lab, 'lab');
      if (problem) throw new LabError('invalid', problem);
      res.json(deps.history.get(req.params.lab));
    } catch (e) { next(e); }
  });
  app.put('/api/labs/:lab/history', (req, res, next) => {
    try {
      const lab = req.params.lab;
      const problem = nameProblem(lab, 'lab') ?? historyProblem(lab, req.body);
      if (problem) throw new LabError('invalid', problem);
      deps.history.set(lab, req.body as LabHistory);
      res.status(204).end();
    } catch (e) { next(e); }
  });

  deps.extend?.(app);

  app.use('/api', (_req, res) => { res.status(404).json({ error: 'no such API endpoint' }); });

  // The page itself is public (it holds no secret); it must not leak its `?token=` address as a Referer.
  app.use((_req, res, next) => {
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  });
  if (existsSync(join(deps.webDir, 'index.html'))) {
    app.use(express.static(deps.webDir, { index: 'index.html' }));
    app.get(/^\/(?!api\/|ws).*/, (_req, res) => { res.sendFile(join(deps.webDir, 'index.html')); });
  } else {
    app.get('/', (_req, res) => { res.type('html').send('<!doctype html><title>nslab</title><p>The web app is not built: run <code>npm run build</code>, then reload.</p>'); });
  }

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof LabError) {
      res.status(STATUS[err.code]).json({ error: err.message, ...(err.problems ? { problems: err.problems } : {}), ...(err.op ? { op: err.op } : {}), ...(err.stderr ? { stderr: err.stderr } : {}) });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e.type === 'entity.too.large') { res.status(413).json({ error: `the body is larger than ${MAX_MESSAGE_BYTES} bytes` }); return; }
    if (e.type === 'entity.parse.failed') { res.status(400).json({ error: `the body is not valid JSON: ${e.message ?? ''}` }); return; }
    // A malformed request (a path that does not decode, say) is the client's error, said as such.
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) { res.status(e.status).json({ error: `the request is malformed: ${e.message ?? ''}` }); return; }
    res.status(500).json({ error: e.message ?? 'internal error' });
  });
  return app;
}
