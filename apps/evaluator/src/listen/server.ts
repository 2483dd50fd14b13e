import { createHash, timingSafeEqual } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { ConflictError, InvalidArgumentError, NotFoundError, VmrError, createProgress, errorMessage } from '@vmr/core';
import { muxPreview } from '../retrieve/previews';
import { listenPageHtml } from './page';
import { checkRater, type ListeningSession } from './session';

export interface ListenServerOptions {
  session: ListeningSession;
  /** Address to bind (default 127.0.0.1); anything but loopback requires a token. */
  host?: string;
  /** Port (0 = a free one). */
  port?: number;
  /** Token every request must carry (`Authorization: Bearer …` or `?token=`). */
  token?: string;
  /** Previews are written to `<cacheDir>/previews/`. */
  cacheDir: string;
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface ListenServer {
  url: string;
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** Refuse a non-loopback address without a token (as `vmr tracking serve`). */
export function checkListenBind(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token) {
    throw new InvalidArgumentError(`refusing to bind ${host} without a token: anyone who can reach it could submit judgments; pass --token (or VMR_LISTEN_TOKEN) or bind 127.0.0.1`);
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function statusOf(e: unknown): number {
  if (e instanceof HttpError) return e.status;
  if (e instanceof ConflictError) return 409;
  if (e instanceof NotFoundError) return 404;
  if (e instanceof InvalidArgumentError) return 400;
  if (e instanceof VmrError && e.code === 'INVALID_CONFIG') return 400;
  return 500;
}

/** Preview file of an item's candidate: the item's video muxed with the candidate's track. */
function previewPath(cacheDir: string, galleryPath: string, video: string, track: string, durationSec: number): string {
  const key = createHash('sha256').update(`${galleryPath}|${video}|${track}|${durationSec}`).digest('hex').slice(0, 32);
  return path.join(cacheDir, 'previews', `${key}.mp4`);
}

/** Write every preview of the test (cached across runs of the server). */
export async function preparePreviews(session: ListeningSession, cacheDir: string, quiet = false): Promise<void> {
  const t = session.test;
  const total = t.items.reduce((s, i) => s + i.candidates.length, 0);
  const bar = createProgress({ label: 'listen: previews', total, unit: 'previews', quiet });
  try {
    for (const it of t.items) {
      for (const c of it.candidates) {
        const out = previewPath(cacheDir, t.gallery.path, it.video, c.track, it.durationSec);
        if (!fs.existsSync(out)) await muxPreview({ video: it.source, track: c.source, out });
        bar.tick(1);
      }
    }
  } finally {
    bar.stop();
  }
}

/**
 * The blind listening-test web app: `/` the page, `/api/state?rater=` a rater's progress and next item
 * (candidates as anonymous slots), `POST /api/judgments` one judgment (stored before the reply),
 * `/media/<item>/<slot>?rater=` the preview for that slot in the rater's order (Range requests served).
 * With a token, every request without it gets 401 and changes nothing.
 */
export async function startListenServer(o: ListenServerOptions): Promise<ListenServer> {
  const host = o.host ?? '127.0.0.1';
  checkListenBind(host, o.token);
  const s = o.session;
  const t = s.test;
  const page = listenPageHtml({ truth: t.truth });

  const authorised = (req: http.IncomingMessage, url: URL): boolean => {
    if (!o.token) return true;
    const auth = req.headers.authorization ?? '';
    const given = auth.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? '');
    const a = Buffer.from(given);
    const b = Buffer.from(o.token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': data.length, 'Cache-Control': 'no-store' });
    res.end(data);
  };

  const readBody = (req: http.IncomingMessage): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      let size = 0;
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 16_384) {
          reject(new HttpError(413, 'request body over 16 KiB'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        try {
          const v = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as unknown;
          if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
          resolve(v as Record<string, unknown>);
        } catch {
          reject(new HttpError(400, 'body must be a JSON object'));
        }
      });
      req.on('error', reject);
    });

  const state = async (rater: string) => {
    const done = await s.judgments(rater);
    const doneItems = new Set(done.map((j) => j.item));
    const next = t.items.find((i) => !doneItems.has(i.index));
    return {
      rater,
      total: t.items.length,
      done: doneItems.size,
      next: next
        ? {
            index: next.index,
            position: doneItems.size + 1,
            candidates: s.shownOrder(rater, next.index).map((_, slot) => ({ slot, label: String(slot + 1), src: `media/${next.index}/${slot}?rater=${encodeURIComponent(rater)}` })),
          }
        : null,
    };
  };

  const serveMedia = (req: http.IncomingMessage, res: http.ServerResponse, item: number, slot: number, rater: string) => {
    const it = t.items[item];
    if (!it) throw new NotFoundError(`item ${item} does not exist`);
    const order = s.shownOrder(rater, item);
    if (!Number.isInteger(slot) || slot < 0 || slot >= order.length) throw new NotFoundError(`slot ${slot} does not exist`);
    const c = it.candidates[order[slot]];
    const file = previewPath(o.cacheDir, t.gallery.path, it.video, c.track, it.durationSec);
    const size = fs.statSync(file).size;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    const headers = { 'Content-Type': 'video/mp4', 'Accept-Ranges': 'bytes', 'Cache-Control': 'no-store' };
    if (range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { 'Content-Range': `bytes */${size}` });
        res.end();
        return;
      }
      res.writeHead(206, { ...headers, 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1 });
      fs.createReadStream(file, { start, end }).pipe(res);
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Length': size });
    fs.createReadStream(file).pipe(res);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (!authorised(req, url)) throw new HttpError(401, 'missing or wrong token');
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
        const data = Buffer.from(page);
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': data.length, 'Cache-Control': 'no-store' });
        res.end(data);
        return;
      }
      if (req.method === 'GET' && url.pathname === '/api/state') {
        json(res, 200, await state(checkRater(url.searchParams.get('rater'))));
        return;
      }
      if (req.method === 'POST' && url.pathname === '/api/judgments') {
        const body = await readBody(req);
        const j = await s.submit(body.rater, body.item, body.choice, body.rating);
        o.log?.(`judgment: rater ${j.rater} item ${j.item} slot ${j.choice}`);
        json(res, 201, { stored: true, item: j.item, ...(await state(j.rater)) });
        return;
      }
      const m = /^\/media\/(\d+)\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && m) {
        serveMedia(req, res, Number(m[1]), Number(m[2]), checkRater(url.searchParams.get('rater')));
        return;
      }
      throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
    } catch (e) {
      const status = statusOf(e);
      if (status === 500) o.log?.(`error: ${errorMessage(e)}`);
      if (!res.headersSent) json(res, status, { error: errorMessage(e) });
      else res.destroy();
    }
  };

  const server = http.createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 5050, host, () => resolve());
  });
  const hb = setInterval(() => void s.heartbeat().catch(() => undefined), 15_000);
  hb.unref();
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(hb);
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
