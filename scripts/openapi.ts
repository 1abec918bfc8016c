// Prints the OpenAPI document the service serves at /docs/json, without a database: the
// document is built from the route schemas alone. `npm run openapi` writes it for the linters
// and for the dashboard's generated types (web/src/api/schema.d.ts).
import pino from 'pino';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createPool } from '../src/db/pool';

const config = { ...loadConfig({ ...process.env, LOG_LEVEL: 'silent' }), databaseUrl: 'postgres://unused@127.0.0.1:1/unused' };
const pool = createPool(config.databaseUrl);
const app = await buildApp({ config, pool, logger: pino({ level: 'silent' }) });
await app.ready();
process.stdout.write(`${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
await pool.end();
