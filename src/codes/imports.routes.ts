import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { createHash } from 'node:crypto';
import { Transform, pipeline, type Readable } from 'node:stream';
import { transaction } from '../db/pool';
import { auditContext } from '../auth/auth.plugin';
import { conflict, invalid } from '../http/errors';
import { IdParams, Page, PageQuery, errorResponses } from '../http/schemas';
import { getList } from '../lists/lists.service';
import { bindStreamedBody } from '../http/idempotency';
import { CsvFile, ExportFile, ExportQuery, attachment, copyOut, csvSafe, exportCodes, today, withBom } from './exports';
import { Import, ImportQuery, Rejection } from './imports.schema';
import * as service from './imports.service';

const tags = ['Imports'];
const importNotFound = errorResponses('import_not_found');
// Read by content (codes/upload.ts), so any of the types a browser or client gives a
// spreadsheet or text file: Windows labels .csv files application/vnd.ms-excel.
const RAW_TYPES = [
  'text/csv',
  'text/plain',
  'text/tab-separated-values',
  'application/octet-stream',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-excel',
];

const UPLOAD_BODY = {
  description:
    'The file: CSV or text (one code per line, or a column of a table), or an .xlsx workbook; ' +
    'as the raw body or multipart',
  content: {
    'text/csv': { schema: { type: 'string', example: 'code\nSUMMER-0001\nSUMMER-0002\n' } },
    'text/plain': { schema: { type: 'string', example: 'SUMMER-0001\nSUMMER-0002\n' } },
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': {
      schema: { type: 'string', format: 'binary' },
    },
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['file'],
        properties: { file: { type: 'string', format: 'binary', description: 'the one file of the upload' } },
      },
    },
  },
};

/** The body passed through a SHA-256, read once the stream has been consumed. */
function digesting(body: Readable): { stream: Readable; hex(): string } {
  const hash = createHash('sha256');
  const through = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  // An error or early end of the body reaches the reader through `through`.
  const stream = pipeline(body, through, () => {});
  return { stream, hex: () => hash.digest('hex') };
}

export const importRoutes: FastifyPluginAsyncTypebox = async (app) => {
  // Uploads stay streams: the raw body is handed to the route unread, and multipart files too.
  app.addContentTypeParser(RAW_TYPES, (_request, payload, done) => done(null, payload));
  await app.register(multipart, { limits: { files: 1, fields: 10, fileSize: Number.MAX_SAFE_INTEGER } });

  app.post(
    '/v1/lists/:id/imports',
    {
      config: { access: 'admin', idempotency: 'streamed', documentedBody: UPLOAD_BODY },
      schema: {
        operationId: 'createImport',
        tags,
        summary: 'Upload third-party codes: a CSV or text file, or an .xlsx workbook',
        description:
          'Send the file as the raw body or as the one file of a multipart/form-data upload. Text is UTF-8 or UTF-16 ' +
          '(by BOM), separated by `,` `;` tab or `|` (sniffed, or named by a `sep=` first line). A first row naming ' +
          'a code column (code, promo code, coupon, voucher, …) is a header and that column is read; `column` picks ' +
          'one by name or number; otherwise the first column. An .xlsx is read from its first sheet by the same ' +
          'rules. Other files answer 400 unsupported_file. Answers 202; the import turns active when every row is ' +
          'processed. Rejected rows are in GET /v1/imports/{id}/report.',
        params: IdParams,
        querystring: ImportQuery,
        response: {
          202: Import,
          ...errorResponses('list_not_found', 'wrong_list_type', 'list_completed', 'unsupported_file'),
        },
      },
    },
    async (request, reply) => {
      let body: Readable;
      if (request.isMultipart()) {
        // busboy throws plain errors on a malformed upload (no boundary, bad headers): the client's fault.
        const file = await request.file().catch((error: Error) => {
          throw invalid([{ path: 'body', message: `not a readable multipart upload: ${error.message}` }]);
        });
        if (!file) throw invalid([{ path: 'body', message: 'the multipart upload has no file' }]);
        body = file.file;
      } else if (RAW_TYPES.some((type) => request.headers['content-type']?.toLowerCase().startsWith(type))) {
        body = request.body as Readable;
      } else {
        throw invalid([
          { path: 'headers.content-type', message: `send ${RAW_TYPES.join(', ')} or multipart/form-data` },
        ]);
      }
      // A keyed upload binds its key to the digest of the bytes it sent (http/idempotency.ts).
      const digest = request.headers['idempotency-key'] !== undefined && !body.destroyed ? digesting(body) : null;
      try {
        const created = await transaction(app.pool, async (tx) => {
          const created = await service.createImport(
            tx,
            auditContext(request),
            request.params.id,
            request.query,
            digest?.stream ?? body,
            app.config.maxCodesPerRequest,
          );
          if (digest) await bindStreamedBody(digest.hex());
          return created;
        });
        reply.status(202);
        return created;
      } catch (error) {
        // Refused before the whole file arrived: the rest of it is not read, so the connection
        // is closed after the answer rather than left waiting for a body nobody takes.
        if (!body.readableEnded) reply.header('connection', 'close');
        throw error;
      }
    },
  );

  app.get(
    '/v1/lists/:id/imports',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listImports',
        tags,
        summary: "A list's imports, newest first",
        params: IdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Import), ...errorResponses('list_not_found') },
      },
    },
    async (request) => service.listImports(app.pool, request.params.id, request.query),
  );

  app.get(
    '/v1/imports/:id',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'getImport',
        tags,
        summary: 'An import with its counts',
        params: IdParams,
        response: { 200: Import, ...importNotFound },
      },
    },
    async (request) => service.getImport(app.pool, request.params.id),
  );

  app.get(
    '/v1/imports/:id/rejections',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'listImportRejections',
        tags,
        summary:
          "An import's rejected rows, in file order: reason, an invalid row's problem, the line a duplicate repeats",
        params: IdParams,
        querystring: Type.Object(PageQuery, { additionalProperties: false }),
        response: { 200: Page(Rejection), ...importNotFound },
      },
    },
    async (request) => service.listRejections(app.pool, request.params.id, request.query),
  );

  app.get(
    '/v1/imports/:id/report',
    {
      config: { access: 'agent' },
      schema: {
        operationId: 'getImportReport',
        tags,
        summary:
          'The rejected rows of an import as CSV: line, value, reason (duplicate, invalid, code_taken), ' +
          'detail, repeats_line',
        params: IdParams,
        response: {
          200: CsvFile(
            'The rejected rows as CSV (UTF-8 with BOM)',
            'line,value,reason,detail,repeats_line\r\n7,SUMMER-01,duplicate,,3\r\n',
          ),
          ...importNotFound,
        },
      },
    },
    async (request, reply) => {
      const found = await service.getImport(app.pool, request.params.id);
      const id = BigInt(found.id).toString();
      const list = await getList(app.pool, found.list_id);
      attachment(reply, [list.name, `import-${found.name ?? found.id}`, 'rejected-rows', today()], 'csv');
      const stream = await copyOut(
        app.pool,
        `SELECT line, ${csvSafe('value')} AS value, reason, detail, repeats_line
           FROM import_rejections WHERE import_id = ${id} ORDER BY line`,
        'FORMAT csv, HEADER true',
      );
      return reply.send(withBom(stream));
    },
  );

  app.get(
    '/v1/imports/:id/export',
    {
      config: { access: 'admin' },
      schema: {
        operationId: 'exportImport',
        tags,
        summary: "Download an import's accepted codes as .csv or .xlsx (streamed)",
        params: IdParams,
        querystring: ExportQuery,
        response: { 200: ExportFile, ...errorResponses('import_not_found', 'import_not_ready') },
      },
    },
    async (request, reply) => {
      const found = await service.getImport(app.pool, request.params.id);
      if (found.status !== 'active')
        throw conflict('import_not_ready', `the import is ${found.status}; it can be exported once active`);
      const format = request.query.format ?? 'csv';
      const list = await getList(app.pool, found.list_id);
      attachment(reply, [list.name, `import-${found.name ?? found.id}`, today()], format);
      const stream = await exportCodes(
        app.pool,
        { listId: found.list_id, sourceId: found.id, sourceLabel: 'import' },
        format,
      );
      return reply.send(stream);
    },
  );
};
