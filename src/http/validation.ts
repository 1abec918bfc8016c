// Request validation: bodies are checked strictly (no type coercion, unknown fields rejected);
// path and query values arrive as text, so they are coerced to the schema's types.
import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { timestampProblem } from './timestamps';

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    strict: false,
    // Errors carry the value, so that a timestamp's error can say what is wrong with it.
    verbose: true,
    ...options,
  });
  addFormats.default(ajv);
  // ajv-formats' date-time takes leap seconds and the year 0001; the service's own reader
  // decides instead, so that the schema and the services agree (http/timestamps.ts).
  ajv.addFormat('date-time', { type: 'string', validate: (text: string) => timestampProblem(text) === null });
  return ajv;
}

const strict = makeAjv({ coerceTypes: false });
const coercing = makeAjv({ coerceTypes: 'array' });

/** `must match format "date-time"`, said as what is wrong with the timestamp. */
function explained(error: ErrorObject): ErrorObject {
  if (error.keyword !== 'format' || error.params.format !== 'date-time' || typeof error.data !== 'string') return error;
  return { ...error, message: timestampProblem(error.data) ?? error.message };
}

export const validatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, httpPart }) => {
  const validate = (httpPart === 'body' ? strict : coercing).compile(schema as object);
  // Fastify reads `.errors` off the function it was given once it returns false.
  const check = Object.assign(
    (data: unknown) => {
      const ok = validate(data) as boolean;
      check.errors = ok ? null : (validate.errors ?? []).map(explained);
      return ok;
    },
    { errors: null as ErrorObject[] | null },
  );
  return check as ReturnType<FastifySchemaCompiler<unknown>>;
};
