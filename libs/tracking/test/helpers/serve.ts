/**
 * Runs a tracking server as its own OS process (as `vmr tracking serve` does, without loading the
 * other packages' commands). argv: <db> <port> [heartbeatTimeoutSeconds]
 */
import { startTrackingServer } from '../../src';

async function main(): Promise<void> {
  const [db, port, hb] = process.argv.slice(2);
  const server = await startTrackingServer({ db, port: Number(port), heartbeatTimeoutMs: Number(hb ?? 60) * 1000 });
  process.stdout.write(`tracking server for ${db} listening on ${server.url}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
