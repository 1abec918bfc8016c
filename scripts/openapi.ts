// Writes the OpenAPI document the service serves at /docs/json to a file (default
// build/openapi.json), without a database: the document is built from the route schemas alone,
// with the default settings so that it does not depend on who runs it (PUBLIC_URL aside, which
// only fills `servers`). `npm run lint:api` lints it and checks web/src/api/schema.d.ts against it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { buildApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createPool } from '../src/db/pool';

const out = path.resolve(process.argv[2] ?? 'build/openapi.json');
const databaseUrl = 'postgres://unused@127.0.0.1:1/unused'; // never connected to
const config = { ...loadConfig({ PUBLIC_URL: process.env.PUBLIC_URL, LOG_LEVEL: 'silent' }), databaseUrl };
const pool = createPool(databaseUrl);
const app = await buildApp({ config, pool, logger: pino({ level: 'silent' }) });
await app.ready();
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, `${JSON.stringify(app.swagger(), null, 2)}\n`);
await app.close();
await pool.end();
